// Cilium: "The ICMPs block may only be present without ToPorts. Define a separate rule to use ToPorts."
import { rulesOf } from "../read/policy.js";
import { denyRuleRejection, isDenyRule } from "./deny-rules.js";
import type { PolicyRule } from "./rule.js";
import { hasItems, pairOf } from "./yaml-access.js";

export const icmpsWithToPorts: PolicyRule = {
  meta: {
    id: "icmps-with-to-ports",
    defaultSeverity: "error",
    description: "A rule has both icmps and toPorts: Cilium rejects the whole policy.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    for (const rule of rulesOf(context.policy)) {
      const at = pairOf(rule.node, "icmps");
      if (!at || !hasItems(rule.node, "icmps") || !hasItems(rule.node, "toPorts")) continue;
      const quoted = '("the ICMPs block may only be present without ToPorts")';
      const move = "move icmps into a separate rule with the same peers.";
      if (isDenyRule(rule.direction)) {
        const { severity, consequence } = denyRuleRejection(context.versions);
        context.report({
          at,
          severity,
          message: `This ${rule.direction} rule has both icmps and toPorts: ${consequence} ${quoted}; ${move}`,
        });
        continue;
      }
      context.report({
        at,
        message: `This ${rule.direction} rule has both icmps and toPorts, which Cilium rejects ${quoted}, so the whole policy is not loaded; ${move}`,
      });
    }
  },
};
