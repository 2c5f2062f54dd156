import { describe, expect, it } from "vitest";
import { cnp, findings } from "./scan.js";

const RULE = "to-fqdns-without-dns-rule";

const fqdnRule = [
  "  egress:",
  "    - toFQDNs: [{matchName: api.example.com}]",
  "      toPorts: [{ports: [{port: '443', protocol: TCP}]}]",
];
const dnsRule = [
  "    - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]",
  "      toPorts:",
  "        - ports: [{port: '53', protocol: ANY}]",
  "          rules:",
  "            dns: [{matchPattern: '*'}]",
];

describe(RULE, () => {
  it("reports toFQDNs at its key when no egress rule sends DNS through the proxy", async () => {
    const result = await findings(RULE, { "p.yaml": cnp("fqdn", "app", fqdnRule.join("\n")) });
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ severity: "warning", line: 11, column: 7, policy: "app/fqdn" });
    expect(result[0]?.message).toContain("rules.dns");
  });

  it("is satisfied by a DNS rule on port 53 in the same spec or in another spec of the policy", async () => {
    expect(await findings(RULE, { "p.yaml": cnp("fqdn", "app", [...fqdnRule, ...dnsRule].join("\n")) })).toEqual([]);
    const specs = [
      "apiVersion: cilium.io/v2",
      "kind: CiliumNetworkPolicy",
      "metadata: {name: split, namespace: app}",
      "specs:",
      "  - endpointSelector: {}",
      "    egress:",
      "      - toFQDNs: [{matchPattern: '*.example.com'}]",
      "  - endpointSelector: {}",
      "    egress:",
      "      - toEndpoints: [{}]",
      "        toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*'}]}}]",
    ].join("\n");
    expect(await findings(RULE, { "p.yaml": specs })).toEqual([]);
  });

  it("is satisfied by DNS rules on another port (OpenShift's 5353)", async () => {
    const openshift = [...fqdnRule, ...dnsRule].join("\n").replace("port: '53'", "port: '5353'");
    expect(await findings(RULE, { "p.yaml": cnp("fqdn", "app", openshift) })).toEqual([]);
  });

  it("is not satisfied by port 53 without L7 DNS rules, nor by DNS rules on ingress", async () => {
    const plainDns = [
      ...fqdnRule,
      "    - toEndpoints: [{}]",
      "      toPorts: [{ports: [{port: '53', protocol: UDP}]}]",
      "  ingress:",
      "    - fromEndpoints: [{}]",
      "      toPorts: [{ports: [{port: '53'}], rules: {dns: [{matchPattern: '*'}]}}]",
    ];
    expect(await findings(RULE, { "p.yaml": cnp("fqdn", "app", plainDns.join("\n")) })).toHaveLength(1);
  });

  it("says nothing without toFQDNs, and can be turned off", async () => {
    expect(
      await findings(RULE, { "p.yaml": cnp("n", "app", ["  egress:", "    - toEntities: [world]"].join("\n")) }),
    ).toEqual([]);
    expect(
      await findings(RULE, { "p.yaml": cnp("f", "app", fqdnRule.join("\n")) }, { rules: { [RULE]: "off" } }),
    ).toEqual([]);
  });
});

