// Flux post-build substitution (render/flux-substitution.ts): variables from the repository's ConfigMaps and
// Secrets, substituted per Flux Kustomization, with findings on the text a person edits.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readSourceFiles } from "../../src/cli/files.js";
import { resolveConfig } from "../../src/policy/config.js";
import { analyse } from "../../src/policy/api.js";
import { substituteText, substitutionOf, substituteValue } from "../../src/policy/render/flux-substitution.js";
import { parse } from "yaml";
import type { SourceFile } from "../../src/policy/types.js";
import { fixOf } from "../helpers/analysis.js";
import { source, sources, textOf } from "../helpers/sources.js";

const FLUX = fileURLToPath(new URL("../fixtures/real-shapes/flux", import.meta.url));
const config = resolveConfig({});

function withFile(files: SourceFile[], path: string, edit: (text: string) => string): SourceFile[] {
  return files.map((file) => (file.path === path ? source(path, edit(textOf(file))) : file));
}

describe("envsubst as Flux runs it", () => {
  const substitution = substitutionOf("ks", { substitute: { A: "a", EMPTY: "" }, substituteFrom: [] }, () => undefined);
  it.each([
    ["${A}", "a", []],
    ["x-${A}-y", "x-a-y", []],
    ["${B:=b}", "b", []],
    ["${B:-b}", "b", []],
    ["${EMPTY:-e}", "e", []],
    ["${EMPTY-e}", "", []],
    ["${A:=b}", "a", []],
    ["$${A}", "${A}", []],
    ["$A", "$A", []],
    ["${B}", "${B}", ["B"]],
    ["${A^^}", "${A^^}", ["A"]],
  ])("%s → %s", (text, expected, unchecked) => {
    expect(substituteText(text, substitution)).toEqual({ text: expected, unchecked });
  });

  it("a default does not stand in for a variable a source this scan cannot read may define", () => {
    const unknown = substitutionOf(
      "ks",
      { substitute: {}, substituteFrom: [{ kind: "ConfigMap", name: "elsewhere", optional: false }] },
      () => undefined,
    );
    expect(substituteText("${B:=b}", unknown)).toEqual({ text: "${B:=b}", unchecked: ["B"] });
  });
  it("a field named __proto__ stays a field of the substituted value, not its prototype", () => {
    const value = substituteValue(parse("spec:\n  __proto__: {name: '${A}'}\n"), substitution) as {
      spec: object;
    };
    expect(Object.getPrototypeOf(value.spec)).toBe(Object.prototype);
    expect(JSON.stringify(value)).toBe('{"spec":{"__proto__":{"name":"a"}}}');
  });

  it("defaults nested deeper than any real file are left unchecked, not recursed into until the stack overflows", () => {
    const depth = 20_000;
    const text = "${Z:-".repeat(depth) + "x" + "}".repeat(depth);
    expect(substituteText(text, substitution)).toEqual({ text, unchecked: ["Z"] });
    expect(substituteText("${B:-${C:-${D:-d}}}", substitution)).toEqual({ text: "d", unchecked: [] });
  });
});

