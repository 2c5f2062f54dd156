import { describe, expect, it } from "vitest";
import { cnp, findings } from "./scan.js";

describe("invalid-l7-rules", () => {
  const RULE = "invalid-l7-rules";

  it("reports mixed L7 protocols, l7 without l7proto, DNS on ingress and listener conflicts at their keys", async () => {
    const text = cnp(
      "l7",
      "app",
      [
        "  egress:",
        "    - toEndpoints: [{}]",
        "      toPorts:",
        "        - ports: [{port: '80', protocol: TCP}]",
        "          rules: {http: [{}], kafka: [{topic: t}]}", // 14, column 11
        "        - ports: [{port: '9000', protocol: TCP}]",
        "          rules:",
        "            l7: [{k: v}]", // 17, column 13
        "        - ports: [{port: '80', protocol: TCP}]",
        "          listener: {name: l, envoyConfig: {kind: CiliumEnvoyConfig, name: c}}", // 19
        "          rules: {http: [{}]}",
        "  ingress:",
        "    - fromEndpoints: [{}]",
        "      toPorts:",
        "        - ports: [{port: '53', protocol: UDP}]",
        "          rules:",
        "            dns: [{matchPattern: '*'}]", // 26, column 13
      ].join("\n"),
    );
    const result = await findings(RULE, { "p.yaml": text });
    expect(result.map((f) => [f.line, f.column, f.severity])).toEqual([
      [14, 11, "error"],
      [17, 13, "error"],
      [19, 11, "error"],
      [26, 13, "error"],
    ]);
    expect(result[0]?.message).toContain("mixes http and kafka rules");
    expect(result[1]?.message).toContain("l7proto");
    expect(result[2]?.message).toContain("Listener is not allowed with L7 rules");
    expect(result[3]?.message).toContain("DNS rules are not allowed on ingress");
  });

  it("leaves L7 rules on deny rules to unknown-field, and accepts ordinary L7 rules", async () => {
    const deny = cnp(
      "deny",
      "app",
      [
        "  egressDeny:",
        "    - toEntities: [world]",
        "      toPorts: [{ports: [{port: '80'}], rules: {http: [{method: GET}]}}]",
      ].join("\n"),
    );
    expect(await findings(RULE, { "p.yaml": deny })).toEqual([]);
    const unknown = await findings("unknown-field", { "p.yaml": deny });
    expect(unknown.map((f) => [f.line, f.severity])).toEqual([[12, "warning"]]);
    expect(unknown[0]?.message).toContain("`rules` is a field of allow rules, not of deny rules");
    const ok = cnp(
      "ok",
      "app",
      [
        "  egress:",
        "    - toEndpoints: [{}]",
        "      toPorts: [{ports: [{port: '53', protocol: ANY}], rules: {dns: [{matchPattern: '*'}]}}]",
        "    - toEndpoints: [{}]",
        "      toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {http: [{method: GET}]}}]",
        "    - toEndpoints: [{}]",
        "      toPorts: [{ports: [{port: '6379', protocol: TCP}], rules: {l7proto: r2d2, l7: [{cmd: READ}]}}]",
      ].join("\n"),
    );
    expect(await findings(RULE, { "p.yaml": ok })).toEqual([]);
  });
});

describe("icmps-with-to-ports", () => {
  const RULE = "icmps-with-to-ports";

  it("reports icmps next to toPorts at the icmps key, not icmps alone", async () => {
    const text = cnp(
      "icmp",
      "app",
      [
        "  egress:",
        "    - toEndpoints: [{}]",
        "      icmps: [{fields: [{type: 8, family: IPv4}]}]", // 12, column 7
        "      toPorts: [{ports: [{port: '80'}]}]",
        "    - toEndpoints: [{}]",
        "      icmps: [{fields: [{type: 8}]}]",
      ].join("\n"),
    );
    const result = await findings(RULE, { "p.yaml": text });
    expect(result.map((f) => [f.line, f.column, f.severity])).toEqual([[12, 7, "error"]]);
    expect(result[0]?.message).toContain("move icmps into a separate rule");
    expect(await findings(RULE, { "p.yaml": text }, { rules: { [RULE]: "off" } })).toEqual([]);
  });

  it("in a deny rule, is an error only where Cilium validates deny rules (1.17, some 1.16 patches)", async () => {
    // The shape of a clusterwide deny policy blocking ping and SSH to a range (egressDeny with icmps beside toPorts).
    const text = cnp(
      "deny",
      "app",
      [
        "  egressDeny:",
        "    - toCIDRSet: [{cidr: 10.0.0.0/8}]",
        "      icmps: [{fields: [{type: 8, family: IPv4}]}]", // 12
        "      toPorts: [{ports: [{port: '22', protocol: TCP}]}]",
      ].join("\n"),
    );
    const old = await findings(RULE, { "p.yaml": text }, { ciliumVersion: ">=1.14 <1.16" });
    expect(old.map((f) => [f.line, f.severity])).toEqual([[12, "warning"]]);
    expect(old[0]?.message).toContain("Cilium before 1.16 loads deny rules without checking them");
    const current = await findings(RULE, { "p.yaml": text }, { ciliumVersion: ">=1.17" });
    expect(current.map((f) => [f.line, f.severity])).toEqual([[12, "error"]]);
    expect(current[0]?.message).toContain("Cilium 1.17 and later");
    expect(current[0]?.message).not.toContain("older releases");
  });
});

