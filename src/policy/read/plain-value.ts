// Plain data of YAML nodes, as yaml's toJS gives it: converted by hand for plain trees (the quick reader's nodes, most
// views), many times faster than toJS; through toJS for anything else (aliases, merge keys, tags).
// test/policy/rules/yaml-access.test.ts holds the two equal over every collection of the project's and Cilium's YAML.
import { isMap, isNode, isScalar, isSeq } from "yaml";
import type { Document } from "yaml";

/** Alias expansion budget per document: bounds YAML "billion laughs" bombs. */
export const MAX_ALIAS_COUNT = 100;

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

/** A whole document's `toJS()` value (fresh objects on every call): by hand for plain trees; toJS's errors are thrown. */
export function documentValue(document: Document.Parsed): unknown {
  const tree = plainTree(document.contents);
  return tree !== NOT_PLAIN ? tree : document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
}
