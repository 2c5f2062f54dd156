// Small typed accessors over YAML nodes for rule modules: keys with their positions, non-empty sequences.
import { isMap, isNode, isScalar, isSeq } from "yaml";
import type { Document, Node, Pair, YAMLMap } from "yaml";
import { MAX_ALIAS_COUNT } from "../read/manifests.js";
import { uncheckedVariables } from "../render/view.js";

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

/** Marks a tree plainTree leaves to yaml's toJS. */
const NOT_PLAIN: unique symbol = Symbol("not plain");

/**
 * What toJS gives for a tree of untagged maps and sequences of plain scalars (the quick reader's nodes, most views),
 * without its context; NOT_PLAIN at anything else (an alias, a merge key, a tag, a key or a value that is an object).
 */
function plainTree(node: unknown): unknown {
  if (node === null) return null;
  if (isScalar(node)) {
    const value: unknown = node.value;
    return value !== null && typeof value === "object" ? NOT_PLAIN : value;
  }
  if (!isMap(node) && !isSeq(node)) return NOT_PLAIN;
  if (node.tag !== undefined) return NOT_PLAIN;
  if (isSeq(node)) {
    const array: unknown[] = [];
    for (const item of node.items) {
      const value = plainTree(item);
      if (value === NOT_PLAIN) return NOT_PLAIN;
      array.push(value);
    }
    return array;
  }
  const object: Record<string, unknown> = {};
  for (const { key, value: item } of node.items) {
    if (!isScalar(key) || key.tag !== undefined) return NOT_PLAIN;
    const name: unknown = key.value;
    // A merge key (the composer's symbol, or "<<" where merge keys are off) is toJS's to read.
    const plainKey = name === null || typeof name === "string" || typeof name === "number" || typeof name === "boolean";
    if (!plainKey || name === "<<") return NOT_PLAIN;
    const value = plainTree(item);
    if (value === NOT_PLAIN) return NOT_PLAIN;
    // As toJS names and sets keys: String() of the value ("" for null), an inherited name defined as an own property.
    const stringKey = name === null ? "" : String(name);
    if (stringKey in object) {
      Object.defineProperty(object, stringKey, { value, writable: true, enumerable: true, configurable: true });
    } else object[stringKey] = value;
  }
  return object;
}

/** Plain data of a node, aliases resolved within the document with the same bound as the manifest parse. */
export function plain(node: unknown, document: Document.Parsed | undefined): unknown {
  if (isScalar(node)) return node.value;
  if (!isNode(node) || document === undefined) return undefined;
  const tree = plainTree(node);
  if (tree !== NOT_PLAIN) return tree;
  try {
    return node.toJS(document, { maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    return undefined;
  }
}

/** The parsed document a policy sits in (for alias resolution in `plain`). */
export function documentOf(context: {
  readonly file: { readonly documents: readonly Document.Parsed[] };
  readonly policy: { readonly manifest: { readonly documentIndex: number } };
}): Document.Parsed | undefined {
  return context.file.documents[context.policy.manifest.documentIndex];
}