describe("Flux variables in policies", () => {
  it("substituted from the repository's ConfigMap and Secret through a patch on every Flux Kustomization: no error", async () => {
    const result = await analyse(readSourceFiles(FLUX), { config });
    expect(
      result.findings
        .filter((f) => f.file === "apps/shop/policy.yaml")
        .map((f) => `${f.ruleId} ${f.line} ${f.message}`),
    ).toEqual([]);
  });

  it("a substituted value is judged, at the `${…}` a person edits", async () => {
    const files = withFile(readSourceFiles(FLUX), "clusters/prod/cluster-vars.yaml", (text) =>
      text.replace("TEAM: shop", "TEAM: shop team"),
    );
    const findings = (await analyse(files, { config })).findings.filter((f) => f.file === "apps/shop/policy.yaml");
    expect(findings.map((f) => [f.ruleId, f.line])).toEqual([["invalid-selector", 10]]);
    expect(findings[0]!.message).toContain('"shop team"');
  });

  it("a variable nothing defines is unchecked, said once per policy as info, not an error", async () => {
    const files = withFile(readSourceFiles(FLUX), "apps/shop/policy.yaml", (text) =>
      text.replace("app: frontend", "app: ${APP_NAME}").replace('port: "${API_PORT}"', 'port: "${PORT_OF_API}"'),
    );
    const findings = (await analyse(files, { config })).findings.filter((f) => f.file === "apps/shop/policy.yaml");
    expect(findings.map((f) => [f.ruleId, f.severity, f.line])).toEqual([["unchecked-variables", "info", 8]]);
    expect(findings[0]!.message).toContain("${APP_NAME}, ${PORT_OF_API}");
    expect(findings[0]!.message).toContain("defines none of them");
  });

  it("a file no Flux Kustomization substitutes keeps its variables unchecked, not invalid", async () => {
    const files = readSourceFiles(FLUX).filter((file) => file.path.startsWith("apps/"));
    const findings = (await analyse(files, { config })).findings.filter((f) => f.file === "apps/shop/policy.yaml");
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([["unchecked-variables", "info"]]);
    expect(findings[0]!.message).toContain("no Flux Kustomization of this repository applies this file");
  });

  it("`kustomize.toolkit.fluxcd.io/substitute: disabled` on the resource: Flux leaves it, its variables stay unchecked", async () => {
    const files = withFile(readSourceFiles(FLUX), "apps/shop/policy.yaml", (text) =>
      text.replace(
        "  name: frontend\n",
        "  name: frontend\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
      ),
    );
    const findings = (await analyse(files, { config })).findings.filter((f) => f.file === "apps/shop/policy.yaml");
    expect(findings.map((f) => f.ruleId)).toContain("unchecked-variables");
    expect(findings.filter((f) => f.severity === "error")).toEqual([]);
  });

  it("a ConfigMap not in the repository leaves the values it may define unchecked", async () => {
    const files = readSourceFiles(FLUX).filter((file) => file.path !== "clusters/prod/cluster-vars.yaml");
    const findings = (await analyse(files, { config })).findings.filter((f) => f.file === "apps/shop/policy.yaml");
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([["unchecked-variables", "info"]]);
    expect(findings[0]!.message).toContain("ConfigMap cluster-vars is not in this repository");
    expect(findings[0]!.message).toContain("${CLUSTER_NAME}, ${TEAM}, ${TIER}, ${DNS_PORT}");
  });
});

describe("the rewrite and Flux variables", () => {
  it("a toServices + toPorts rule holding variables is reported and left to a person by scan and fix alike", async () => {
    const files = withFile(readSourceFiles(FLUX), "apps/shop/policy.yaml", (text) =>
      text.replace(
        "    - toFQDNs:",
        [
          "    - toServices:",
          "        - k8sService:",
          "            serviceName: api",
          "            namespace: ${PAYMENTS_NS}",
          "      toPorts:",
          '        - ports: [{port: "443", protocol: TCP}]',
          "    - toFQDNs:",
        ].join("\n"),
      ),
    );
    const [finding, ...rest] = (await analyse(files, { config })).findings.filter(
      (f) => f.ruleId === "to-services-with-to-ports",
    );
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ file: "apps/shop/policy.yaml", line: 32, fix: "manual" });
    expect(finding!.message).toContain("payments/api");
    expect(finding!.message).toContain("Flux variables");
    const fixed = await fixOf(files, { config });
    expect(fixed.changes).toEqual([]);
    expect(fixed.rewrites).toMatchObject([{ status: "manual", line: 32 }]);
  });
});

describe("the index and Flux variables", () => {
  it("a Service whose selector Flux substitutes is indexed with the values, and not flagged as unapplied", async () => {
    const files = [
      ...withFile(readSourceFiles(FLUX), "apps/shop/kustomization.yaml", (text) => `${text}  - service.yaml\n`),
      source(
        "apps/shop/service.yaml",
        [
          "apiVersion: v1",
          "kind: Service",
          "metadata: {name: payments, namespace: shop}",
          "spec:",
          "  selector: {app: payments, team: '${TEAM}'}",
          "  ports: [{port: 443, targetPort: 8443}]",
        ].join("\n"),
      ),
    ];
    const { index } = await analyse(files, { config });
    const service = index.services.find((candidate) => candidate.name === "payments");
    expect(service?.selector).toEqual({ app: "payments", team: "shop" });
    expect(service?.unapplied ?? []).toEqual([]);
  });
});

