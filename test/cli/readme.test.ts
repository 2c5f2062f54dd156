// The README documents the configuration (its example must be valid and name every key there is), the JSON contract
// and every rule of the registry (a section each, and a table row with its default severity and whether it fixes).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_SCHEMA, parseConfig } from "../../src/policy/config.js";
import { INTERNAL_ERROR, RULES } from "../../src/policy/rules/index.js";
import { PROJECT_ROOT } from "../helpers/external.js";

const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
const section = (name: string) =>
  readme.split(`<!-- section:${name} -->`)[1]?.split(`<!-- /section:${name} -->`)[0] ?? "";

describe("README configuration section", () => {
  const text = section("configuration");
  const example = /```yaml\n([\s\S]*?)```/.exec(text)?.[1] ?? "";

  it("shows a configuration that parses, using every key", () => {
    const config = parseConfig(example);
    for (const key of Object.keys(CONFIG_SCHEMA.properties)) {
      expect(example).toMatch(new RegExp(`^${key}:`, "m"));
      expect(text).toContain(`| \`${key}`);
    }
    expect(config.services["vault/cluster-vault"]?.selector).toEqual({
      "app.kubernetes.io/name": "vault",
      component: "server",
    });
  });
});

describe("README command line section", () => {
  it("documents every JSON key of the contract and every format", () => {
    const text = section("cli");
    for (const key of [
      "version",
      "filesScanned",
      "policies",
      "ruleId",
      "severity",
      "file",
      "line",
      "column",
      "policy",
      "message",
      "fix",
    ]) {
      expect(text).toContain(`"${key}"`);
    }
    for (const format of ["table", "markdown", "json", "sarif"]) expect(text).toContain(`--format ${format}`);
  });
});

describe("README rules section", () => {
  const text = section("rules");

  it("has a section and a table row for every rule of the registry, with its default severity and fixability", () => {
    const metas = [...RULES.map((rule) => rule.meta), INTERNAL_ERROR];
    expect(metas.length).toBeGreaterThan(10);
    for (const meta of metas) {
      expect(text).toMatch(new RegExp(`^### ${meta.id}$`, "m"));
      const row = new RegExp(`^\\| \\[${meta.id}\\]\\(#${meta.id}\\) \\| (\\w+)[^|]* \\| (yes|no) \\|$`, "m").exec(
        text,
      );
      expect(row, meta.id).not.toBeNull();
      expect([meta.id, row?.[1], row?.[2]]).toEqual([meta.id, meta.defaultSeverity, meta.fixable ? "yes" : "no"]);
    }
  });
});
