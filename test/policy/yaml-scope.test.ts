// invalid-yaml judges only files that hold, or are meant to hold, Kubernetes manifests; other YAML with problems
// (Helm values, yamllint and CI configurations with duplicate keys) is counted, not reported, and sets no exit code.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readSourceFiles } from "../../src/cli/files.js";
import { runScan } from "../../src/cli/scan-command.js";
import { resolveConfig } from "../../src/policy/config.js";
import { analyse } from "../../src/policy/api.js";
import { summaryLine } from "../../src/policy/report/rule-docs.js";
import { sources } from "../helpers/sources.js";

const OTHER = fileURLToPath(new URL("../fixtures/real-shapes/other-yaml", import.meta.url));
const config = resolveConfig({});

describe("invalid-yaml scope", () => {
  it("reports the broken manifest once per problem, and only counts Helm values, yamllint and CI files", async () => {
    const result = await analyse(readSourceFiles(OTHER), { config });
    expect(result.findings.map((f) => `${f.ruleId} ${f.file}:${f.line}`)).toEqual([
      "invalid-yaml apps/broken-policy.yaml:6",
    ]);
    expect(result.otherYamlWithProblems).toBe(3);
    expect(summaryLine(result)).toContain("3 other YAML files with YAML problems not judged");
  });

  it("judges a file a kustomization names even when nothing in it reads as a manifest", async () => {
    const files = {
      "base/kustomization.yaml": "resources:\n  - patch-me.yaml\n",
      "base/patch-me.yaml": "a: 1\na: 2\n",
      "charts/values.yaml": "a: 1\na: 2\n",
    };
    const found = (await analyse(sources(files), { config })).findings.map((f) => `${f.ruleId} ${f.file}`);
    expect(found).toEqual(["invalid-yaml base/patch-me.yaml"]);
  });

  it("the CLI exits 0 on a repository without policies whose only broken YAML is not Kubernetes manifests", async () => {
    const dir = mkdtempSync(join(tmpdir(), "yaml-scope-"));
    try {
      cpSync(OTHER, dir, { recursive: true });
      rmSync(join(dir, "apps"), { recursive: true });
      const { exitCode, output } = await runScan(dir, { format: "table" }, "0.0.0");
      expect(exitCode).toBe(0);
      expect(output).not.toContain("invalid-yaml");
      const withPolicy = mkdtempSync(join(tmpdir(), "yaml-scope-"));
      try {
        cpSync(OTHER, withPolicy, { recursive: true });
        expect((await runScan(withPolicy, { format: "table" }, "0.0.0")).exitCode).toBe(1);
      } finally {
        rmSync(withPolicy, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
