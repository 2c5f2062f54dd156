// toServices + toPorts in one egress rule: what it does depends on the Cilium version (cilium/cilium#20067).
import { rulesOf, sharedTextReason } from "../read/policy.js";
import type { Severity } from "../types.js";
import { CILIUM } from "../versions.js";
import type { CiliumVersions } from "../versions.js";
import type { PolicyRule } from "./rule.js";
import { describeReference, serviceReference } from "./services.js";
import { documentOf, hasItems, pairOf, plain, seqItems } from "./yaml-access.js";

/** The version-specific consequence for a configured range, and the severity it deserves. */
export function toServicesWithToPortsConsequence(versions: CiliumVersions): {
  severity: Severity;
  consequence: string;
} {
  const consequences: string[] = [];
  if (versions.includesBelow(CILIUM.rejectsToServicesWithToPorts)) {
    consequences.push("on Cilium ≤1.13 any destination on those ports is allowed");
  }
  if (versions.includesBetween(CILIUM.rejectsToServicesWithToPorts, CILIUM.translatesSelectorServices)) {
    consequences.push(
      "on Cilium 1.14–1.16 the whole policy is rejected at load time and enforces nothing (default deny included)",
    );
  }
  if (consequences.length === 0) {
    return { severity: "info", consequence: "accepted since Cilium 1.17; rewrite optional" };
  }
  return { severity: "error", consequence: consequences.join(", and ") };
}

export const toServicesWithToPorts: PolicyRule = {
  meta: {
    id: "to-services-with-to-ports",
    defaultSeverity: "error",
    description:
      "An egress rule combines toServices with toPorts: Cilium ≤1.13 allows any destination on those ports, 1.14–1.16 reject the whole policy.",
    fixable: true,
  },
  scope: "policy",
  check(context) {
    const document = documentOf(context);
    // Only egress: Cilium 1.14–1.16 validate ingress and egress rules, not deny rules (pkg/policy/api/rule_validation.go).
    for (const rule of rulesOf(context.policy, ["egress"])) {
      const services = seqItems(rule.node, "toServices");
      const at = pairOf(rule.node, "toServices");
      if (!services || !at || !hasItems(rule.node, "toPorts")) continue;
      const entries = services.map((item) => plain(item, document));
      const references = entries.map(serviceReference);
      const { severity, consequence } = toServicesWithToPortsConsequence(context.versions);
      const named = references.map(describeReference).join(", ");
      const shared = sharedTextReason(context.policy, rule);
      const { fix } = context.rewriteOf(rule);
      // What the rewrite itself says it cannot do (a Service with no pods to select, another peer kind, …).
      const unplanned = fix?.plan.kind === "manual" || fix?.plan.kind === "error" ? fix.plan.reason : undefined;
      const action =
        severity === "info"
          ? ""
          : shared !== undefined
            ? `; \`cilium-policy-bot fix\` does not rewrite it: ${shared}`
            : unplanned !== undefined
              ? `; \`cilium-policy-bot fix\` cannot rewrite it: ${unplanned}`
              : "; rewrite toServices as toEndpoints selecting the Service's pods (`cilium-policy-bot fix`)";
      context.report({
        at,
        severity,
        // The rewrite acts on every egress rule with toServices and toPorts; when it cannot, a person must.
        fix: fix ?? "manual",
        message: `toServices (${named}) is combined with toPorts: ${consequence}${action}.`,
      });
    }
  },
};
