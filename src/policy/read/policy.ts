// The Cilium policy model over a manifest: its specs and the rules inside them, each with its YAML node.
import { isMap, isSeq } from "yaml";
import type { YAMLMap } from "yaml";
import type { Manifest, PolicyKind } from "./manifests.js";
import { isPolicyManifest } from "./manifests.js";

export type Direction = "egress" | "egressDeny" | "ingress" | "ingressDeny";
export const DIRECTIONS: readonly Direction[] = ["egress", "egressDeny", "ingress", "ingressDeny"];

/**
 * The L3 peer kinds Cilium counts per direction (pkg/policy/api/rule_validation.go, l3Members): a rule may carry
 * only one of them. Deny rules share the same members.
 */
export const EGRESS_PEER_KEYS = [
  "toEndpoints",
  "toCIDR",
  "toCIDRSet",
  "toEntities",
  "toServices",
  "toFQDNs",
  "toGroups",
  "toNodes",
] as const;
export const INGRESS_PEER_KEYS = [
  "fromEndpoints",
  "fromCIDR",
  "fromCIDRSet",
  "fromEntities",
  "fromGroups",
  "fromNodes",
] as const;

export function peerKeysOf(direction: Direction): readonly string[] {
  return direction.startsWith("egress") ? EGRESS_PEER_KEYS : INGRESS_PEER_KEYS;
}

export interface PolicySpec {
  readonly node: YAMLMap;
  /** Path from the manifest's node: ["spec"] or ["specs", i]. */
  readonly path: readonly (string | number)[];
}

/** One ingress/egress rule of a spec. */
export interface PolicyRule {
  readonly direction: Direction;
  readonly node: YAMLMap;
  readonly spec: PolicySpec;
  /** Index of the rule in its direction's sequence (kustomize JSON patches address rules by it). */
  readonly index: number;
  /** Path from the manifest's node, e.g. ["spec", "egress", 0]. */
  readonly path: readonly (string | number)[];
}

export interface Policy {
  readonly manifest: Manifest;
  readonly kind: PolicyKind;
  readonly clusterwide: boolean;
  /** Name and namespace as rendered (kustomize namePrefix/namespace applied). */
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  /** "namespace/name", or "name" when clusterwide or the namespace is unknown; null without a name. */
  readonly id: string | null;
  readonly specs: readonly PolicySpec[];
}

export function policyFrom(
  manifest: Manifest,
  rendered: { name: string | undefined; namespace: string | undefined },
): Policy | undefined {
  if (!isPolicyManifest(manifest)) return undefined;
  const clusterwide = manifest.kind === "CiliumClusterwideNetworkPolicy";
  const namespace = clusterwide ? undefined : rendered.namespace;
  const name = rendered.name;
  const specs: PolicySpec[] = [];
  const spec = manifest.node.get("spec", true);
  if (isMap(spec)) specs.push({ node: spec, path: ["spec"] });
  const many = manifest.node.get("specs", true);
  if (isSeq(many)) {
    many.items.forEach((item, i) => {
      if (isMap(item)) specs.push({ node: item, path: ["specs", i] });
    });
  }
  const id = name === undefined ? null : namespace === undefined ? name : `${namespace}/${name}`;
  return { manifest, kind: manifest.kind as PolicyKind, clusterwide, name, namespace, id, specs };
}

export function* rulesOf(policy: Policy, directions: readonly Direction[] = DIRECTIONS): Generator<PolicyRule> {
  for (const spec of policy.specs) {
    for (const direction of directions) {
      const seq = spec.node.get(direction, true);
      if (!isSeq(seq)) continue;
      for (let index = 0; index < seq.items.length; index++) {
        const node = seq.items[index];
        if (isMap(node)) yield { direction, node, spec, index, path: [...spec.path, direction, index] };
      }
    }
  }
}
