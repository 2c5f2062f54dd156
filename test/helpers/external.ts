// Material from outside the repository (../shared, redis-server, kubectl): tests that need it skip with a
// visible notice on a user's clone, and fail under CI=true, where .ci/run provides it.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SHARED_DIR = resolve(PROJECT_ROOT, "../shared");
export const CILIUM_EXAMPLES_DIR = resolve(SHARED_DIR, "cilium/examples");
export const CILIUM_SCHEMAS_DIR = resolve(SHARED_DIR, "cilium/schemas");

const inCI = process.env.CI === "true";

/**
 * Returns whether `what` is available. When it is not: under CI this throws (the run must fail), otherwise it
 * prints a notice and the caller skips (`describe.skipIf(!available(...))`).
 */
export function available(what: string, present: boolean): boolean {
  if (present) return true;
  const message = `${what} is not available`;
  if (inCI) throw new Error(`${message}, but CI=true: .ci/run must provide it`);
  process.stderr.write(`\n[notice] ${message}: skipping the tests that need it\n`);
  return false;
}

export function hasShared(): boolean {
  return available(`../shared/cilium (expected at ${SHARED_DIR})`, existsSync(CILIUM_EXAMPLES_DIR));
}

export function hasCommand(command: string, args: string[] = ["--help"]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
