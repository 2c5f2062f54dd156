// toServices entries as the rules' messages name them. What they resolve to is the analysis's (context.rewriteOf).
import type { ServiceEntry } from "../resolve/resolve.js";

/** Reads one `toServices` item (`k8sService` or `k8sServiceSelector`): the resolver's reader, one for both. */
export { readServiceEntry as serviceReference } from "../resolve/resolve.js";

/** How a reference reads in a message: "vault/cluster-vault", "cluster-vault (any namespace)", "Services labelled app=x". */
export function describeReference(reference: ServiceEntry): string {
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
