import { describe, expect, it } from "vitest";
import { cnp, findings } from "./scan.js";

const RULE = "combined-peer-types";

describe(RULE, () => {
  it("reports the second peer kind of an egress rule at its key, quoting Cilium's error", async () => {
    const text = cnp(
      "mixed",
      "app",
      [
        "  egress:",
        "    - toEndpoints: [{matchLabels: {app: db}}]",
        "      toCIDR: [10.0.0.0/8]", // line 12, column 7
      ].join("\n"),
    );
    const result = await findings(RULE, { "p.yaml": text });
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ severity: "error", line: 12, column: 7, policy: "app/mixed", fix: "none" });
    expect(result[0]?.message).toContain('"combining ToEndpoints and ToCIDR is not supported yet"');
    expect(result[0]?.message).toContain("split them into separate egress rules");
  });

  it("rejects toCIDR with toCIDRSet (Cilium counts them as two members)", async () => {
    const text = cnp(
      "cidrs",
      "app",
      ["  egress:", "    - toCIDR: [10.0.0.0/8]", "      toCIDRSet: [{cidr: 192.168.0.0/16}]"].join("\n"),
    );
    expect((await findings(RULE, { "p.yaml": text })).map((f) => f.line)).toEqual([12]);
  });

  it("reports each extra kind of ingress and deny rules, and the from* forms", async () => {
    const text = cnp(
      "many",
      "app",
      [
        "  ingress:",
        "    - fromEntities: [world]",
        "      fromCIDRSet: [{cidr: 0.0.0.0/0}]", // 12
        "      fromEndpoints: [{}]", // 13
        "  egressDeny:",
        "    - toServices: [{k8sService: {serviceName: a, namespace: b}}]",
        "      toFQDNs: [{matchName: example.com}]", // 16
      ].join("\n"),
    );
    const result = await findings(RULE, { "p.yaml": text });
    expect(result.map((f) => [f.line, f.column])).toEqual([
      [12, 7],
      [13, 7],
      [16, 7],
    ]);
    expect(result[0]?.message).toContain("ingress rule combines fromEntities and fromCIDRSet");
    expect(result[2]?.message).toContain("egressDeny rule combines toServices and toFQDNs");
  });

  it("in deny rules, is an error where Cilium validates them (1.17, some 1.16 patches) and a warning before", async () => {
    // The shape of public clusterwide deny policies: world and a CIDR denied in one rule.
    const text = cnp(
      "deny",
      "app",
      [
        "  ingressDeny:",
        "    - fromEntities: [world]",
        "      fromCIDR: [203.0.113.0/24]", // 12
        "  egress:",
        "    - toEndpoints: [{}]",
        "      toEntities: [world]", // 15
      ].join("\n"),
    );
    const old = await findings(RULE, { "p.yaml": text }, { ciliumVersion: ">=1.14 <1.16" });
    expect(old.map((f) => [f.line, f.severity])).toEqual([
      [12, "warning"],
      [15, "error"],
    ]);
    expect(old[0]?.message).toContain("breaks on upgrade");
    const mixed = await findings(RULE, { "p.yaml": text }, { ciliumVersion: ">=1.14 <1.18" });
    expect(mixed.map((f) => f.severity)).toEqual(["error", "error"]);
    expect(mixed[0]?.message).toContain("older releases load deny rules without checking them");
  });

  it("accepts one peer kind with toPorts, empty lists, and peers in separate rules", async () => {
    const text = cnp(
      "ok",
      "app",
      [
        "  egress:",
        "    - toEndpoints: [{matchLabels: {app: db}}]",
        "      toCIDR: []",
        "      toPorts: [{ports: [{port: '5432', protocol: TCP}]}]",
        "    - toCIDR: [10.0.0.0/8]",
        "    - toEntities: [kube-apiserver]",
        "  ingress:",
        "    - fromEndpoints: [{}]",
        "      toPorts: [{ports: [{port: '80', protocol: TCP}]}]",
      ].join("\n"),
    );
    expect(await findings(RULE, { "p.yaml": text })).toEqual([]);
  });

  it("can be turned off", async () => {
    const text = cnp("m", "a", ["  egress:", "    - toEndpoints: [{}]", "      toEntities: [world]"].join("\n"));
    expect(await findings(RULE, { "p.yaml": text })).toHaveLength(1);
    expect(await findings(RULE, { "p.yaml": text }, { rules: { [RULE]: "off" } })).toEqual([]);
  });
});