describe("invalid-subject-selector", () => {
  const RULE = "invalid-subject-selector";
  const header = ["apiVersion: cilium.io/v2", "kind: CiliumClusterwideNetworkPolicy", "metadata: {name: host}"];

  it("reports a spec with both selectors at nodeSelector, and one with neither at the spec", async () => {
    const text = [
      ...header,
      "specs:",
      "  - endpointSelector: {}",
      "    nodeSelector: {}", // 6, column 5
      "    ingress: [{fromEntities: [world]}]",
      "  - ingress: [{fromEntities: [world]}]", // 8, column 5
      "  - nodeSelector: {matchLabels: {role: worker}}",
      "    ingress: [{fromEntities: [cluster]}]",
    ].join("\n");
    const result = await findings(RULE, { "p.yaml": text });
    expect(result.map((f) => [f.line, f.column, f.severity, f.policy])).toEqual([
      [6, 5, "error", "host"],
      [8, 5, "error", "host"],
    ]);
    expect(result[0]?.message).toContain("both endpointSelector and nodeSelector");
    expect(result[1]?.message).toContain("selects no subject");
  });

  it("accepts an empty endpointSelector and can be turned off", async () => {
    const ok = [...header, "spec:", "  endpointSelector: {}", "  egress: [{toEntities: [world]}]"].join("\n");
    expect(await findings(RULE, { "p.yaml": ok })).toEqual([]);
    const bad = [...header, "spec:", "  egress: [{toEntities: [world]}]"].join("\n");
    expect(await findings(RULE, { "p.yaml": bad })).toHaveLength(1);
    expect(await findings(RULE, { "p.yaml": bad }, { rules: { [RULE]: "off" } })).toEqual([]);
  });
});

describe("invalid-selector", () => {
  const RULE = "invalid-selector";

  it("reports bad operators, missing or extra values, and bad keys and values where they are written", async () => {
    const text = cnp(
      "sel",
      "app",
      [
        "  egress:",
        "    - toEndpoints:",
        "        - matchExpressions:",
        "            - {key: app, operator: Equals, values: [x]}", // 13, column 15
        "            - {key: tier, operator: In}", // 14
        "            - {key: tier, operator: Exists, values: [a]}", // 15
        "            - {key: tier, operator: In, values: ['bad value']}", // 16, value at column 50
        "        - matchLabels:",
        '            "": x', // 18, column 13
        "            k8s:app: -bad-", // 19
      ].join("\n"),
    );
    const result = await findings(RULE, { "p.yaml": text });
    expect(result.map((f) => [f.line, f.column])).toEqual([
      [13, 15],
      [14, 15],
      [15, 15],
      [16, 50],
      [18, 13],
      [19, 13],
    ]);
    expect(result[0]?.message).toContain('the operator "Equals" of app is not one of In, NotIn, Exists, DoesNotExist');
    expect(result[1]?.message).toContain("the In expression on tier has no values");
    expect(result[2]?.message).toContain("must not list values");
    expect(result[3]?.message).toContain('the value "bad value" of tier is not a label value');
    expect(result[4]?.message).toContain('label key "" is empty');
    expect(result[5]?.message).toContain('the value "-bad-" of k8s:app');
    expect(result[0]?.message).toContain("In egress toEndpoints");
  });

  it("checks the spec's endpointSelector and accepts valid selectors with sources and Cilium keys", async () => {
    const bad = cnp("s", "app", "  ingress: [{fromEntities: [world]}]").replace(
      "      app: client",
      "      app: client\n      'app/': x",
    );
    expect((await findings(RULE, { "p.yaml": bad })).map((f) => f.message)).toEqual([
      expect.stringContaining('In endpointSelector, label key "app/" is not a label name'),
    ]);
    const ok = cnp(
      "ok",
      "app",
      [
        "  ingress:",
        "    - fromEndpoints:",
        "        - matchLabels: {k8s:io.kubernetes.pod.namespace: vault, app.kubernetes.io/name: vault, any:tier: ''}",
        "        - matchLabels: {k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name: x, reserved:host: ''}",
        "        - matchExpressions: [{key: app, operator: NotIn, values: [a, b]}, {key: x, operator: DoesNotExist}]",
      ].join("\n"),
    );
    expect(await findings(RULE, { "p.yaml": ok })).toEqual([]);
    expect(await findings(RULE, { "p.yaml": bad }, { rules: { [RULE]: "off" } })).toEqual([]);
  });
});

describe("invalid-selector value types", () => {
  it("reports label values written as numbers or booleans", async () => {
    const text = cnp(
      "types",
      "app",
      ["  ingress:", "    - fromEndpoints:", "        - matchLabels: {version: 2, enabled: true, tier: '2'}"].join(
        "\n",
      ),
    );
    const result = await findings("invalid-selector", { "p.yaml": text });
    expect(result.map((f) => [f.line, f.column])).toEqual([
      [12, 25],
      [12, 37],
    ]);
    expect(result[0]?.message).toContain("the value of version is written as a number (2)");
    expect(result[1]?.message).toContain('quote it: "true"');
  });
});

describe("invalid-selector operator spelling", () => {
  it("names the right spelling of a lower-case operator", async () => {
    const text = cnp(
      "case",
      "app",
      [
        "  ingress:",
        "    - fromEndpoints:",
        "        - matchExpressions: [{key: app, operator: notin, values: [a]}]",
      ].join("\n"),
    );
    const [finding] = await findings("invalid-selector", { "p.yaml": text });
    expect(finding?.message).toContain('the operator "notin" of app must be written NotIn');
  });
});
