// fromRequires/toRequires: deprecated in Cilium 1.17, removed in 1.19.
import { rulesOf } from "../read/policy.js";
import { CILIUM } from "../versions.js";
import type { PolicyRule } from "./rule.js";
import { hasItems, pairOf } from "./yaml-access.js";

const REQUIRES = ["fromRequires", "toRequires"] as const;

export const requiresDeprecated: PolicyRule = {
  meta: {
    id: "requires-deprecated",
    defaultSeverity: "warning",
    description: "fromRequires/toRequires are deprecated since Cilium 1.17 and removed in 1.19.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    const { versions } = context;
    if (!versions.includesAtLeast(CILIUM.requiresDeprecated)) return;
    const removed = versions.includesAtLeast(CILIUM.requiresRemoved);
    for (const rule of rulesOf(context.policy)) {
      for (const key of REQUIRES) {
        const at = pairOf(rule.node, key);
        if (!at || !hasItems(rule.node, key)) continue;
        const peers = key === "fromRequires" ? "fromEndpoints" : "toEndpoints";
        context.report({
          at,
          severity: removed ? "error" : "warning",
          message: removed
            ? `${key} is removed in Cilium 1.19, so the requirement it adds is no longer enforced there; add its labels to every ${peers} selector of the policy instead.`
            : `${key} is deprecated since Cilium 1.17 and removed in 1.19; add its labels to every ${peers} selector of the policy instead.`,
        });
      }
    }
  },
};
