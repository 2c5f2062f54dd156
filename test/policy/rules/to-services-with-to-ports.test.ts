import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { cnp, findings } from "./scan.js";

const RULE = "to-services-with-to-ports";

// Lines 1-9 are the header written by cnp(); the body starts at line 10.
const vaultPolicy = cnp(
  "minio-egress",
  "minio",
  [
    "  egress:",
    "    - toServices:", // line 11, key at column 7
    "        - k8sService:",
    "            serviceName: cluster-vault",
    "            namespace: vault",
    "      toPorts:",
    "        - ports:",
    '            - port: "8200"',
    "              protocol: TCP",
  ].join("\n"),
);

describe(RULE, () => {
  it("reports the egress rule at its toServices key with both consequences for the default range", async () => {
    const [finding, ...rest] = await findings(RULE, { "minio/policy.yaml": vaultPolicy });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      severity: "error",
      file: "minio/policy.yaml",
      line: 11,
      column: 7,
      policy: "minio/minio-egress",
    });
    expect(finding?.message).toContain("vault/cluster-vault");
    expect(finding?.message).toContain("any destination on those ports is allowed");
    expect(finding?.message).toContain("the whole policy is rejected at load time and enforces nothing");
  });

  it("says why the rewrite cannot act when it cannot (a Service Cilium makes for its Gateway has no pods)", async () => {
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(new URL("../../fixtures/real-shapes/cilium-gateway/front.yaml", import.meta.url), "utf8");
    const [finding, ...rest] = await findings(RULE, { "edge/front.yaml": text });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ severity: "error", line: 26, fix: "manual" });
    expect(finding?.message).toContain(
      "`cilium-policy-bot fix` cannot rewrite it: edge/cilium-gateway-lan: a Service made by Cilium",
    );
    expect(finding?.message).not.toContain("rewrite toServices as toEndpoints");
  });

  it("gives only the ≤1.13 consequence for an old range", async () => {
    const [finding] = await findings(RULE, { "p.yaml": vaultPolicy }, { ciliumVersion: "~1.12.0 || ~1.13.0" });
    expect(finding?.severity).toBe("error");
    expect(finding?.message).toContain("any destination on those ports is allowed");
    expect(finding?.message).not.toContain("rejected");
  });

  it("gives only the rejection for 1.14–1.16", async () => {
    const [finding] = await findings(RULE, { "p.yaml": vaultPolicy }, { ciliumVersion: ">=1.14 <1.17" });
    expect(finding?.severity).toBe("error");
    expect(finding?.message).toContain("rejected at load time");
    expect(finding?.message).not.toContain("any destination");
  });

  it("is info only when the whole range is 1.17 or later", async () => {
    const [finding] = await findings(RULE, { "p.yaml": vaultPolicy }, { ciliumVersion: ">=1.17" });
    expect(finding?.severity).toBe("info");
    expect(finding?.message).toContain("accepted since Cilium 1.17; rewrite optional");
    const [mixed] = await findings(RULE, { "p.yaml": vaultPolicy }, { ciliumVersion: ">=1.16" });
    expect(mixed?.severity).toBe("error");
  });

  it("writes no guess into a rule every version judged enforces as written (1.17 and later)", async () => {
    const [native] = await findings(RULE, { "p.yaml": vaultPolicy }, { ciliumVersion: ">=1.17" });
    expect(native?.fix).toBe("manual");
    const [older] = await findings(RULE, { "p.yaml": vaultPolicy }, { ciliumVersion: ">=1.16" });
    expect(older?.fix).toBe("guessed");
    // A Service the repository defines is still rewritten: the same selector Cilium would use.
    const service =
      "apiVersion: v1\nkind: Service\nmetadata: {name: cluster-vault, namespace: vault}\nspec: {selector: {app: vault}}\n";
    const [known] = await findings(
      RULE,
      { "p.yaml": vaultPolicy, "vault/svc.yaml": service },
      { ciliumVersion: ">=1.17" },
    );
    expect(known?.fix).toBe("auto");
  });

  it("marks the fix auto when the Service is in the repository or the config, guessed otherwise", async () => {
    expect((await findings(RULE, { "p.yaml": vaultPolicy }))[0]?.fix).toBe("guessed");
    const configured = await findings(
      RULE,
      { "p.yaml": vaultPolicy },
      { services: { "vault/cluster-vault": { selector: { app: "vault" } } } },
    );
    expect(configured[0]?.fix).toBe("auto");
  });

  it("marks the fix auto through the engine when the repository defines the Service", async () => {
    const service =
      "apiVersion: v1\nkind: Service\nmetadata: {name: cluster-vault, namespace: vault}\nspec: {selector: {app: vault}}\n";
    expect((await findings(RULE, { "p.yaml": vaultPolicy, "vault/svc.yaml": service }))[0]?.fix).toBe("auto");
  });

  it("takes the fix kind from the rewrite's plan: repo, config, builtin → auto; a guess → guessed; unresolved → manual", async () => {
    const vault =
      "apiVersion: v1\nkind: Service\nmetadata: {name: cluster-vault, namespace: vault}\n" +
      "spec: {selector: {app: vault}, ports: [{port: 80}]}\n";
    const kind = async (value: unknown, config = {}) => {
      const body = stringify({ egress: [{ toServices: [value], toPorts: [{ ports: [{ port: "80" }] }] }] });
      const policy = cnp("p", "minio", body.replace(/^/gm, "  "));
      return (await findings(RULE, { "p.yaml": policy, "vault/svc.yaml": vault }, config))[0]?.fix;
    };
    expect(await kind({ k8sService: { serviceName: "cluster-vault", namespace: "vault" } })).toBe("auto");
    expect(await kind({ k8sService: { serviceName: "cluster-vault" } })).toBe("auto");
    expect(await kind({ k8sService: { serviceName: "kubernetes", namespace: "default" } })).toBe("auto");
    expect(await kind({ k8sService: { serviceName: "cluster-vault", namespace: "other" } })).toBe("guessed");
    const skip = { unresolved: "skip" };
    expect(await kind({ k8sService: { serviceName: "cluster-vault", namespace: "other" } }, skip)).toBe("manual");
    expect(await kind({ k8sServiceSelector: { selector: { matchLabels: { app: "nothing" } } } })).toBe("manual");
    expect(await kind({ bogus: true })).toBe("manual");
  });

  it("marks the fix manual when the rule also has another peer kind (the rewrite leaves it alone)", async () => {
    const mixed = vaultPolicy.replace("      toPorts:", "      toCIDR: [10.0.0.0/8]\n      toPorts:");
    expect((await findings(RULE, { "p.yaml": mixed }))[0]?.fix).toBe("manual");
  });

  it("says nothing about toServices without toPorts, toPorts alone, ingress, or an empty toPorts list", async () => {
    const clean = cnp(
      "clean",
      "minio",
      [
        "  egress:",
        "    - toServices:",
        "        - k8sService: {serviceName: a, namespace: b}",
        "    - toEndpoints: [{matchLabels: {app: x}}]",
        "      toPorts: [{ports: [{port: '80', protocol: TCP}]}]",
        "    - toServices: [{k8sService: {serviceName: c, namespace: d}}]",
        "      toPorts: []",
        "  ingress:",
        "    - fromEndpoints: [{matchLabels: {app: y}}]",
        "      toPorts: [{ports: [{port: '80'}]}]",
      ].join("\n"),
    );
    expect(await findings(RULE, { "p.yaml": clean })).toEqual([]);
  });

  it("finds every offending rule across specs and List items, and names every service", async () => {
    const text = [
      "apiVersion: v1",
      "kind: List",
      "items:",
      "  - apiVersion: cilium.io/v2",
      "    kind: CiliumClusterwideNetworkPolicy",
      "    metadata: {name: wide}",
      "    specs:",
      "      - endpointSelector: {}",
      "        egress:",
      "          - toPorts: [{ports: [{port: '53', protocol: UDP}]}]",
      "            toServices:",
      "              - k8sService: {serviceName: dns}",
      "              - k8sServiceSelector: {selector: {matchLabels: {tier: db}}, namespace: data}",
    ].join("\n");
    const result = await findings(RULE, { "list.yaml": text });
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ line: 11, column: 13, policy: "wide", fix: "manual" });
    expect(result[0]?.message).toContain("dns (any namespace), Services labelled tier=db in data");
  });

  it("can be turned off or re-graded in the config", async () => {
    expect(await findings(RULE, { "p.yaml": vaultPolicy }, { rules: { [RULE]: "off" } })).toEqual([]);
    expect((await findings(RULE, { "p.yaml": vaultPolicy }, { rules: { [RULE]: "warning" } }))[0]?.severity).toBe(
      "warning",
    );
  });
});
