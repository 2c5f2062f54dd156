// toServices entries as the rules see them: what they name, which repository Services they match, how sure a fix is.
import type { Config } from "../config.js";
import type { RepoIndex } from "../index/repo-index.js";
import { readServiceEntry, resolveServices } from "../resolve/resolve.js";
import type { ResolveContext, ServiceEntry } from "../resolve/resolve.js";
import { planRule } from "../plan/rewrite.js";
import type { EntryResolution } from "../plan/rewrite.js";
import { CILIUM } from "../versions.js";
import type { CiliumVersions } from "../versions.js";
import { matchesLabels } from "../selectors.js";
import type { FixKind, ServiceInfo } from "../types.js";
import { ruleValue, sharedTextReason } from "../read/policy.js";
import type { PolicyRule as PolicyModelRule } from "../read/policy.js";
import type { PolicyRuleContext } from "./rule.js";

/** A toServices entry as written (resolve.ts reads it; one reader for the rules and the resolver). */
export type ServiceReference = ServiceEntry;

/** Reads one `toServices` item (`k8sService` or `k8sServiceSelector`). */
export const serviceReference = readServiceEntry;

/** How a reference reads in a message: "vault/cluster-vault", "cluster-vault (any namespace)", "Services labelled app=x". */
export function describeReference(reference: ServiceReference): string {
  switch (reference.by) {
    case "name":
      return reference.namespace === undefined
        ? `${reference.name} (any namespace)`
        : `${reference.namespace}/${reference.name}`;
    case "selector": {
      const labels = Object.entries(reference.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
      const what = labels.length > 0 ? `Services labelled ${labels.join(",")}` : "Services matching a selector";
      return reference.namespace === undefined ? what : `${what} in ${reference.namespace}`;
    }
    default:
      return "an unreadable entry";
  }
}

export function serviceId(service: ServiceInfo): string {
  return service.namespace === undefined ? service.name : `${service.namespace}/${service.name}`;
}

/**
 * The repository's Services a reference matches: `k8sService` by name (any namespace when it has none);
 * `k8sServiceSelector` by the Service's own labels, not its pod selector.
 */
export function servicesMatching(reference: ServiceReference, index: RepoIndex): ServiceInfo[] {
  const inNamespace = (service: ServiceInfo) =>
    reference.by !== "invalid" && (reference.namespace === undefined || service.namespace === reference.namespace);
  switch (reference.by) {
    case "name":
      return index.services.filter((service) => service.name === reference.name && inNamespace(service));
    case "selector":
      return index.services.filter(
        (service) => inNamespace(service) && matchesLabels(reference.selector, service.labels),
      );
    default:
      return [];
  }
}

/**
 * How `fix` will treat a rule, asked of the rewrite's own planner over the resolver's answers (repository → config →
 * builtin → guessed → manual): "auto" when it rewrites from certain answers, "guessed" when a selector is guessed,
 * "manual" when it leaves the rule for a human, "none" when it would not touch the rule.
 */
export function rewriteFixKind(
  rule: unknown,
  policy: ResolveContext["policy"],
  index: RepoIndex,
  config: Config,
  versions: CiliumVersions,
): FixKind {
  const context: ResolveContext = {
    policy,
    index,
    config: { services: config.services, unresolved: config.unresolved },
  };
  const entries = Array.isArray((rule as { toServices?: unknown } | null)?.toServices)
    ? ((rule as { toServices: unknown[] }).toServices as unknown[])
    : [];
  const resolutions: EntryResolution[] = entries.map((entry) => ({
    entry,
    // As fix.ts does: with `unresolved: skip` a guess is no answer.
    services: resolveServices(entry, context).map((service) =>
      config.unresolved === "skip" && service.resolution === "guessed"
        ? { ...service, resolution: "manual" as const }
        : service,
    ),
  }));
  const plan = planRule(rule, resolutions, {
    translateSelectorServices: versions.includesBelow(CILIUM.translatesSelectorServices),
  });
  switch (plan.kind) {
    case "rewrite":
      return plan.services.some((service) => service.resolution === "guessed") ? "guessed" : "auto";
    case "manual":
      return "manual";
    default:
      return "none";
  }
}

/**
 * How `fix` will treat one rule of the policy model, as fix.ts decides it: rewriteFixKind over the rule as the API
 * server reads it, and "manual" where the rewrite would touch text other places share (read/policy.ts).
 */
export function ruleFixKind(
  rule: PolicyModelRule,
  context: Pick<PolicyRuleContext, "policy" | "index" | "config" | "versions">,
): FixKind {
  const kind = rewriteFixKind(ruleValue(rule), context.policy, context.index, context.config, context.versions);
  return (kind === "auto" || kind === "guessed") && sharedTextReason(context.policy, rule) !== undefined
    ? "manual"
    : kind;
}
