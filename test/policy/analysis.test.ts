// One analysis: findings and the fixes they carry come from the same parse, index and resolution.
import { describe, expect, it } from "vitest";
import { analyse, applyFixes, resolveConfig } from "../../src/policy/api.js";
import type { SourceFile } from "../../src/policy/api.js";
import { source } from "../helpers/sources.js";

const egressWithoutPorts = (service: string, namespace?: string) =>
  [
    "apiVersion: cilium.io/v2",
    "kind: CiliumNetworkPolicy",
    "metadata:",
    "  name: client",
    "  namespace: shop",
    "spec:",
    "  endpointSelector: {matchLabels: {app: client}}",
    "  egress:",
    "    - toServices:",
    "        - k8sService:",
    `            serviceName: ${service}`,
    ...(namespace ? [`            namespace: ${namespace}`] : []),
    "",
  ].join("\n");

const serviceIn = (namespace: string, app: string) =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: ${namespace}}\nspec: {selector: {app: ${app}}, ports: [{port: 5432}]}\n`;

describe("analyse", () => {
  it("reports and fixes a Service known only from the configuration alike (scan and fix agree)", async () => {
    const config = resolveConfig({
      ciliumVersion: ">=1.13",
      services: { "vault/cluster-vault": { selector: { "app.kubernetes.io/name": "vault" } } },
    });
    const analysis = await analyse([source("p.yaml", egressWithoutPorts("cluster-vault", "vault"))], { config });
    const reported = analysis.findings.filter((f) => f.ruleId === "to-services-selector-backed");
    expect(reported).toHaveLength(1);
    expect(reported[0]?.fix).toBe("auto");
    expect(reported[0]?.message).toContain("configuration `services:`");
    const result = applyFixes(analysis);
    expect(result.rewrites.map((r) => [r.status, r.services.map((s) => s.resolution)])).toEqual([
      ["rewritten", ["config"]],
    ]);
    expect(result.changes[0]?.after).toContain("app.kubernetes.io/name: vault");
  });

  it("fixes nothing that a rule turned off reports", async () => {
    const config = resolveConfig({
      services: { "vault/cluster-vault": { selector: { app: "vault" } } },
      rules: { "to-services-selector-backed": "off" },
    });
    const analysis = await analyse([source("p.yaml", egressWithoutPorts("cluster-vault", "vault"))], { config });
    expect(analysis.findings).toEqual([]);
    expect(analysis.fixes).toEqual([]);
    expect(applyFixes(analysis).changes).toEqual([]);
  });

  it("words findings the same whatever order the sources come in (code-unit order, not the locale's)", async () => {
    // localeCompare puts "apps/a" before "apps/B" and "apps/é" before "apps/z"; code units put them the other way.
    const files = [
      source("apps/a/svc.yaml", serviceIn("alpha", "a")),
      source("apps/B/svc.yaml", serviceIn("beta", "b")),
      source("apps/é/svc.yaml", serviceIn("eacute", "e")),
      source("apps/z/svc.yaml", serviceIn("zulu", "z")),
      source("apps/policy.yaml", egressWithoutPorts("db")),
    ];
    const config = resolveConfig({ ciliumVersion: ">=1.13" });
    const text = async (order: readonly SourceFile[]) => JSON.stringify((await analyse(order, { config })).findings);
    const localeOrder = [...files].sort((x, y) => x.path.localeCompare(y.path));
    const expected = await text(files);
    expect(expected).toContain("selects Services beta/db, alpha/db, zulu/db, eacute/db");
    expect(expected).toContain("(apps/B/svc.yaml:1)");
    expect(await text(localeOrder)).toBe(expected);
    expect(await text([...files].reverse())).toBe(expected);
  });

  it("reads each source once: applying the fixes parses nothing again", async () => {
    const reads = new Map<string, number>();
    const probed = (file: SourceFile): SourceFile => ({
      path: file.path,
      size: file.size,
      get content() {
        reads.set(file.path, (reads.get(file.path) ?? 0) + 1);
        return file.content;
      },
    });
    const vault = "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: data}\nspec: {selector: {app: db}}\n";
    const sources = [source("p.yaml", egressWithoutPorts("db", "data")), source("svc.yaml", vault)].map(probed);
    const analysis = await analyse(sources, { config: resolveConfig({}) });
    const afterAnalysis = new Map(reads);
    expect(afterAnalysis.get("p.yaml")).toBeGreaterThan(0);
    const result = applyFixes(analysis);
    expect(result.rewrites.map((r) => r.status)).toEqual(["rewritten"]);
    expect(reads).toEqual(afterAnalysis);
    // The probe sees a second parse: a second analysis doubles the reads.
    await analyse(sources, { config: resolveConfig({}) });
    expect(reads.get("p.yaml")).toBe(2 * (afterAnalysis.get("p.yaml") ?? 0));
  });
});
