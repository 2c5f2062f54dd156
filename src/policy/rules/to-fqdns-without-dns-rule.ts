// toFQDNs only works once Cilium's DNS proxy sees the lookups: an egress rule with `rules.dns` on some port, in this
// policy or in any other policy selecting the same pods (Cilium unions them; clusterwide policies included).
import { dnsServedElsewhere } from "../index/dns-proxy.js";
import { rulesOf } from "../read/policy.js";
import { labelSelectorFrom } from "../selectors.js";
import type { PolicyRule } from "./rule.js";
import { readPort } from "./invalid-port.js";
import { documentOf, mapAt, mapItems, pairOf, plain, scalarAt, seqItems, uncheckedAt } from "./yaml-access.js";
import type { YAMLMap } from "yaml";

/**
 * Whether a toPorts entry sends DNS through the proxy: `rules.dns` with a port. Port 53 is usual; Cilium accepts
 * others (OpenShift's DNS listens on 5353), so any port counts.
 */
function interceptsDns(portRule: YAMLMap): boolean {
  const rules = mapAt(portRule, "rules");
  if (!rules || seqItems(rules, "dns") === undefined) return false;
  // An unchecked `${VAR}` port gets the benefit of the doubt.
  return mapItems(portRule, "ports").some(
    (entry) => uncheckedAt(entry, "port") || readPort(scalarAt(entry, "port")).kind !== "invalid",
  );
}

export const toFqdnsWithoutDnsRule: PolicyRule = {
  meta: {
    id: "to-fqdns-without-dns-rule",
    defaultSeverity: "warning",
    description:
      "toFQDNs for pods no policy of the repository (this one, one of its namespace, or a clusterwide one) sends DNS through Cilium's DNS proxy for: no IPs are learned.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    const { policy, index } = context;
    const egress = [...rulesOf(policy, ["egress"])];
    const hasDnsRule = egress.some((rule) => mapItems(rule.node, "toPorts").some(interceptsDns));
    if (hasDnsRule) return;
    const served = new Map<YAMLMap, boolean>();
    const servedElsewhere = (spec: YAMLMap): boolean => {
      let answer = served.get(spec);
      if (answer === undefined) {
        const selector = labelSelectorFrom(plain(spec.get("endpointSelector", true), documentOf(context)));
        answer =
          spec.get("nodeSelector", true) === undefined &&
          dnsServedElsewhere(
            index.dnsProxyScopes ?? [],
            { selector, namespace: policy.namespace, clusterwide: policy.clusterwide },
            index.workloads,
          );
        served.set(spec, answer);
      }
      return answer;
    };
    for (const rule of egress) {
      const at = pairOf(rule.node, "toFQDNs");
      if (!at || seqItems(rule.node, "toFQDNs") === undefined) continue;
      if (servedElsewhere(rule.spec.node)) continue;
      context.report({
        at,
        message:
          "toFQDNs allows nothing until Cilium's DNS proxy sees the lookups, and no policy of this repository selecting these pods (this one, one of its namespace, or a clusterwide one) has an egress `rules.dns` entry; " +
          'add an egress rule to the DNS server with toPorts [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}] ' +
          "(unless a policy this scan does not see, such as one a Helm chart installs, has one).",
      });
    }
  },
};
