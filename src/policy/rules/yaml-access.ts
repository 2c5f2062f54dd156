// Small typed accessors over YAML nodes for rule modules: keys with their positions, non-empty sequences.
import { isMap, isScalar, isSeq } from "yaml";
import type { Document, Node, Pair, YAMLMap } from "yaml";
import { uncheckedVariables } from "../render/view.js";

export { plain } from "../read/plain-value.js";

/** The pair of `key` in a map, so a finding can point at the key. */
export function pairOf(map: YAMLMap, key: string): Pair<Node, Node> | undefined {
  return map.items.find((pair) => isScalar(pair.key) && pair.key.value === key) as Pair<Node, Node> | undefined;
}

/** The items of `key` when it is a non-empty sequence (Cilium counts `len(...)`: an empty list is absent). */
export function seqItems(map: YAMLMap, key: string): Node[] | undefined {
  const value = map.get(key, true);
  if (!isSeq(value) || value.items.length === 0) return undefined;
  return value.items as Node[];
}

export function hasItems(map: YAMLMap, key: string): boolean {
  return seqItems(map, key) !== undefined;
}

/** The map items of a sequence (anything else is skipped). */
export function mapItems(map: YAMLMap, key: string): YAMLMap[] {
  return (seqItems(map, key) ?? []).filter((item): item is YAMLMap => isMap(item));
}

export function mapAt(map: YAMLMap, key: string): YAMLMap | undefined {
  const value = map.get(key, true);
  return isMap(value) ? value : undefined;
}

/**
 * Whether a node's value is unchecked: it holds a `${VAR}` nothing is known to define (render/view.ts). Rules judging
 * values skip those; the unchecked-variables rule says so once per policy.
 */
export function isUnchecked(node: unknown): boolean {
  return uncheckedVariables(node) !== undefined;
}

/** Whether the value of `key` is unchecked (see isUnchecked). */
export function uncheckedAt(map: YAMLMap, key: string): boolean {
  return isUnchecked(map.get(key, true));
}

/** A scalar's value as written (number, string, boolean, null), or undefined for non-scalars. */
export function scalarAt(map: YAMLMap, key: string): unknown {
  const value = map.get(key, true);
  return isScalar(value) ? value.value : undefined;
}

export function stringAt(map: YAMLMap, key: string): string | undefined {
  const value = scalarAt(map, key);
  return typeof value === "string" ? value : undefined;
}

/** The parsed document a policy sits in (for alias resolution in `plain`). */
export function documentOf(context: {
  readonly file: { readonly documents: readonly Document.Parsed[] };
  readonly policy: { readonly manifest: { readonly documentIndex: number } };
}): Document.Parsed | undefined {
  return context.file.documents[context.policy.manifest.documentIndex];
}
