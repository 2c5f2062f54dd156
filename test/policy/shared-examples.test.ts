// Cilium's own example policies (../shared/cilium/examples): all read, none makes the engine fail.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSourceFiles } from "../../src/cli/files.js";
import { DEFAULT_CONFIG } from "../../src/policy/config.js";
import { INTERNAL_ERROR } from "../../src/policy/rules/index.js";
import { analyse } from "../../src/policy/api.js";
import { CILIUM_EXAMPLES_DIR, hasShared } from "../helpers/external.js";

/** Counted by hand (find + grep) when the test was written; the independent counter below must agree. */
const EXPECTED_FILES = 115;
const EXPECTED_POLICY_DOCUMENTS = 112;
const EXPECTED_POLICY_SPECS = 123;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/**
 * Counts policy documents and specs by text alone, without a YAML parser: a document is a policy when it has
 * top-level `apiVersion: cilium.io/v2` and `kind: Cilium[Clusterwide]NetworkPolicy` lines; it has one spec for a
 * top-level `spec:` and one per outermost list item under a top-level `specs:`.
 */
function countByText(texts: readonly string[]): { documents: number; specs: number } {
  let documents = 0;
  let specs = 0;
  for (const text of texts) {
    for (const chunk of text.split(/^---.*$/m)) {
      if (!/^kind:\s*["']?Cilium(Clusterwide)?NetworkPolicy["']?\s*$/m.test(chunk)) continue;
      if (!/^apiVersion:\s*["']?cilium\.io\/v2["']?\s*$/m.test(chunk)) continue;
      documents++;
      if (/^spec:/m.test(chunk)) specs++;
      const block = /^specs:[ \t]*\n((?:[ \t]*\n|[ \t-].*\n?)*)/m.exec(chunk)?.[1];
      if (block !== undefined) {
        const indents = [...block.matchAll(/^( *)- /gm)].map((m) => m[1]!.length);
        const outer = Math.min(...indents);
        specs += indents.filter((indent) => indent === outer).length;
      }
    }
  }
  return { documents, specs };
}

describe.skipIf(!hasShared())("Cilium's example policies", () => {
  it("the independent count still matches the numbers counted by hand", () => {
    const paths = yamlFiles(CILIUM_EXAMPLES_DIR);
    expect(paths).toHaveLength(EXPECTED_FILES);
    expect(countByText(paths.map((path) => readFileSync(path, "utf8")))).toEqual({
      documents: EXPECTED_POLICY_DOCUMENTS,
      specs: EXPECTED_POLICY_SPECS,
    });
  });

  it("are all read, with every policy spec counted and no internal error", async () => {
    const sources = readSourceFiles(CILIUM_EXAMPLES_DIR);
    const result = await analyse(sources, { config: DEFAULT_CONFIG });
    expect(result.filesScanned).toBe(EXPECTED_FILES);
    expect(result.policies).toBe(EXPECTED_POLICY_SPECS);
    expect(result.findings.filter((finding) => finding.ruleId === INTERNAL_ERROR.id)).toEqual([]);
    const paths = new Set(sources.map((source) => source.path));
    for (const finding of result.findings) {
      expect(paths.has(finding.file)).toBe(true);
      expect(finding.line).toBeGreaterThanOrEqual(1);
      expect(finding.column).toBeGreaterThanOrEqual(1);
    }
  });
});
