import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../../src/policy/config.js";
import { analyse } from "../../../src/policy/api.js";
import { MAX_FILE_BYTES } from "../../../src/policy/read/manifests.js";
import { toServicesWithToPortsInText } from "../../../src/policy/rules/templated-file.js";
import { source } from "../../helpers/sources.js";
import { findings } from "./scan.js";

describe("invalid-yaml", () => {
  it("reports each syntax problem at its line, and keeps checking the valid documents", async () => {
    const text = [
      "apiVersion: cilium.io/v2",
      "kind: CiliumNetworkPolicy",
      "metadata: {name: ok, namespace: a}",
      "spec:",
      "  endpointSelector: {}",
      "  egress:",
      "    - toServices: [{k8sService: {serviceName: s, namespace: n}}]",
      "      toPorts: [{ports: [{port: '80'}]}]",
      "---",
      "key: [unclosed",
      "",
    ].join("\n");
    const result = await findings("invalid-yaml", { "bad.yaml": text });
    expect(result.length).toBeGreaterThanOrEqual(1);
    expect(result[0]).toMatchObject({ severity: "error", file: "bad.yaml", policy: null });
    expect(result[0]?.line).toBeGreaterThanOrEqual(10);
    expect(result[0]?.message).toMatch(/^Invalid YAML: .+; this document was not checked/);
    expect(await findings("to-services-with-to-ports", { "bad.yaml": text })).toHaveLength(1);
  });

  it("says nothing about valid YAML and can be turned off", async () => {
    expect(await findings("invalid-yaml", { "ok.yaml": "a: 1\n" })).toEqual([]);
    expect(await findings("invalid-yaml", { "bad.yaml": "a: [\n" }, { rules: { "invalid-yaml": "off" } })).toEqual([]);
  });
});

describe("templated-file", () => {
  const helmPolicy = [
    "apiVersion: cilium.io/v2",
    "kind: CiliumNetworkPolicy",
    "metadata:",
    "  name: {{ .Release.Name }}",
    "spec:",
    "  endpointSelector: {}",
    "  egress:",
    "    - toServices:", // line 8, column 7
    "        - k8sService:",
    "            serviceName: {{ .Values.vault.name }}",
    "            namespace: vault",
    "      {{- if .Values.restrictPorts }}",
    "      toPorts:",
    "        - ports: [{port: '8200', protocol: TCP}]",
    "      {{- end }}",
  ].join("\n");

  it("warns at the toServices line when a template shows it with toPorts", async () => {
    const result = await findings("templated-file", { "chart/templates/policy.yaml": helmPolicy });
    expect(result).toEqual([expect.objectContaining({ severity: "warning", line: 8, column: 7, fix: "manual" })]);
  });

  it("is info for other templated policies, and silent for templates without Cilium policies", async () => {
    const plain = helmPolicy.replace("toServices", "toEndpoints");
    const result = await findings("templated-file", { "chart/templates/policy.yaml": plain });
    expect(result).toEqual([expect.objectContaining({ severity: "info", line: 1, column: 1 })]);
    const deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: {{ .Release.Name }}}\n";
    expect(await findings("templated-file", { "chart/templates/deploy.yaml": deployment })).toEqual([]);
  });

  it("finds toPorts before or after toServices, block or flow, but not in a neighbouring rule", () => {
    expect(toServicesWithToPortsInText("egress:\n  - toPorts: []\n    toServices: []\n")).toEqual([
      { line: 3, column: 5 },
    ]);
    expect(toServicesWithToPortsInText("egress:\n  - {toServices: [], toPorts: []}\n")).toEqual([
      { line: 2, column: 6 },
    ]);
    expect(toServicesWithToPortsInText("egress:\n  - toServices: []\n  - toPorts: []\n")).toEqual([]);
    expect(toServicesWithToPortsInText("egress:\n  - toPorts: []\n  - toServices: []\n")).toEqual([]);
    expect(toServicesWithToPortsInText("a:\n  toServices: []\nb:\n  toPorts: []\n")).toEqual([]);
  });
});

describe("skipped-file", () => {
  it("says why each manifest was not read", async () => {
    const analysis = await analyse(
      [
        { path: "huge.yaml", size: MAX_FILE_BYTES + 1, content: null },
        source("bin.yaml", new Uint8Array([0x61, 0, 0x62])),
        source("latin1.yml", new Uint8Array([0x61, 0xff, 0x62])),
        source("notes.bin", new Uint8Array([0, 0, 0])),
      ],
      { config: resolveConfig({}) },
    );
    const result = analysis.findings.filter((f) => f.ruleId === "skipped-file");
    expect(result.map((f) => [f.file, f.severity, f.line])).toEqual([
      ["bin.yaml", "info", 1],
      ["huge.yaml", "warning", 1],
      ["latin1.yml", "info", 1],
    ]);
    expect(result[0]?.message).toContain("binary");
    expect(result[1]?.message).toContain(`could not be checked: its ${MAX_FILE_BYTES + 1} bytes were not read`);
    expect(result[2]?.message).toContain("not valid UTF-8");
  });
});