describe("SOPS-encrypted Secrets", () => {
  it("keep their values unknown but their keys known: only the variables they name are unchecked", async () => {
    const files = withFile(readSourceFiles(FLUX), "clusters/prod/cluster-secrets.yaml", () =>
      [
        "apiVersion: v1",
        "kind: Secret",
        "metadata: {name: cluster-secrets, namespace: flux-system}",
        "stringData:",
        "  PAYMENTS_NS: ENC[AES256_GCM,data:c2hvcA==,type:str]",
        "  API_PORT: ENC[AES256_GCM,data:ODQ0Mw==,type:str]",
        "sops:",
        "  version: 3.8.1",
      ].join("\n"),
    );
    const findings = (await analyse(files, { config })).findings.filter((f) => f.file === "apps/shop/policy.yaml");
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([["unchecked-variables", "info"]]);
    // ${TIER:-web}: no source may define TIER, so its default is what Flux writes, and it is checked.
    expect(findings[0]!.message).toContain("${PAYMENTS_NS}, ${API_PORT} are not checked");
    expect(findings[0]!.message).toContain("Secret cluster-secrets is SOPS-encrypted");
  });
});

describe("a Secret's data, read as the API server does (Go's base64.StdEncoding)", () => {
  // "payments" is cGF5bWVudHM=; the policy names ${PAYMENTS_NS} from the Secret and ${API_PORT} from its stringData.
  const withPaymentsNs = (line: string) =>
    withFile(readSourceFiles(FLUX), "clusters/prod/cluster-secrets.yaml", (text) =>
      text.replace("  PAYMENTS_NS: cGF5bWVudHM=\n", line),
    );
  const policyFindings = async (files: SourceFile[]) =>
    (await analyse(files, { config })).findings.filter((f) => f.file === "apps/shop/policy.yaml");

  it("a value wrapped over lines in a literal block decodes (Go ignores line breaks): substituted, no finding", async () => {
    expect(await policyFindings(withPaymentsNs("  PAYMENTS_NS: |\n    cGF5bW\n    VudHM=\n"))).toEqual([]);
  });

  it.each([
    ["wrapped in a plain scalar (YAML folds the break into a space)", "  PAYMENTS_NS: cGF5bW\n    VudHM=\n"],
    ["with a space", '  PAYMENTS_NS: "cGF5bW VudHM="\n'],
    ["without its padding", "  PAYMENTS_NS: cGF5bWVudHM\n"],
    ["not base64", '  PAYMENTS_NS: "cGF5*WVudHM="\n'],
  ])("a value %s: the Secret's variables stay unchecked, and why is said", async (_what, line) => {
    const findings = await policyFindings(withPaymentsNs(line));
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([["unchecked-variables", "info"]]);
    expect(findings[0]!.message).toContain("${PAYMENTS_NS}, ${API_PORT} are not checked");
    expect(findings[0]!.message).toContain(
      "Secret cluster-secrets key PAYMENTS_NS is not base64 as the API server reads it",
    );
  });
});

describe("nested Flux Kustomizations", () => {
  const files = (parentSubstitute: string) =>
    sources({
      "clusters/prod/flux-system/gotk-sync.yaml": [
        "apiVersion: kustomize.toolkit.fluxcd.io/v1",
        "kind: Kustomization",
        "metadata: {name: flux-system, namespace: flux-system}",
        "spec:",
        "  path: ./clusters/prod",
        "  sourceRef: {kind: GitRepository, name: flux-system}",
        `  postBuild: {substitute: {${parentSubstitute}}}`,
      ].join("\n"),
      "clusters/prod/apps.yaml": [
        "apiVersion: kustomize.toolkit.fluxcd.io/v1",
        "kind: Kustomization",
        "metadata: {name: apps, namespace: flux-system}",
        "spec:",
        "  path: ./apps",
        "  sourceRef: {kind: GitRepository, name: flux-system}",
        '  postBuild: {substitute: {CLUSTER_NAME: "${CLUSTER}"}}',
      ].join("\n"),
      "apps/policy.yaml": [
        "apiVersion: cilium.io/v2",
        "kind: CiliumNetworkPolicy",
        "metadata: {name: p, namespace: shop}",
        "spec:",
        "  endpointSelector: {matchLabels: {cluster: '${CLUSTER_NAME}'}}",
      ].join("\n"),
    });

  it("a child's postBuild values are substituted by the Flux Kustomization applying it", async () => {
    const found = (await analyse(files("CLUSTER: prod-eu-1"), { config })).findings;
    expect(found.filter((f) => f.file === "apps/policy.yaml")).toEqual([]);
    const bad = (await analyse(files('CLUSTER: "prod eu"'), { config })).findings;
    expect(bad.filter((f) => f.file === "apps/policy.yaml").map((f) => f.ruleId)).toEqual(["invalid-selector"]);
  });

  it("a value still holding a variable no one defines is unchecked, not judged as written", async () => {
    const found = (await analyse(files("OTHER: x"), { config })).findings.filter((f) => f.file === "apps/policy.yaml");
    expect(found.map((f) => [f.ruleId, f.severity])).toEqual([["unchecked-variables", "info"]]);
    expect(found[0]!.message).toContain("the value of CLUSTER_NAME holds a variable");
  });
});

