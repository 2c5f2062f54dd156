// What a kustomize patch changes, as paths into the object it targets, when its content says so plainly: a JSON
// patch's operations (RFC 6902), or a strategic merge patch of a custom resource (kustomize merges its maps and
// replaces its lists: every list or value it writes is a path it changes). Undefined when that cannot be told.
import { parseDocument } from "yaml";
import { MAX_ALIAS_COUNT } from "../read/manifests.js";
import { isRecord } from "../records.js";

export type ObjectPath = readonly (string | number)[];

/** A patch's YAML or JSON text as plain data; undefined when it does not parse cleanly. */
export function readPatchYaml(text: string): unknown {
  try {
    const document = parseDocument(text, { merge: true });
    return document.errors.length > 0 ? undefined : document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    return undefined;
  }
}

function pointer(text: unknown): ObjectPath | undefined {
  if (typeof text !== "string" || !text.startsWith("/")) return undefined;
  return text
    .slice(1)
    .split("/")
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((segment) => (/^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}

const isIndex = (segment: string | number | undefined) => typeof segment === "number" || segment === "-";

function jsonPatchPaths(operations: readonly unknown[]): ObjectPath[] | undefined {
  const paths: ObjectPath[] = [];
  let shifts = false;
  for (const raw of operations) {
    if (!isRecord(raw) || typeof raw.op !== "string") return undefined;
    if (raw.op === "test") continue;
    const path = pointer(raw.path);
    if (!path) return undefined;
    const last = path[path.length - 1];
    if (raw.op === "move" || raw.op === "copy") {
      const from = pointer(raw.from);
      if (!from) return undefined;
      if (raw.op === "move") paths.push(from);
      shifts = true;
    }
    // Inserting into a list changes none of the items already there (it moves them along).
    if ((raw.op === "add" || raw.op === "copy" || raw.op === "move") && isIndex(last)) {
      shifts = true;
      continue;
    }
    if (raw.op === "remove" && isIndex(last)) shifts = true;
    if (raw.op !== "add" && raw.op !== "remove" && raw.op !== "replace" && raw.op !== "move" && raw.op !== "copy") {
      return undefined;
    }
    paths.push(path);
  }
  // Later operations address the list as earlier ones left it: not followed.
  return shifts && operations.length > 1 ? undefined : paths;
}

/** Far deeper than any policy's fields; a deeper patch is not followed (and cannot exhaust the stack). */
const MAX_PATCH_DEPTH = 64;

function mergePatchPaths(content: Record<string, unknown>, at: ObjectPath, paths: ObjectPath[]): boolean {
  if (at.length > MAX_PATCH_DEPTH) return false;
  for (const [key, value] of Object.entries(content)) {
    // $patch, $setElementOrder… directives: not followed.
    if (key.startsWith("$")) return false;
    if (at.length === 0 && (key === "apiVersion" || key === "kind" || key === "metadata")) continue;
    if (isRecord(value)) {
      if (!mergePatchPaths(value, [...at, key], paths)) return false;
    } else {
      paths.push([...at, key]);
    }
  }
  return true;
}

/** The paths a patch's content changes (a JSON patch's list of operations, or a merge patch's object). */
export function changedPaths(content: unknown): ObjectPath[] | undefined {
  if (Array.isArray(content)) return jsonPatchPaths(content);
  if (!isRecord(content)) return undefined;
  const paths: ObjectPath[] = [];
  return mergePatchPaths(content, [], paths) ? paths : undefined;
}

/** Whether changing `changed` changes something at or under `path`, or replaces it whole. */
export function overlaps(changed: ObjectPath, path: ObjectPath): boolean {
  const length = Math.min(changed.length, path.length);
  for (let index = 0; index < length; index++) if (changed[index] !== path[index]) return false;
  return true;
}
