// Before Cilium 1.17, toServices is translated through a Service's Endpoints only when the Service has no selector:
// naming a selector-backed Service matches no destination at all.
import { fixKindOf } from "../plan/fix.js";
import type { ResolvedService } from "../resolve/resolve.js";
import { rulesOf } from "../read/policy.js";
import { CILIUM } from "../versions.js";
import type { PolicyRule } from "./rule.js";
import { describeReference, serviceReference } from "./services.js";
import { documentOf, hasItems, plain, seqItems } from "./yaml-access.js";

/** Known to have a pod selector: the answer the rewrite trusts too (a guessed selector is no evidence of one). */
function isSelectorBacked(service: ResolvedService): boolean {
  return (
    service.resolution !== "guessed" &&
    service.resolution !== "manual" &&
    service.selector !== undefined &&
    Object.keys(service.selector).length > 0
  );
}

function sourceOf(service: ResolvedService): string {
  if (service.location) return `${service.location.file}:${service.location.line}`;
  return service.resolution === "config" ? "configuration `services:`" : "a well-known cluster Service";
}

export const toServicesSelectorBacked: PolicyRule = {
  meta: {
    id: "to-services-selector-backed",
    defaultSeverity: "warning",
    description:
      "toServices names a Service with a pod selector: before Cilium 1.17 such a rule matches nothing (only selector-less Services work).",
    fixable: true,
  },
  scope: "policy",
  check(context) {
    if (!context.versions.includesBelow(CILIUM.translatesSelectorServices)) return;
    const document = documentOf(context);
    for (const rule of rulesOf(context.policy, ["egress", "egressDeny"])) {
      // With toPorts, to-services-with-to-ports already reports the rule, and its rewrite covers this too.
      if (hasItems(rule.node, "toPorts")) continue;
      const items = seqItems(rule.node, "toServices");
      if (!items) continue;
      // The Services each entry names, as the rewrite resolves them: repository, charts, configuration or builtin.
      const { entries, fix } = context.rewriteOf(rule);
      // The rewrite acts on egress rules; a deny rule is left to a person.
      const reported = rule.direction === "egress" ? (fix ?? "none") : "manual";
      const kind = typeof reported === "string" ? reported : fixKindOf(reported);
      items.forEach((item, i) => {
        const backed = (entries[i]?.services ?? []).filter(isSelectorBacked);
        const [first] = backed;
        if (!first) return;
        const reference = serviceReference(plain(item, document));
        const names = backed.map((service) => service.service).join(", ");
        const pods = Object.entries(first.selector ?? {})
          .map(([key, value]) => `${key}: ${value}`)
          .join(", ");
        const namespace = first.namespace === undefined ? "" : `, k8s:io.kubernetes.pod.namespace: ${first.namespace}`;
        const verb = rule.direction === "egress" ? "allows" : "denies";
        context.report({
          at: item,
          fix: reported,
          message:
            `toServices ${describeReference(reference)} selects ${backed.length > 1 ? "Services" : "Service"} ${names} with a pod selector ` +
            `(${sourceOf(first)}), and before Cilium 1.17 toServices only reaches selector-less Services, ` +
            `so this rule ${verb} nothing there; use toEndpoints with {${pods}${namespace}} instead` +
            (kind === "auto" || kind === "guessed" ? " (`cilium-policy-bot fix` rewrites it)." : "."),
        });
      });
    }
  },
};