describe("generated sources", () => {
  it("a configMapGenerator's literals are a substituteFrom source; an env file the scan does not read is unknown", async () => {
    const files = withFile(
      readSourceFiles(FLUX).filter((file) => file.path !== "clusters/prod/cluster-vars.yaml"),
      "clusters/prod/kustomization.yaml",
      (text) =>
        text.replace("  - cluster-vars.yaml\n", "") +
        [
          "configMapGenerator:",
          "  - name: cluster-vars",
          "    namespace: flux-system",
          "    literals: [CLUSTER_NAME=prod-eu-1, TEAM=shop, DNS_PORT=53]",
          "generatorOptions:",
          "  disableNameSuffixHash: true",
          "",
        ].join("\n"),
    );
    const found = (await analyse(files, { config })).findings.filter((f) => f.file === "apps/shop/policy.yaml");
    expect(found).toEqual([]);
    const fromEnv = files.map((file) =>
      file.path === "clusters/prod/kustomization.yaml"
        ? source(file.path, textOf(file).replace(/literals: .*/, "envs: [cluster.env]"))
        : file,
    );
    const unknown = (await analyse(fromEnv, { config })).findings.filter((f) => f.file === "apps/shop/policy.yaml");
    expect(unknown.map((f) => f.ruleId)).toEqual(["unchecked-variables"]);
    expect(unknown[0]!.message).toContain("generated from env file cluster.env, not read");
  });
});

describe("a Flux Kustomization's own patches on the Flux Kustomizations it applies (the cluster templates' layout)", () => {
  const TEMPLATE = fileURLToPath(new URL("../fixtures/real-shapes/flux-template", import.meta.url));
  const policyOf = (app: string) => `kubernetes/apps/kube-system/${app}/app/networkpolicy.yaml`;
  const findingsIn = async (files: SourceFile[], app: string) =>
    (await analyse(files, { config })).findings
      .filter((f) => f.file === policyOf(app))
      .map((f) => [f.ruleId, f.severity, f.line]);

  it("substitutes into the Flux Kustomizations its label selector chooses, and judges the values", async () => {
    expect(await findingsIn(readSourceFiles(TEMPLATE), "coredns")).toEqual([]);
    const badPort = withFile(readSourceFiles(TEMPLATE), "kubernetes/flux/meta/settings/cluster-settings.yaml", (text) =>
      text.replace('DNS_PORT: "53"', 'DNS_PORT: "99999"'),
    );
    expect(await findingsIn(badPort, "coredns")).toEqual([["invalid-port", "error", 15]]);
  });

  it("leaves a Flux Kustomization the selector does not choose unsubstituted: its variables stay unchecked", async () => {
    expect(await findingsIn(readSourceFiles(TEMPLATE), "legacy")).toEqual([["unchecked-variables", "info", 12]]);
  });

  it("an unreadable label selector chooses nothing it can vouch for: the variables stay unchecked", async () => {
    const files = withFile(readSourceFiles(TEMPLATE), "kubernetes/flux/cluster/ks.yaml", (text) =>
      text.replace("notin (true)", "notin (true"),
    );
    expect(await findingsIn(files, "coredns")).toEqual([["unchecked-variables", "info", 12]]);
  });
});
