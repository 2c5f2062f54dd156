// toFQDNs only works once Cilium's DNS proxy sees the lookups: an egress rule with `rules.dns` on port 53.
import { rulesOf } from "../read/policy.js";
import type { PolicyRule } from "./rule.js";
import { readPort } from "./invalid-port.js";
import { mapAt, mapItems, pairOf, scalarAt, seqItems, uncheckedAt } from "./yaml-access.js";
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
      "toFQDNs in a policy with no egress rule sending DNS (port 53) through Cilium's DNS proxy: no IPs are learned.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    const egress = [...rulesOf(context.policy, ["egress"])];
    const hasDnsRule = egress.some((rule) => mapItems(rule.node, "toPorts").some(interceptsDns));
    if (hasDnsRule) return;
    for (const rule of egress) {
      const at = pairOf(rule.node, "toFQDNs");
      if (!at || seqItems(rule.node, "toFQDNs") === undefined) continue;
      context.report({
        at,
        message:
          "toFQDNs allows nothing until Cilium's DNS proxy sees the lookups, and no egress rule of this policy has a `rules.dns` entry on port 53; " +
          'add an egress rule to the DNS server with toPorts [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}] ' +
          "(unless another policy selecting the same pods has one).",
      });
    }
  },
};
