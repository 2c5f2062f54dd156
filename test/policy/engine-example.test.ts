// The bundled example repository (examples/gitops-repo), scanned as the CLI and the demo scan it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/cli/config-file.js";
import { readSourceFiles } from "../../src/cli/files.js";
import { analyse } from "../../src/policy/api.js";
import { PROJECT_ROOT } from "../helpers/external.js";

const EXAMPLE = join(PROJECT_ROOT, "examples/gitops-repo");

/** 1-based line and column of the first occurrence of `needle` in an example file, found by text search. */
function positionOf(file: string, needle: string, after = ""): { line: number; column: number } {
  const lines = readFileSync(join(EXAMPLE, file), "utf8").split("\n");
  const start = after === "" ? 0 : lines.findIndex((line) => line.includes(after));
  const index = lines.findIndex((line, i) => i >= start && line.includes(needle));
  if (index < 0) throw new Error(`${needle} not in ${file}`);
  return { line: index + 1, column: lines[index]!.indexOf(needle) + 1 };
}

describe("scan of examples/gitops-repo", async () => {
  const result = await analyse(readSourceFiles(EXAMPLE), { config: loadConfig(EXAMPLE) });
  const at = (ruleId: string, file: string) =>
    result.findings
      .filter((f) => f.ruleId === ruleId && f.file === file)
      .map((f) => ({ line: f.line, column: f.column }));

  it("reports the vault case at the toServices key of the minio policy", () => {
    const minio = result.findings.filter((f) => f.file === "apps/minio/network-policy.yaml");
    expect(minio).toHaveLength(1);
    expect(minio[0]).toMatchObject({
      ruleId: "to-services-with-to-ports",
      severity: "error",
      policy: "minio/minio-egress",
      fix: "auto",
      ...positionOf("apps/minio/network-policy.yaml", "toServices:"),
    });
    expect(minio[0]?.message).toContain("vault/cluster-vault");
  });

  it("reports the other broken cases where they are", () => {
    const shop = "apps/shop/network-policy.yaml";
    expect(at("to-services-with-to-ports", shop)).toEqual([
      positionOf(shop, "toServices:"),
      positionOf(shop, "toServices:", "# DNS"),
    ]);
    const reports = "apps/reports/network-policy.yaml";
    expect(at("to-fqdns-without-dns-rule", reports)).toEqual([positionOf(reports, "toFQDNs:")]);
    expect(at("requires-deprecated", reports)).toEqual([positionOf(reports, "toRequires:")]);
    expect(at("invalid-port", reports)).toEqual([positionOf(reports, 'port: "80910"')]);
    const chart = "charts/legacy-gateway/templates/network-policy.yaml";
    expect(result.findings.filter((f) => f.file === chart).map((f) => [f.ruleId, f.severity])).toEqual([
      ["templated-file", "warning"],
    ]);
  });

  it("has nothing to say about the clean policies and the other manifests", () => {
    const flagged = new Set(result.findings.map((f) => f.file));
    expect([...flagged].sort()).toEqual([
      "apps/minio/network-policy.yaml",
      "apps/reports/network-policy.yaml",
      "apps/shop/network-policy.yaml",
      "charts/legacy-gateway/templates/network-policy.yaml",
    ]);
    // catalog-ingress, the only policy of its kind in the shop file, is clean.
    expect(result.findings.some((f) => f.policy === "shop/catalog-ingress")).toBe(false);
  });

  it("counts its files and policies", () => {
    // 24 files in the directory: every one but README.md is YAML; four policies (the chart's template is not parsed).
    expect([result.filesScanned, result.policies]).toEqual([23, 4]);
  });
});
