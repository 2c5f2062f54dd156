// toServices entries as the rules see them: what they name, which repository Services they match, how sure a fix is.
import type { Config } from "../config.js";
import type { RepoIndex } from "../repo-index.js";
import { labelSelectorFrom, matchesLabels } from "../selectors.js";
import type { FixKind, LabelSelector, ServiceInfo } from "../types.js";

export type ServiceReference =
  | { readonly by: "name"; readonly name: string; readonly namespace: string | undefined }
  | { readonly by: "selector"; readonly selector: LabelSelector; readonly namespace: string | undefined }
  | { readonly by: "unknown" };

/** Reads one `toServices` item (`k8sService` or `k8sServiceSelector`). */
export function serviceReference(value: unknown): ServiceReference {
  if (value === null || typeof value !== "object") return { by: "unknown" };
  const entry = value as { k8sService?: unknown; k8sServiceSelector?: unknown };
  const namespaceOf = (raw: unknown) => {
    const namespace = (raw as { namespace?: unknown }).namespace;
    return typeof namespace === "string" && namespace !== "" ? namespace : undefined;
  };
  if (entry.k8sService !== null && typeof entry.k8sService === "object") {
    const name = (entry.k8sService as { serviceName?: unknown }).serviceName;
    if (typeof name === "string" && name !== "") return { by: "name", name, namespace: namespaceOf(entry.k8sService) };
  }
  if (entry.k8sServiceSelector !== null && typeof entry.k8sServiceSelector === "object") {
    const selector = labelSelectorFrom((entry.k8sServiceSelector as { selector?: unknown }).selector);
    if (selector) return { by: "selector", selector, namespace: namespaceOf(entry.k8sServiceSelector) };
  }
  return { by: "unknown" };
}

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
    reference.by !== "unknown" && (reference.namespace === undefined || service.namespace === reference.namespace);
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

/** Services whose backends Cilium reaches without the repository: `default/kubernetes` is the API server. */
function isBuiltin(reference: ServiceReference): boolean {
  return reference.by === "name" && reference.name === "kubernetes" && reference.namespace === "default";
}

function isConfigured(reference: ServiceReference, config: Config): boolean {
  if (reference.by !== "name") return false;
  return Object.keys(config.services).some((key) =>
    reference.namespace === undefined
      ? key.endsWith(`/${reference.name}`)
      : key === `${reference.namespace}/${reference.name}`,
  );
}

/**
 * "auto" when every entry resolves from the repository, the configuration or a builtin; "guessed" otherwise.
 * The one place to switch to the resolver (src/policy/resolve.ts) once it exports one.
 */
export function toServicesFixKind(references: readonly ServiceReference[], index: RepoIndex, config: Config): FixKind {
  const resolves = (reference: ServiceReference) =>
    isBuiltin(reference) ||
    isConfigured(reference, config) ||
    (reference.by === "name" && servicesMatching(reference, index).length > 0);
  return references.length > 0 && references.every(resolves) ? "auto" : "guessed";
}
