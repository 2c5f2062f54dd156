// A pull request cannot turn its own error into a green check by what else its file holds: a template action in a
// comment or a quoted string does not make a file a template (kubectl and Flux apply it unchanged), and padding a
// policy file past the size limit does not take it out of the check.
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../../src/policy/config.js";
import { analyse } from "../../../src/policy/api.js";
import { isTemplated, MAX_FILE_BYTES, MAX_POLICY_FILE_BYTES } from "../../../src/policy/read/manifests.js";
import { source } from "../../helpers/sources.js";

const POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: shop
  namespace: shop
spec:
  endpointSelector: {}
  egress:
    - toServices:
        - k8sService: { serviceName: api, namespace: shop }
      toPorts:
        - ports: [{ port: "80", protocol: TCP }]
`;

async function run(files: ReturnType<typeof source>[]) {
  return await analyse(files, { config: resolveConfig({}) });
}

const errorsOf = (result: Awaited<ReturnType<typeof run>>, file: string) =>
  result.findings.filter((f) => f.file === file && f.severity === "error").map((f) => f.ruleId);

describe("template syntax makes a file a template only where kubectl would not apply it", () => {
  it.each([
    ["a comment", `# {{ .Values.x }}\n${POLICY}`],
    ["a quoted string", POLICY.replace("name: shop\n", 'name: shop\n  annotations: { note: "{{ .Values.x }}" }\n')],
    ["a single-quoted string", POLICY.replace("name: shop\n", "name: shop\n  annotations: { note: '{{ x }}' }\n")],
    ["a block scalar", POLICY.replace("name: shop\n", "name: shop\n  annotations:\n    note: |\n      {{ x }}\n")],
    ["inside a plain scalar", POLICY.replace("name: shop\n", "name: shop\n  labels:\n    v: a{{b}}\n")],
  ])("in %s: the policy is checked and its error stays", async (_, text) => {
    expect(isTemplated("apps/shop/policy.yaml", text)).toBe(false);
    expect(errorsOf(await run([source("apps/shop/policy.yaml", text)]), "apps/shop/policy.yaml")).toContain(
      "to-services-with-to-ports",
    );
  });

  it.each([
    ["a value", POLICY.replace("name: shop\n", "name: {{ .Values.name }}\n")],
    ["a line of its own", `{{- if .Values.enabled }}\n${POLICY}{{- end }}\n`],
    ["a sequence item", POLICY.replace("    - toServices:", "    - {{ .Values.rule }}\n    - toServices:")],
  ])("as YAML structure (%s): a template", (_, text) => {
    expect(isTemplated("apps/shop/policy.yaml", text)).toBe(true);
  });

  it("in a chart's templates/ directory, any template action makes a template; elsewhere templates/ is a name", async () => {
    const text = `# {{ .Values.x }}\n${POLICY}`;
    const chart = await run([
      source("charts/shop/Chart.yaml", "name: shop\nversion: 1.0.0\n"),
      source("charts/shop/templates/p.yaml", text),
    ]);
    expect(errorsOf(chart, "charts/shop/templates/p.yaml")).toEqual([]);
    expect(chart.findings.map((f) => f.ruleId)).toContain("templated-file");
    const plain = await run([source("apps/templates/p.yaml", text)]);
    expect(errorsOf(plain, "apps/templates/p.yaml")).toContain("to-services-with-to-ports");
  });
});

describe("a policy file padded past the size limit", () => {
  const padded = (bytes: number) => `${POLICY}# ${"x".repeat(bytes - POLICY.length - 3)}\n`;

  it("is still read and checked when it holds a policy", async () => {
    const text = padded(MAX_FILE_BYTES + 4096);
    expect(text.length).toBeGreaterThan(MAX_FILE_BYTES);
    expect(errorsOf(await run([source("apps/shop/policy.yaml", text)]), "apps/shop/policy.yaml")).toContain(
      "to-services-with-to-ports",
    );
  });

  it("fails the check with 'could not be checked' past the policy-file size", async () => {
    const result = await run([source("apps/shop/policy.yaml", padded(MAX_POLICY_FILE_BYTES + 4096))]);
    const finding = result.findings.find((f) => f.ruleId === "skipped-file");
    expect(finding).toMatchObject({ severity: "error" });
    expect(finding?.message).toMatch(/could not be checked/);
  });

  it("whose content was not read at all is a warning, never a quiet info", async () => {
    const result = await analyse([{ path: "apps/big.yaml", size: 20 * MAX_FILE_BYTES, content: null }], {
      config: resolveConfig({}),
    });
    expect(result.findings).toMatchObject([{ ruleId: "skipped-file", severity: "warning" }]);
  });

  it("without a policy in it stays an info", async () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: "${"x".repeat(MAX_FILE_BYTES)}"\n`;
    expect((await run([source("apps/cm.yaml", text)])).findings).toMatchObject([
      { ruleId: "skipped-file", severity: "info" },
    ]);
  });
});
