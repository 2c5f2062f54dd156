// In a namespaced policy, an endpoint selector without a namespace key only ever matches the policy's own namespace.
import { isMap } from "yaml";
import { rulesOf } from "../read/policy.js";
import { hasNamespaceConstraint, isEmptySelector, isPodLabelSelector, labelSelectorFrom } from "../selectors.js";
import type { PolicyRule } from "./rule.js";
import { documentOf, plain, seqItems } from "./yaml-access.js";

export const endpointsMissingNamespace: PolicyRule = {
  meta: {
    id: "endpoints-missing-namespace",
    defaultSeverity: "warning",
    description:
      "A to/fromEndpoints selector without a namespace key whose labels match only pods of other namespaces: it can only match the policy's own namespace.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    const { policy, lookups } = context;
    const own = policy.namespace;
    if (policy.clusterwide || own === undefined) return;
    const document = documentOf(context);
    for (const rule of rulesOf(policy)) {
      const key = rule.direction.startsWith("egress") ? "toEndpoints" : "fromEndpoints";
      for (const item of seqItems(rule.node, key) ?? []) {
        if (!isMap(item)) continue;
        const selector = labelSelectorFrom(plain(item, document));
        // Empty selectors ("my namespace"), explicit namespaces and Cilium-derived labels are deliberate or unknowable.
        if (
          !selector ||
          isEmptySelector(selector) ||
          hasNamespaceConstraint(selector) ||
          !isPodLabelSelector(selector)
        ) {
          continue;
        }
        // Large repositories repeat selectors in many policies: their namespaces are looked up once per analysis.
        const byNamespace = lookups.namespacesMatching(selector);
        const example = byNamespace.values().next().value;
        if (!example) continue;
        if (byNamespace.has(undefined) || byNamespace.has(own)) continue;
        const namespaces = [...byNamespace.keys()].map((namespace) => namespace as string).sort();
        const where = `${example.kind} ${example.name} at ${example.location.file}:${example.location.line}`;
        const fix =
          namespaces.length === 1
            ? `add k8s:io.kubernetes.pod.namespace: ${namespaces[0]} to the selector`
            : `add k8s:io.kubernetes.pod.namespace to the selector, one selector per namespace`;
        context.report({
          at: item,
          message:
            `This ${key} selector has no namespace key, so it only matches pods in namespace ${own}, but the pods it names ` +
            `are defined in ${namespaces.length > 1 ? "namespaces" : "namespace"} ${namespaces.join(", ")} (${where}); ${fix}.`,
        });
      }
    }
  },
};
