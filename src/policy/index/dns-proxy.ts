// Cross-policy facts for rules about "some policy selecting the same pods": which policies of the repository send
// DNS through Cilium's proxy (an egress toPorts entry with `rules.dns` and a port), and for which pods. Cilium unions
// every policy selecting a pod, clusterwide ones included, so a toFQDNs rule is served by any of them.
import type { Manifest } from "../read/manifests.js";
import { isPolicyManifest } from "../read/manifests.js";
import {
  isCiliumDerivedKey,
  isNamespaceKey,
  labelSelectorFrom,
  matchesLabels,
  parseSelectorKey,
  selectorNamespaces,
} from "../selectors.js";
import type { LabelSelector, SourceLocation, WorkloadInfo } from "../types.js";
import { isRecord } from "../records.js";

/** The pods one policy spec sends DNS through the proxy for. */
export interface DnsProxyScope {
  readonly clusterwide: boolean;
  /** The namespaced policy's rendered namespace; undefined for clusterwide policies or an unknown namespace. */
  readonly namespace: string | undefined;
  /** Its endpointSelector; undefined when it cannot be read (then it may select anything in its scope). */
  readonly selector: LabelSelector | undefined;
  readonly location: SourceLocation;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Whether an egress rule sends DNS through the proxy: a toPorts entry with a non-empty `rules.dns` and a port. */
function sendsDnsThroughProxy(rule: unknown): boolean {
  if (!isRecord(rule)) return false;
  return list(rule.toPorts).some(
    (entry) =>
      isRecord(entry) &&
      isRecord(entry.rules) &&
      list(entry.rules.dns).length > 0 &&
      list(entry.ports).some(
        (port) => isRecord(port) && port.port !== undefined && port.port !== null && port.port !== "",
      ),
  );
}

/** The DNS-proxy scopes of one rendered manifest (none unless it is a Cilium policy with such an egress rule). */
export function dnsProxyScopesOf(
  manifest: Pick<Manifest, "apiVersion" | "kind" | "location">,
  value: Readonly<Record<string, unknown>>,
): DnsProxyScope[] {
  if (!isPolicyManifest(manifest)) return [];
  const clusterwide = manifest.kind === "CiliumClusterwideNetworkPolicy";
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  const namespace = clusterwide || typeof metadata.namespace !== "string" ? undefined : metadata.namespace;
  const specs = [value.spec, ...list(value.specs)].filter(isRecord);
  const scopes: DnsProxyScope[] = [];
  for (const spec of specs) {
    // Node (host) policies select nodes, not pods.
    if (spec.nodeSelector !== undefined || !list(spec.egress).some(sendsDnsThroughProxy)) continue;
    scopes.push({
      clusterwide,
      namespace,
      selector: labelSelectorFrom(spec.endpointSelector),
      location: manifest.location,
    });
  }
  return scopes;
}

/**
 * A selector's pod-label requirements, keyed without their `k8s:`/`any:` source. Namespace keys are judged apart;
 * labels Cilium derives (cluster name, namespace labels, service account) are left out, as no pod selector can
 * contradict them: the selector gets the benefit of the doubt on them.
 */
function podLabels(selector: LabelSelector): Map<string, string> | undefined {
  const labels = new Map<string, string>();
  for (const [raw, value] of Object.entries(selector.matchLabels ?? {})) {
    if (isNamespaceKey(raw) || isCiliumDerivedKey(raw)) continue;
    const { source, key } = parseSelectorKey(raw);
    if (source !== undefined && source !== "k8s" && source !== "any") return undefined;
    labels.set(key, value);
  }
  return labels;
}

/** Whether every pod `subject` selects (in its scope) is selected by `scope`, judged from the selectors alone. */
function coversBySelectors(scope: DnsProxyScope, subject: LabelSelector, namespace: string | undefined): boolean {
  const selector = scope.selector;
  // A selector this engine cannot compare (expressions, unreadable) may select those pods: no warning rather than a
  // false one.
  if (selector === undefined || (selector.matchExpressions ?? []).length > 0) return true;
  const pinned = selectorNamespaces(selector);
  if (pinned !== undefined && (namespace === undefined || !pinned.includes(namespace))) return false;
  const required = podLabels(selector);
  const present = podLabels(subject);
  if (required === undefined || present === undefined) return true;
  for (const [key, value] of required) if (present.get(key) !== value) return false;
  return true;
}

/**
 * Whether some DNS-proxy scope serves every pod a spec selects: a clusterwide scope, or one of the same namespace,
 * whose selector is implied by the spec's (or, where the repository defines the pods, selects every one of them).
 */
export function dnsServedElsewhere(
  scopes: readonly DnsProxyScope[],
  subject: {
    readonly selector: LabelSelector | undefined;
    readonly namespace: string | undefined;
    readonly clusterwide: boolean;
  },
  workloads: readonly WorkloadInfo[],
): boolean {
  const { selector, namespace, clusterwide } = subject;
  const inScope = scopes.filter((scope) =>
    scope.clusterwide
      ? true
      : !clusterwide && (scope.namespace === undefined || namespace === undefined || scope.namespace === namespace),
  );
  if (inScope.length === 0) return false;
  if (selector === undefined) return true;
  if (inScope.some((scope) => coversBySelectors(scope, selector, clusterwide ? undefined : namespace))) return true;
  // The pods the repository defines for this spec, each served by some scope.
  const pods = workloads.filter(
    (workload) =>
      (clusterwide ||
        namespace === undefined ||
        workload.namespace === undefined ||
        workload.namespace === namespace) &&
      matchesLabels(selector, workload.podLabels),
  );
  if (pods.length === 0) return false;
  return pods.every((pod) =>
    inScope.some((scope) => {
      if (
        !scope.clusterwide &&
        scope.namespace !== undefined &&
        pod.namespace !== undefined &&
        scope.namespace !== pod.namespace
      ) {
        return false;
      }
      const own = scope.selector;
      if (own === undefined) return true;
      const pinned = selectorNamespaces(own);
      if (pinned !== undefined && (pod.namespace === undefined || !pinned.includes(pod.namespace))) return false;
      const withoutNamespace: LabelSelector = {
        matchLabels: Object.fromEntries(Object.entries(own.matchLabels ?? {}).filter(([key]) => !isNamespaceKey(key))),
        matchExpressions: (own.matchExpressions ?? []).filter((expression) => !isNamespaceKey(expression.key)),
      };
      return matchesLabels(withoutNamespace, pod.podLabels);
    }),
  );
}
