// A real scan of the report fixtures with rules of the tests' own, so that snapshots do not move when the
// registry's rules change their wording.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { isMap, isSeq } from "yaml";
import { DEFAULT_CONFIG } from "../../src/policy/config.js";
import { analyse } from "../../src/policy/api.js";
import type { Analysis } from "../../src/policy/api.js";
import { rulesOf } from "../../src/policy/read/policy.js";
import type { FileRule, PolicyRule, Rule } from "../../src/policy/rules/rule.js";
import { source } from "../helpers/sources.js";

export const FIXTURES_DIR = fileURLToPath(new URL("./fixtures", import.meta.url));

export const parseOutcome: FileRule = {
  meta: { id: "fixture-parse", defaultSeverity: "info", description: "Parse outcome of a file.", fixable: false },
  scope: "file",
  check({ file, report }) {
    if (file.templated) report({ at: { line: 1, column: 1 }, message: "Go template: not checked" });
    for (const problem of file.problems) {
      report({ at: problem.position, severity: "error", message: `invalid YAML: ${problem.message}` });
    }
  },
};

export const toServicesToPorts: PolicyRule = {
  meta: {
    id: "fixture-to-services",
    defaultSeverity: "error",
    description: "toServices combined with toPorts.",
    fixable: true,
  },
  scope: "policy",
  check({ policy, report, rewriteOf }) {
    for (const rule of rulesOf(policy, ["egress"])) {
      const toServices = rule.node.items.find((pair) => isMap(rule.node) && String(pair.key) === "toServices");
      const toPorts = rule.node.get("toPorts", true);
      if (toServices && isSeq(toPorts)) {
        report({
          at: toServices,
          message: `\`toServices\` with \`toPorts\` in ${rule.direction}[${rule.index}] | rejected by <Cilium> 1.14`,
          fix: rewriteOf(rule).fix ?? "manual",
        });
      }
    }
  },
};

export const FIXTURE_RULES: readonly Rule[] = [parseOutcome, toServicesToPorts];

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

export async function scanFixtures(): Promise<Analysis> {
  const files = walk(FIXTURES_DIR)
    .map((path) => source(relative(FIXTURES_DIR, path).split("\\").join("/"), readFileSync(path)))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  return await analyse(files, { config: DEFAULT_CONFIG, rules: FIXTURE_RULES });
}
