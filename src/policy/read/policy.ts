// The Cilium policy model over a manifest: its specs and the rules inside them, each with its YAML node.
import { isAlias, isMap, isNode, isScalar, isSeq, visit } from "yaml";
import type { Document, YAMLMap } from "yaml";
import type { Manifest, PolicyKind } from "./manifests.js";
import { isPolicyManifest } from "./manifests.js";
import { DocumentView, isMergeKey, mayNeedView } from "../render/view.js";
import { combineSubstitutions, NO_SUBSTITUTION, scalarSubstitute } from "../render/flux-substitution.js";
import type { Substitution } from "../render/flux-substitution.js";

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
  /** The spec as the API server receives it (render/view.ts): aliases followed, merge keys expanded, substituted. */
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
  /** The manifest's node as the API server receives it (render/view.ts); rules read this, never manifest.node. */
  readonly node: YAMLMap;
  readonly kind: PolicyKind;
  readonly clusterwide: boolean;
  /** Name and namespace as rendered (kustomize namePrefix/namespace applied). */
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  /** "namespace/name", or "name" when clusterwide or the namespace is unknown; null without a name. */
  readonly id: string | null;
  readonly specs: readonly PolicySpec[];
  /** Its specs' ingress and egress rules, in spec and DIRECTIONS order: read once, for every rule that walks them. */
  readonly rules: readonly PolicyRule[];
  /** The Flux substitution its view applies, when its text holds `${…}` (render/flux-substitution.ts). */
  readonly substitution?: Substitution;
}

/** How a manifest is rendered: its name and namespace, and the Flux substitution of each rendering. */
export interface RenderedPolicy {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  /** Every rendering's substitution (undefined where one substitutes nothing); absent: none known. */
  readonly substitutions?: ReadonlyArray<Substitution | undefined>;
}

/**
 * The substitution a policy's view applies over all its renderings: a variable is known when every rendering gives
 * it the same value; a rendering that substitutes nothing, or none at all, leaves its variables unchecked.
 */
function substitutionOfRenderings(substitutions: ReadonlyArray<Substitution | undefined>): Substitution {
  return combineSubstitutions(substitutions.map((s) => s ?? NO_SUBSTITUTION)) ?? NO_SUBSTITUTION;
}

/** What the view of a policy needs from its file: the text (to skip the view when nothing needs one), the documents. */
export interface PolicySource {
  readonly text: string;
  readonly documents: readonly Document.Parsed[];
}

/**
 * Reads the policies of one file. The views of a document are shared by its manifests (the items of a List), so a
 * reader lives as long as one pass over the file's manifests: the engine makes one per file.
 */
export class PolicyReader {
  readonly #views = new Map<number, DocumentView>();

  constructor(private readonly source?: PolicySource) {}

  policyOf(manifest: Manifest, rendered: RenderedPolicy): Policy | undefined {
    if (!isPolicyManifest(manifest)) return undefined;
    const source = this.source;
    const substitution =
      source && source.text.includes("${") ? substitutionOfRenderings(rendered.substitutions ?? []) : undefined;
    const view =
      source && (substitution !== undefined || mayNeedView(source.text))
        ? this.#viewOf(manifest.documentIndex)
        : undefined;
    const node = view
      ? view.of(manifest.node, substitution ? { substitute: scalarSubstitute(substitution) } : {})
      : manifest.node;
    return policyAt(manifest, node, rendered, substitution);
  }

  #viewOf(documentIndex: number): DocumentView | undefined {
    const known = this.#views.get(documentIndex);
    if (known) return known;
    const document = this.source?.documents[documentIndex];
    if (!document) return undefined;
    const view = new DocumentView(document);
    this.#views.set(documentIndex, view);
    return view;
  }
}

/** The policy a manifest holds, read from `node` (its view). */
function policyAt(
  manifest: Manifest,
  node: YAMLMap,
  rendered: RenderedPolicy,
  substitution: Substitution | undefined,
): Policy {
  const clusterwide = manifest.kind === "CiliumClusterwideNetworkPolicy";
  const namespace = clusterwide ? undefined : rendered.namespace;
  const name = rendered.name;
  const specs: PolicySpec[] = [];
  const spec = node.get("spec", true);
  if (isMap(spec)) specs.push({ node: spec, path: ["spec"] });
  const many = node.get("specs", true);
  if (isSeq(many)) {
    many.items.forEach((item, i) => {
      if (isMap(item)) specs.push({ node: item, path: ["specs", i] });
    });
  }
  const id = name === undefined ? null : namespace === undefined ? name : `${namespace}/${name}`;
  return {
    manifest,
    node,
    kind: manifest.kind as PolicyKind,
    clusterwide,
    name,
    namespace,
    id,
    specs,
    rules: specs.flatMap(rulesOfSpec),
    ...(substitution ? { substitution } : {}),
  };
}

function rulesOfSpec(spec: PolicySpec): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const direction of DIRECTIONS) {
    const seq = spec.node.get(direction, true);
    if (!isSeq(seq)) continue;
    for (let index = 0; index < seq.items.length; index++) {
      const node = seq.items[index];
      if (isMap(node)) rules.push({ direction, node, spec, index, path: [...spec.path, direction, index] });
    }
  }
  return rules;
}

/** The policy's rules of the given directions (all by default), in spec and DIRECTIONS order. */
export function rulesOf(policy: Policy, directions: readonly Direction[] = DIRECTIONS): readonly PolicyRule[] {
  return directions === DIRECTIONS ? policy.rules : policy.rules.filter((rule) => directions.includes(rule.direction));
}

/**
 * Why a rule cannot be rewritten in place, or undefined when it can: its own bytes must be where it is read, and mean
 * the same everywhere. A rule reached through an alias or a merge key, carrying an anchor, or inside a collection
 * another place aliases, shares its text with other places, and rewriting that text would change what they read too.
 * A rule holding Flux variables (`${…}`) is text every cluster substitutes its own values into: a rewrite would write
 * one cluster's values there. (Aliases and anchors inside the rule are left to the splice's proof, which refuses an
 * edit removing an anchor something else still needs.)
 */
export function sharedTextReason(policy: Policy, rule: PolicyRule): string | undefined {
  const why =
    "this rule is written through a YAML anchor, alias or merge key (&, *, <<) whose text other places share, so rewriting it would change them too; rewrite it by hand";
  let node: unknown = policy.manifest.node;
  for (const step of rule.path) {
    if (isAlias(node) || (isNode(node) && node.anchor)) return why;
    if (isMap(node)) {
      node = node.items.find((pair) => isScalar(pair.key) && pair.key.value === step)?.value;
    } else if (isSeq(node) && typeof step === "number") {
      node = node.items[step];
    } else {
      return why;
    }
  }
  if (!isMap(node) || node.anchor || node.items.some((pair) => isMergeKey(pair.key))) return why;
  if (policy.substitution !== undefined && holdsVariables(node)) {
    return "this rule uses Flux variables (${…}) that each cluster substitutes, so a rewrite would write one cluster's values into text they all share; rewrite it by hand, keeping the variables";
  }
  return undefined;
}

function holdsVariables(node: YAMLMap): boolean {
  let found = false;
  visit(node, {
    Scalar(_key, scalar) {
      if (typeof scalar.value === "string" && scalar.value.includes("${")) {
        found = true;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** A rule as plain data, as the API server reads it (aliases followed, merge keys expanded, substituted). */
export function ruleValue(rule: PolicyRule): unknown {
  return rule.node.toJSON();
}
