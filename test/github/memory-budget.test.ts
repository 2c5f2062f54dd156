// A job's memory budget: a fork pull request whose tarball expands to 200 files of 1 MiB (one git blob, a push of a
// few KB) must not kill the app. Run as the app runs, under a V8 heap limit inside the deployment's container limit,
// with the process's measured peak RSS.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MAX_FILE_BYTES } from "../../src/policy/read/manifests.js";
import { hasDist, hasProcStatus, MAX_OLD_SPACE_MIB, spawnLimited, trackPeakRss } from "../helpers/memory.js";

const FILES = 200;

/** One 1 MiB manifest: a ConfigMap of many short entries, about the costliest YAML per byte a real repository has. */
function oneMiBManifest(): string {
  const head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: padding\ndata:\n";
  const lines: string[] = [head];
  let size = head.length;
  for (let i = 0; size < MAX_FILE_BYTES - 32; i++) {
    const line = `  k${i}: v${i}\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join("");
}

describe.runIf(hasProcStatus() && hasDist())("200 files of 1 MiB in a pull request's tarball", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpb-budget-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const root = "acme-gitops-abc1234";
  mkdirSync(join(dir, root, "pad"), { recursive: true });
  const content = oneMiBManifest();
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, root, "pad", `f${i}.yaml`), content);
  writeFileSync(
    join(dir, root, "policy.yaml"),
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  endpointSelector: {}\n",
  );
  execFileSync("tar", ["-czf", "repo.tar.gz", root], { cwd: dir });

  async function run(budgetMib: number | undefined) {
    const child = spawnLimited(
      ["test/helpers/snapshot-memory.mjs", join(dir, "repo.tar.gz")],
      budgetMib === undefined ? {} : { SNAPSHOT_BUDGET_MIB: String(budgetMib) },
    );
    const tracker = trackPeakRss(child.child.pid!, 20);
    const exit = await child.exited;
    return { exit, peak: tracker.peakMib(), output: child.output() };
  }

  test("the job reads within its budget, says how many files it did not check, and is not killed", async () => {
    const { exit, peak, output } = await run(undefined); // the default budget
    process.stdout.write(`[figure] 200 x 1 MiB tarball, 64 MiB budget: peak RSS ${peak.toFixed(0)} MiB\n`);
    expect(exit).toEqual({ code: 0, signal: null });
    const result = JSON.parse(output.trim().split("\n").at(-1)!);
    expect(result.files).toBe(FILES + 1);
    expect(result.read).toBeLessThan(FILES);
    expect(result.read).toBeGreaterThan(50);
    expect(result.skipped).toBe(FILES + 1 - result.read); // each file not read is a finding, not silence
    // Files past the budget are looked through: only the policy, if it was among them, is "could not be checked".
    expect(result.notChecked).toBe(result.policyUnread ? 1 : 0);
    expect(peak).toBeLessThan(MAX_OLD_SPACE_MIB);
  }, 120_000);
});
