// Each spec selects its subject with exactly one of endpointSelector and nodeSelector (Rule validation in Cilium).
import type { PolicyRule } from "./rule.js";
import { mapAt, pairOf } from "./yaml-access.js";

export const invalidSubjectSelector: PolicyRule = {
  meta: {
    id: "invalid-subject-selector",
    defaultSeverity: "error",
    description: "A policy spec has neither or both of endpointSelector and nodeSelector: Cilium rejects the policy.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    for (const spec of context.policy.specs) {
      const endpoint = mapAt(spec.node, "endpointSelector");
      const node = mapAt(spec.node, "nodeSelector");
      if (endpoint && node) {
        context.report({
          at: pairOf(spec.node, "nodeSelector") ?? spec.node,
          message:
            'This spec has both endpointSelector and nodeSelector, which Cilium rejects ("rule cannot have both EndpointSelector and NodeSelector"); keep one, and put the other in a separate spec.',
        });
      } else if (!endpoint && !node) {
        context.report({
          at: spec.node,
          message:
            'This spec selects no subject, which Cilium rejects ("rule must have one of EndpointSelector or NodeSelector"); add endpointSelector (e.g. `endpointSelector: {}` for every pod of the namespace) or nodeSelector.',
        });
      }
    }
  },
};
