// toServices entries as the rules see them: what they name, which repository Services they match, how sure a fix is.
import type { Config } from "../config.js";
import type { RepoIndex } from "../repo-index.js";
import { readServiceEntry, resolveServices } from "../resolve.js";
import type { ResolveContext, ServiceEntry } from "../resolve.js";
import { matchesLabels } from "../selectors.js";
import type { FixKind, ServiceInfo } from "../types.js";

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
 * How sure the rewrite of a toServices + toPorts rule is, from the resolver (repository → config → builtin → guessed
 * → manual): "auto" when every entry resolves from the repository, the configuration or a builtin; "guessed" when a
 * selector had to be guessed; "manual" when the rewrite leaves the rule alone (an entry it cannot resolve).
 */
export function toServicesFixKind(
  entries: readonly unknown[],
  policy: ResolveContext["policy"],
  index: RepoIndex,
  config: Config,
): FixKind {
  const context: ResolveContext = { policy, index, config: resolutionConfig(config) };
  const resolved = entries.flatMap((entry) => resolveServices(entry, context));
  if (resolved.length === 0 || resolved.some((service) => service.resolution === "manual")) return "manual";
  if (resolved.some((service) => service.resolution === "guessed")) return "guessed";
  return "auto";
}

function resolutionConfig(config: Config): ResolveContext["config"] {
  return { services: config.services, unresolved: config.unresolved };
}
