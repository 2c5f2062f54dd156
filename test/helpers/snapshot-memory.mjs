// Child process of test/github/memory-budget.test.ts (run under --max-old-space-size, from dist/): reads a tarball
// as a job does (readSnapshot, within SNAPSHOT_BUDGET_MIB) and scans it with the engine, then prints one JSON line.
import { readFileSync } from "node:fs";
import { readSnapshot } from "../../dist/github/snapshot.js";
import { analyse, resolveConfig } from "../../dist/policy/api.js";

const archive = readFileSync(process.argv[2]);
const octokit = { request: async () => ({ data: archive }) };
const sources = await readSnapshot(octokit, { owner: "acme", repo: "gitops" }, "abc1234");
const result = await analyse(sources, { config: resolveConfig({}) });
const skipped = result.findings.filter((f) => f.ruleId === "skipped-file");
process.stdout.write(
  `${JSON.stringify({
    files: sources.length,
    read: sources.filter((s) => s.content !== null).length,
    skipped: skipped.length,
    notChecked: skipped.filter((f) => f.severity !== "info").length,
    policyUnread: sources.find((s) => s.path === "policy.yaml")?.content === null,
    findings: result.findings.length,
  })}\n`,
);
