// Material from outside the repository (../shared, redis-server, kubectl, helm): tests that need it skip with a
// visible notice on a user's clone, and fail under CI=true, where .ci/run provides it.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SHARED_DIR = resolve(PROJECT_ROOT, "../shared");
export const CILIUM_EXAMPLES_DIR = resolve(SHARED_DIR, "cilium/examples");
export const CILIUM_SCHEMAS_DIR = resolve(SHARED_DIR, "cilium/schemas");
export const SHARED_CHARTS_DIR = resolve(SHARED_DIR, "charts");
/** The helm the tests run: HELM_BIN (set by .ci/run from scripts/install-helm.sh), else `helm` on PATH. */
export const HELM_BIN = process.env.HELM_BIN || "helm";

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

export function hasHelm(): boolean {
  return available(
    `helm (HELM_BIN or on PATH; scripts/install-helm.sh installs it)`,
    hasCommand(HELM_BIN, ["version"]),
  );
}

export function hasSharedCharts(): boolean {
  return available(`../shared/charts (expected at ${SHARED_CHARTS_DIR})`, existsSync(SHARED_CHARTS_DIR));
}

export function hasCommand(command: string, args: string[] = ["--help"]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
