// toServices entries as the rules' messages name them. What they resolve to is the analysis's (context.rewriteOf).
import { readServiceEntry } from "../resolve/resolve.js";
import type { ServiceEntry } from "../resolve/resolve.js";

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