describe(`${RULE} across policies (Cilium unions every policy selecting a pod)`, () => {
  const dns = (kind: string, namespace: string | undefined, selector: string) =>
    [
      "apiVersion: cilium.io/v2",
      `kind: ${kind}`,
      `metadata: {name: dns${namespace ? `, namespace: ${namespace}` : ""}}`,
      "spec:",
      `  endpointSelector: ${selector}`,
      "  egress:",
      ...dnsRule.map((line) => line.slice(2)),
    ].join("\n");
  const fqdn = cnp("fqdn", "app", fqdnRule.join("\n"));

  it("is satisfied by a clusterwide DNS policy for all pods", async () => {
    const { readFileSync } = await import("node:fs");
    const read = (name: string) =>
      readFileSync(new URL(`../../fixtures/real-shapes/dns/${name}`, import.meta.url), "utf8");
    expect(await findings(RULE, { "fqdn.yaml": read("fqdn-egress.yaml") })).toHaveLength(1);
    expect(
      await findings(RULE, { "fqdn.yaml": read("fqdn-egress.yaml"), "dns.yaml": read("clusterwide-dns.yaml") }),
    ).toEqual([]);
  });

  it("is satisfied by a policy of the same namespace whose selector every such pod matches", async () => {
    expect(await findings(RULE, { "p.yaml": fqdn, "dns.yaml": dns("CiliumNetworkPolicy", "app", "{}") })).toEqual([]);
    expect(
      await findings(RULE, {
        "p.yaml": fqdn,
        "dns.yaml": dns("CiliumNetworkPolicy", "app", "{matchLabels: {app: client}}"),
      }),
    ).toEqual([]);
  });

  it("is not satisfied by another namespace's policy, nor by one selecting other pods", async () => {
    expect(
      await findings(RULE, { "p.yaml": fqdn, "dns.yaml": dns("CiliumNetworkPolicy", "other", "{}") }),
    ).toHaveLength(1);
    expect(
      await findings(RULE, {
        "p.yaml": fqdn,
        "dns.yaml": dns("CiliumNetworkPolicy", "app", "{matchLabels: {app: web}}"),
      }),
    ).toHaveLength(1);
    expect(
      await findings(RULE, {
        "p.yaml": fqdn,
        "dns.yaml": dns(
          "CiliumClusterwideNetworkPolicy",
          undefined,
          "{matchLabels: {k8s:io.kubernetes.pod.namespace: other}}",
        ),
      }),
    ).toHaveLength(1);
  });

  it("gives a selector on labels Cilium derives (cluster name, namespace labels, service account) the benefit of the doubt", async () => {
    const { readFileSync } = await import("node:fs");
    const read = (name: string) =>
      readFileSync(new URL(`../../fixtures/real-shapes/dns-cluster-label/${name}`, import.meta.url), "utf8");
    expect(await findings(RULE, { "fqdn.yaml": read("fqdn-egress.yaml") })).toHaveLength(1);
    expect(
      await findings(RULE, { "fqdn.yaml": read("fqdn-egress.yaml"), "dns.yaml": read("clusterwide-dns.yaml") }),
    ).toEqual([]);
    for (const derived of [
      "{matchLabels: {io.cilium.k8s.namespace.labels.team: payments}}",
      "{matchLabels: {k8s:io.cilium.k8s.policy.serviceaccount: client}}",
    ]) {
      expect(
        await findings(RULE, { "p.yaml": fqdn, "dns.yaml": dns("CiliumClusterwideNetworkPolicy", undefined, derived) }),
      ).toEqual([]);
    }
    // A pod label the subject's selector contradicts still counts against it.
    expect(
      await findings(RULE, {
        "p.yaml": fqdn,
        "dns.yaml": dns(
          "CiliumClusterwideNetworkPolicy",
          undefined,
          "{matchLabels: {io.cilium.k8s.policy.cluster: default, app: web}}",
        ),
      }),
    ).toHaveLength(1);
  });

  it("gives a selector it cannot compare (matchExpressions) the benefit of the doubt", async () => {
    const expressions = "{matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}";
    expect(
      await findings(RULE, {
        "p.yaml": fqdn,
        "dns.yaml": dns("CiliumClusterwideNetworkPolicy", undefined, expressions),
      }),
    ).toEqual([]);
  });

  it("is satisfied when every pod the repository defines for the selector is selected by DNS policies", async () => {
    const deployment = [
      "apiVersion: apps/v1",
      "kind: Deployment",
      "metadata: {name: client, namespace: app}",
      "spec:",
      "  selector: {matchLabels: {app: client}}",
      "  template:",
      "    metadata: {labels: {app: client, dns: proxied}}",
      "    spec: {containers: [{name: c, image: c}]}",
    ].join("\n");
    const byLabel = dns("CiliumNetworkPolicy", "app", "{matchLabels: {dns: proxied}}");
    expect(await findings(RULE, { "p.yaml": fqdn, "dns.yaml": byLabel })).toHaveLength(1);
    expect(await findings(RULE, { "p.yaml": fqdn, "dns.yaml": byLabel, "d.yaml": deployment })).toEqual([]);
  });
});
