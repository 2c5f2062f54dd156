// In a namespaced policy, an endpoint selector without a namespace key only ever matches the policy's own namespace.
import { isMap } from "yaml";
import { rulesOf } from "../read/policy.js";
import {
  hasNamespaceConstraint,
  isEmptySelector,
  isPodLabelSelector,
  labelSelectorFrom,
  matchesLabels,
  parseSelectorKey,
} from "../selectors.js";
import type { LabelSelector, WorkloadInfo } from "../types.js";
import type { PolicyRule } from "./rule.js";
import { documentOf, plain, seqItems } from "./yaml-access.js";

/** The workloads a selector matches, by namespace (undefined: no namespace known), and the first of them. */
interface Matches {
  readonly namespaces: ReadonlyMap<string | undefined, WorkloadInfo>;
  readonly first: WorkloadInfo | undefined;
}

interface WorkloadLookup {
  /** "key=value" of each pod label → the workloads carrying it, in index order. */
  readonly byLabel: Map<string, WorkloadInfo[]>;
  readonly matches: Map<string, Matches>;
}

/**
 * Per index: workloads by pod label, and matches memoised by selector. Large repositories repeat selectors in many
 * policies (e.g. "everything of the shop"), and matching every selector against every workload is quadratic.
 */
const lookups = new WeakMap<readonly WorkloadInfo[], WorkloadLookup>();

function lookupOf(workloads: readonly WorkloadInfo[]): WorkloadLookup {
  let lookup = lookups.get(workloads);
  if (!lookup) {
    const byLabel = new Map<string, WorkloadInfo[]>();
    for (const workload of workloads) {
      for (const [key, value] of Object.entries(workload.podLabels)) {
        const label = `${key}=${value}`;
        const bucket = byLabel.get(label);
        if (bucket) bucket.push(workload);
        else byLabel.set(label, [workload]);
      }
    }
    lookup = { byLabel, matches: new Map() };
    lookups.set(workloads, lookup);
  }
  return lookup;
}

function matchesOf(workloads: readonly WorkloadInfo[], selector: LabelSelector): Matches {
  const lookup = lookupOf(workloads);
  const cacheKey = JSON.stringify(selector);
  const cached = lookup.matches.get(cacheKey);
  if (cached) return cached;
  // A workload matching the selector carries each of its matchLabels: the bucket of one of them holds every match.
  const [firstLabel] = Object.entries(selector.matchLabels ?? {});
  const candidates = firstLabel
    ? (lookup.byLabel.get(`${parseSelectorKey(firstLabel[0]).key}=${firstLabel[1]}`) ?? [])
    : workloads;
  const namespaces = new Map<string | undefined, WorkloadInfo>();
  let first: WorkloadInfo | undefined;
  for (const workload of candidates) {
    if (!matchesLabels(selector, workload.podLabels)) continue;
    first ??= workload;
    if (!namespaces.has(workload.namespace)) namespaces.set(workload.namespace, workload);
  }
  const matches = { namespaces, first };
  lookup.matches.set(cacheKey, matches);
  return matches;
}

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
    const { policy, index } = context;
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
        const matching = matchesOf(index.workloads, selector);
        const example = matching.first;
        if (!example) continue;
        if (matching.namespaces.has(undefined) || matching.namespaces.has(own)) continue;
        const namespaces = [...matching.namespaces.keys()].map((namespace) => namespace as string).sort();
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
