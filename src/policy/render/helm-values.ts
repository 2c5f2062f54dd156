// Helm values as the installers hand them to `helm template`: layers merged in order, `--set`-style paths.
// Plain JSON in, plain JSON out; inputs are never mutated.

import { ownField, setOwnField } from "../own-fields.js";
import { isRecord } from "../records.js";

export type Values = Record<string, unknown>;

/**
 * Helm's merge of a values layer over another (`-f a.yaml -f b.yaml`): maps are merged key by key, any other value
 * (lists included) replaces; a `null` removes the key, as Helm's coalescing does.
 */
export function mergeValues(base: Readonly<Values>, over: Readonly<Values>): Values {
  const merged: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = ownField(merged, key);
    if (value === null) delete merged[key];
    else if (isRecord(value) && isRecord(current)) setOwnField(merged, key, mergeValues(current, value));
    else setOwnField(merged, key, value);
  }
  return merged;
}

/** Merges layers in order: later layers win. Layers that are not maps (an empty or scalar values file) are skipped. */
export function mergeLayers(layers: readonly unknown[]): Values {
  let merged: Values = {};
  for (const layer of layers) if (isRecord(layer)) merged = mergeValues(merged, layer);
  return merged;
}

/** `a.b\.c[0].d` → ["a", "b.c", 0, "d"]: Helm's `--set` path syntax (dots separate, `\.` escapes, `[n]` indexes). */
export function parseValuePath(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  let current = "";
  let pending = false;
  for (let i = 0; i < path.length; i++) {
    const char = path[i] as string;
    if (char === "\\" && i + 1 < path.length) {
      current += path[++i];
      pending = true;
    } else if (char === ".") {
      if (pending) segments.push(current);
      current = "";
      pending = false;
    } else if (char === "[") {
      const close = path.indexOf("]", i);
      const index = close === -1 ? NaN : Number(path.slice(i + 1, close));
      if (!Number.isInteger(index) || index < 0 || index > 10_000) return [path];
      if (pending) segments.push(current);
      segments.push(index);
      current = "";
      pending = false;
      i = close;
    } else {
      current += char;
      pending = true;
    }
  }
  if (pending) segments.push(current);
  return segments;
}

/** A copy of `values` with `value` set at a `--set`-style path, creating maps and lists on the way. */
export function setValueAt(values: Readonly<Values>, path: string, value: unknown): Values {
  const segments = parseValuePath(path);
  if (segments.length === 0) return { ...values };
  const set = (node: unknown, at: number): unknown => {
    const segment = segments[at] as string | number;
    const last = at === segments.length - 1;
    if (typeof segment === "number") {
      const list = Array.isArray(node) ? [...(node as unknown[])] : [];
      while (list.length < segment) list.push(null);
      list[segment] = last ? value : set(list[segment], at + 1);
      return list;
    }
    const map: Values = isRecord(node) ? { ...node } : {};
    setOwnField(map, segment, last ? value : set(ownField(map, segment), at + 1));
    return map;
  };
  return set(values, 0) as Values;
}

/**
 * A `--set` value as Helm types it: `true`/`false`, integers and `null` become those; everything else stays text.
 * (`forceString` keeps text, as `--set-string` does.)
 */
export function typedSetValue(text: string, forceString = false): unknown {
  if (forceString) return text;
  if (text === "true") return true;
  if (text === "false") return false;
  if (text === "null") return null;
  if (/^-?(0|[1-9][0-9]{0,15})$/.test(text)) return Number(text);
  return text;
}
