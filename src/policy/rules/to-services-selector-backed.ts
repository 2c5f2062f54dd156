// Before Cilium 1.17, toServices is translated through a Service's Endpoints only when the Service has no selector:
// naming a selector-backed Service matches no destination at all.
import { rulesOf } from "../read/policy.js";
import { CILIUM } from "../versions.js";
import type { PolicyRule } from "./rule.js";
import { describeReference, ruleFixKind, serviceId, serviceReference, servicesMatching } from "./services.js";
import { documentOf, hasItems, plain, seqItems } from "./yaml-access.js";

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
      let fix: ReturnType<typeof ruleFixKind> | undefined;
      for (const item of seqItems(rule.node, "toServices") ?? []) {
        const reference = serviceReference(plain(item, document));
        const backed = servicesMatching(reference, context.index).filter(
          (service) => service.selector !== undefined && Object.keys(service.selector).length > 0,
        );
        const [first] = backed;
        if (!first) continue;
        const names = backed.map(serviceId).join(", ");
        const pods = Object.entries(first.selector ?? {})
          .map(([key, value]) => `${key}: ${value}`)
          .join(", ");
        const namespace = first.namespace === undefined ? "" : `, k8s:io.kubernetes.pod.namespace: ${first.namespace}`;
        const verb = rule.direction === "egress" ? "allows" : "denies";
        fix ??= ruleFixKind(rule, context);
        context.report({
          at: item,
          fix,
          message:
            `toServices ${describeReference(reference)} selects ${backed.length > 1 ? "Services" : "Service"} ${names} with a pod selector ` +
            `(${first.location.file}:${first.location.line}), and before Cilium 1.17 toServices only reaches selector-less Services, ` +
            `so this rule ${verb} nothing there; use toEndpoints with {${pods}${namespace}} instead` +
            (fix === "auto" || fix === "guessed" ? " (`cilium-policy-bot fix` rewrites it)." : "."),
        });
      }
    }
  },
};
