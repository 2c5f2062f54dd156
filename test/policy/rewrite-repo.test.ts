// Golden repositories: test/fixtures/rewrite/repo-*/input is a repository, fixed with the real resolver (kustomize
// rendering, configuration, builtins); every file under expected/ must come out byte for byte, every other file
// unchanged. Each case's README.md says what it shows.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { CONFIG_PATH, parseConfig } from "../../src/policy/config.js";
import { analyse } from "../../src/policy/api.js";
import { fixOf } from "../helpers/analysis.js";
import type { SourceFile } from "../../src/policy/types.js";
import { PROJECT_ROOT, hasShared } from "../helpers/external.js";
import { schemaErrors } from "../helpers/schema.js";
import { source, textOf } from "../helpers/sources.js";

const CASES_DIR = join(PROJECT_ROOT, "test/fixtures/rewrite");
const cases = readdirSync(CASES_DIR)
  .filter((name) => existsSync(join(CASES_DIR, name, "input")))
  .sort();

function readTree(root: string, dir = root): SourceFile[] {
  const out: SourceFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...readTree(root, full));
    else out.push(source(relative(root, full), readFileSync(full)));
  }
  return out;
}

const sharedPresent = hasShared();

describe.each(cases)("repository %s", (name) => {
  const input = join(CASES_DIR, name, "input");
  const expectedDir = join(CASES_DIR, name, "expected");
  const sources = readTree(input);
  const configPath = join(input, CONFIG_PATH);
  const config = parseConfig(existsSync(configPath) ? readFileSync(configPath, "utf8") : "");
  const expected = new Map(readTree(expectedDir).map((file) => [file.path, textOf(file)]));

  it("rewrites exactly the files under expected/, byte for byte", async () => {
    const result = await fixOf(sources, { config });
    expect(result.rewrites.filter((r) => r.status !== "rewritten")).toEqual([]);
    expect(new Map(result.changes.map((change) => [change.path, change.after]))).toEqual(expected);
  });

  it("is a fixed point, leaves scan nothing to report, and validates against the CRD schema", async () => {
    const fixed = sources.map((s) => (expected.has(s.path) ? source(s.path, expected.get(s.path)!) : s));
    expect(await fixOf(fixed, { config })).toEqual({ changes: [], rewrites: [] });
    const findings = (await analyse(fixed, { config })).findings.filter(
      (f) => f.ruleId === "to-services-with-to-ports",
    );
    expect(findings).toEqual([]);
    if (!sharedPresent) return;
    for (const text of expected.values()) {
      for (const document of parseAllDocuments(text)) {
        const value = document.toJS() as Record<string, unknown>;
        if (String(value.kind).startsWith("Cilium")) expect(schemaErrors(value)).toEqual([]);
      }
    }
  });
});
