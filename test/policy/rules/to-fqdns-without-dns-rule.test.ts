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
  it("reports toFQDNs at its key when no egress rule sends DNS through the proxy", () => {
    const result = findings(RULE, { "p.yaml": cnp("fqdn", "app", fqdnRule.join("\n")) });
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ severity: "warning", line: 11, column: 7, policy: "app/fqdn" });
    expect(result[0]?.message).toContain("rules.dns");
  });

  it("is satisfied by a DNS rule on port 53 in the same spec or in another spec of the policy", () => {
    expect(findings(RULE, { "p.yaml": cnp("fqdn", "app", [...fqdnRule, ...dnsRule].join("\n")) })).toEqual([]);
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
    expect(findings(RULE, { "p.yaml": specs })).toEqual([]);
  });

  it("is satisfied by DNS rules on another port (OpenShift's 5353)", () => {
    const openshift = [...fqdnRule, ...dnsRule].join("\n").replace("port: '53'", "port: '5353'");
    expect(findings(RULE, { "p.yaml": cnp("fqdn", "app", openshift) })).toEqual([]);
  });

  it("is not satisfied by port 53 without L7 DNS rules, nor by DNS rules on ingress", () => {
    const plainDns = [
      ...fqdnRule,
      "    - toEndpoints: [{}]",
      "      toPorts: [{ports: [{port: '53', protocol: UDP}]}]",
      "  ingress:",
      "    - fromEndpoints: [{}]",
      "      toPorts: [{ports: [{port: '53'}], rules: {dns: [{matchPattern: '*'}]}}]",
    ];
    expect(findings(RULE, { "p.yaml": cnp("fqdn", "app", plainDns.join("\n")) })).toHaveLength(1);
  });

  it("says nothing without toFQDNs, and can be turned off", () => {
    expect(
      findings(RULE, { "p.yaml": cnp("n", "app", ["  egress:", "    - toEntities: [world]"].join("\n")) }),
    ).toEqual([]);
    expect(findings(RULE, { "p.yaml": cnp("f", "app", fqdnRule.join("\n")) }, { rules: { [RULE]: "off" } })).toEqual(
      [],
    );
  });
});
