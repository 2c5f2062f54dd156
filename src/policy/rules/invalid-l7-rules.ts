// L7 rule shapes Cilium rejects at load time (pkg/policy/api/rule_validation.go: PortRule and L7Rules validation).
// Deny rules have no L7 parts in the CRD schema: unknown-field names those.
import { isScalar } from "yaml";
import type { YAMLMap } from "yaml";
import { rulesOf } from "../read/policy.js";
import { isDenyRule } from "./deny-rules.js";
import type { PolicyRule, PolicyRuleContext } from "./rule.js";
import { hasItems, mapAt, mapItems, pairOf, seqItems } from "./yaml-access.js";

const L7_TYPES = ["http", "kafka", "dns", "l7proto"] as const;

function present(map: YAMLMap, key: string): boolean {
  const value = map.get(key, true);
  return value !== undefined && !(isScalar(value) && (value.value === null || value.value === ""));
}

function checkEntry(context: PolicyRuleContext, entry: YAMLMap, ingress: boolean): void {
  const rulesAt = pairOf(entry, "rules");
  const rules = mapAt(entry, "rules");
  const types = rules ? L7_TYPES.filter((type) => present(rules, type)) : [];
  if (rules && types.length > 1) {
    context.report({
      at: rulesAt ?? entry,
      message: `This toPorts entry mixes ${types.join(" and ")} rules, which Cilium rejects ("multiple L7 protocol rule types specified in single rule"); put each protocol in its own toPorts entry.`,
    });
  }
  if (rules && present(rules, "l7") && !present(rules, "l7proto")) {
    context.report({
      at: pairOf(rules, "l7") ?? rules,
      message: "`l7` rules need `l7proto` naming the parser, and Cilium rejects them without it; add l7proto.",
    });
  }
  if (ingress && rules && seqItems(rules, "dns") !== undefined) {
    context.report({
      at: pairOf(rules, "dns") ?? rules,
      message:
        "DNS rules are not allowed on ingress and Cilium rejects the whole policy; move them to an egress rule of the pods that make the lookups.",
    });
  }
  const listenerAt = pairOf(entry, "listener");
  if (listenerAt && ingress) {
    context.report({
      at: listenerAt,
      message:
        'Cilium rejects a listener on ingress ("Listener is not allowed on ingress"); redirect on egress instead.',
    });
  } else if (listenerAt && types.length > 0) {
    context.report({
      at: listenerAt,
      message:
        'Cilium rejects a listener together with L7 rules ("Listener is not allowed with L7 rules"); enforce the L7 rules in the listener\'s Envoy configuration instead.',
    });
  }
  const serverNamesAt = pairOf(entry, "serverNames");
  if (serverNamesAt && hasItems(entry, "serverNames") && types.length > 0 && !pairOf(entry, "terminatingTLS")) {
    context.report({
      at: serverNamesAt,
      message:
        'Cilium rejects serverNames with L7 rules unless TLS is terminated ("ServerNames are not allowed with L7 rules without TLS termination"); add terminatingTLS or drop the L7 rules.',
    });
  }
}

export const invalidL7Rules: PolicyRule = {
  meta: {
    id: "invalid-l7-rules",
    defaultSeverity: "error",
    description:
      "L7 rules Cilium rejects: several protocols in one entry, DNS on ingress, l7 without l7proto, listener conflicts.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    for (const rule of rulesOf(context.policy)) {
      if (isDenyRule(rule.direction)) continue;
      const ingress = rule.direction.startsWith("ingress");
      for (const entry of mapItems(rule.node, "toPorts")) checkEntry(context, entry, ingress);
    }
  },
};
