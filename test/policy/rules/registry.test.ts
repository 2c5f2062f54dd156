// The registry's contract: stable kebab-case ids, each documented in the README's rules section under its own anchor.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../../../src/policy/rules/index.js";
import { PROJECT_ROOT } from "../../helpers/external.js";

const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
const rulesSection = /<!-- section:rules -->([\s\S]*?)<!-- \/section:rules -->/.exec(readme)?.[1] ?? "";

describe("the rule registry", () => {
  it("has unique kebab-case ids and one-line descriptions", () => {
    const ids = RULES.map((rule) => rule.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of RULES) {
      expect(rule.meta.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.meta.description).not.toContain("\n");
      expect(rule.meta.description.length).toBeGreaterThan(20);
    }
  });

  it("documents every rule in the README under a heading that is its anchor, with its table row", () => {
    expect(rulesSection).not.toBe("");
    for (const { meta } of RULES) {
      expect(rulesSection).toContain(`\n### ${meta.id}\n`);
      const row = rulesSection.split("\n").find((line) => line.startsWith(`| [${meta.id}](#${meta.id}) |`));
      expect(row, meta.id).toMatch(
        new RegExp(`^\\| \\S+ \\| ${meta.defaultSeverity}\\b.*\\| ${meta.fixable ? "yes" : "no"} \\|$`),
      );
    }
  });

  it("lists the rules the issue requires", () => {
    const ids = RULES.map((rule) => rule.meta.id);
    for (const required of [
      "to-services-with-to-ports",
      "to-services-selector-backed",
      "combined-peer-types",
      "endpoints-missing-namespace",
      "to-fqdns-without-dns-rule",
      "requires-deprecated",
      "invalid-port",
      "invalid-yaml",
      "templated-file",
      "skipped-file",
    ]) {
      expect(ids).toContain(required);
    }
  });
});
