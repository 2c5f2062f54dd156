// Cilium accepts one L3 peer kind per rule; any two together make it reject the whole policy at load time.
import { isScalar } from "yaml";
import { peerKeysOf, rulesOf } from "../read/policy.js";
import { denyRuleRejection, isDenyRule } from "./deny-rules.js";
import type { PolicyRule } from "./rule.js";
import { hasItems, pairOf } from "./yaml-access.js";

/** Cilium's spelling of a member in its error message: ToCIDRSet, FromEndpoints. */
function goName(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}

export const combinedPeerTypes: PolicyRule = {
  meta: {
    id: "combined-peer-types",
    defaultSeverity: "error",
    description: "A rule combines two L3 peer kinds (e.g. toEndpoints and toCIDR): Cilium rejects the whole policy.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    for (const rule of rulesOf(context.policy)) {
      // In document order, so the finding lands on the key that made the rule invalid.
      const present = rule.node.items
        .map((pair) => (isScalar(pair.key) ? pair.key.value : undefined))
        .filter((key): key is string => typeof key === "string")
        .filter((key) => peerKeysOf(rule.direction).includes(key) && hasItems(rule.node, key));
      if (present.length < 2) continue;
      const [first, ...others] = present as [string, ...string[]];
      for (const other of others) {
        const at = pairOf(rule.node, other);
        if (!at) continue;
        const quoted = `("combining ${goName(first)} and ${goName(other)} is not supported yet")`;
        const split = `split them into separate ${rule.direction} rules.`;
        if (isDenyRule(rule.direction)) {
          const { severity, consequence } = denyRuleRejection(context.versions);
          context.report({
            at,
            severity,
            message: `${rule.direction} rule combines ${first} and ${other}: ${consequence} ${quoted}; ${split}`,
          });
          continue;
        }
        context.report({
          at,
          message: `${rule.direction} rule combines ${first} and ${other}, which Cilium rejects ${quoted} so the whole policy is not loaded; ${split}`,
        });
      }
    }
  },
};
