// Flux post-build variable substitution (kustomize-controller, fluxcd/pkg kustomize/kustomize_varsub.go): after
// kustomize build, each resource not labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled` is
// written as YAML, `${VAR}` expressions are replaced (drone/envsubst: `${VAR}`, `${VAR:-default}`, `${VAR:=default}`,
// `${VAR-default}`, `${VAR=default}`; `$$` escapes a `$`), and the text is read again: kustomize writes each scalar
// in its source style, so a quoted value stays a string and a plain one takes the type it reads as (80, true). Variables come from `spec.postBuild.substituteFrom` (ConfigMaps
// and Secrets, in order, later ones winning) and then `spec.postBuild.substitute` (winning over both); newlines are
// removed from values. With no variable at all, Flux substitutes nothing.
//
// What this engine cannot know (a ConfigMap or Secret that is not in the repository, a SOPS-encrypted Secret, a
// variable nothing defines, bash string functions) is not guessed: such a value is "unchecked", and a rule says so.
import { parseDocument, Scalar } from "yaml";
import { MAX_ALIAS_COUNT } from "../read/manifests.js";
import type { ScalarRewrite } from "./view.js";
import { setOwnField } from "../own-fields.js";
import { namePatternMatches } from "./name-pattern.js";
import { readPatchYaml } from "./patch-paths.js";
import { isRecord } from "../records.js";
import { matchesLabels, parseLabelSelectorText } from "../selectors.js";
import type { LabelSelector } from "../types.js";
import { refusedSecretReason, secretDataOf, utf8Text } from "./secret-data.js";

export const SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute";

/** The variables one Flux Kustomization substitutes into the resources it applies. */
export interface Substitution {
  /** The Flux Kustomization(s) it comes from ("clusters/prod/apps.yaml#flux-system/apps"), for messages. */
  readonly from: readonly string[];
  /** Variables whose values are known. */
  readonly values: ReadonlyMap<string, string>;
  /**
   * Why variables not in `values` may still have one: sources this engine cannot read ("ConfigMap cluster-vars is
   * not in this repository"). Empty: a variable not in `values` is defined nowhere.
   */
  readonly unknownSources: readonly string[];
  /**
   * The names those sources may define: "any" when one of them is not readable at all (not in the repository), else
   * the keys of the ones whose values only are hidden (a SOPS-encrypted Secret keeps its keys in clear).
   */
  readonly unknownNames?: ReadonlySet<string> | "any";
  /** Variables whose values differ between the Flux Kustomizations applying the same file: unchecked. */
  readonly conflicting?: ReadonlySet<string>;
}

/** A reference of `spec.postBuild.substituteFrom`. */
export interface SubstituteReference {
  readonly kind: string;
  readonly name: string;
  readonly optional: boolean;
}

/** `spec.postBuild` as read (patches applied). */
export interface PostBuild {
  readonly substitute: Readonly<Record<string, string>>;
  readonly substituteFrom: readonly SubstituteReference[];
}

/** Reads `spec.postBuild`; undefined when there is none. */
export function readPostBuild(value: unknown): PostBuild | undefined {
  if (!isRecord(value)) return undefined;
  const substitute: Record<string, string> = {};
  if (isRecord(value.substitute)) {
    for (const [key, item] of Object.entries(value.substitute)) {
      if (item !== null && typeof item !== "object") substitute[key] = String(item);
    }
  }
  const substituteFrom: SubstituteReference[] = [];
  for (const entry of Array.isArray(value.substituteFrom) ? value.substituteFrom : []) {
    if (!isRecord(entry) || typeof entry.name !== "string") continue;
    substituteFrom.push({
      kind: typeof entry.kind === "string" ? entry.kind : "ConfigMap",
      name: entry.name,
      optional: entry.optional === true,
    });
  }
  return { substitute, substituteFrom };
}

/** `base` with `patch` merged over it, as a strategic merge patch of a CRD does: maps merge, lists are replaced. */
export function mergePostBuild(
  base: PostBuild | undefined,
  patch: PostBuild,
  replaceSubstituteFrom: boolean,
): PostBuild {
  return {
    substitute: { ...(base?.substitute ?? {}), ...patch.substitute },
    substituteFrom: replaceSubstituteFrom
      ? patch.substituteFrom
      : [...(base?.substituteFrom ?? []), ...patch.substituteFrom],
  };
}

/** A postBuild as the Flux Kustomization applying it substitutes it (values and source names; unknown ones kept). */
export function substitutePostBuild(postBuild: PostBuild, outer: Substitution): PostBuild {
  const text = (value: string) => {
    const result = substituteText(value, outer);
    return result.unchecked.length > 0 ? value : result.text;
  };
  return {
    substitute: Object.fromEntries(Object.entries(postBuild.substitute).map(([key, value]) => [key, text(value)])),
    substituteFrom: postBuild.substituteFrom.map((reference) => ({ ...reference, name: text(reference.name) })),
  };
}

/** The data of a ConfigMap or Secret in the repository, or why it cannot be read. */
export type VariableSource =
  | { readonly data: Readonly<Record<string, string>> }
  | { readonly unreadable: string; readonly keys?: readonly string[] };

/** A ConfigMap's `data`, a Secret's `data` (base64) and `stringData`; SOPS-encrypted Secrets are unreadable. */
export function variableSourceOf(kind: string, value: Readonly<Record<string, unknown>>): VariableSource {
  if ("sops" in value) {
    // SOPS encrypts the values and keeps the keys: the names it defines are known, their values are not.
    const keys = [value.data, value.stringData].flatMap((map) => (isRecord(map) ? Object.keys(map) : []));
    return { unreadable: `${kind} ${String(nameOf(value))} is SOPS-encrypted`, keys };
  }
  const data: Record<string, string> = {};
  const plainData = isRecord(value.data) ? value.data : {};
  if (kind !== "Secret") {
    for (const [key, item] of Object.entries(plainData)) {
      if (item !== null && typeof item !== "object") data[key] = String(item);
    }
    return { data };
  }
  const decoded = secretDataOf(plainData);
  if ("refusedKey" in decoded) return { unreadable: refusedSecretReason(nameOf(value), decoded.refusedKey) };
  for (const [key, bytes] of decoded.values) {
    const text = utf8Text(bytes);
    if (text === undefined) return { unreadable: `Secret ${String(nameOf(value))} key ${key} is not UTF-8 text` };
    data[key] = text;
  }
  if (isRecord(value.stringData)) {
    for (const [key, item] of Object.entries(value.stringData)) {
      if (item !== null && typeof item !== "object") data[key] = String(item);
    }
  }
  return { data };
}

function nameOf(value: Readonly<Record<string, unknown>>): unknown {
  return isRecord(value.metadata) ? value.metadata.name : undefined;
}

/**
 * The variables of one Flux Kustomization: its substituteFrom sources in order (looked up by `lookup`: undefined when
 * the repository has no such object), then its inline `substitute`.
 */
export function substitutionOf(
  from: string,
  postBuild: PostBuild,
  lookup: (reference: SubstituteReference) => VariableSource | undefined,
): Substitution {
  const values = new Map<string, string>();
  const unknownSources: string[] = [];
  let unknownNames: Set<string> | "any" = new Set();
  for (const reference of postBuild.substituteFrom) {
    const source = lookup(reference);
    if (source === undefined) {
      unknownSources.push(`${reference.kind} ${reference.name} is not in this repository`);
      unknownNames = "any";
      continue;
    }
    if ("unreadable" in source) {
      unknownSources.push(source.unreadable);
      if (source.keys === undefined) unknownNames = "any";
      else if (unknownNames !== "any") for (const key of source.keys) unknownNames.add(key);
      for (const key of source.keys ?? []) values.delete(key);
      continue;
    }
    for (const [key, value] of Object.entries(source.data)) {
      values.set(key, value.replace(/\n/g, ""));
      if (unknownNames !== "any") unknownNames.delete(key);
    }
  }
  for (const [key, value] of Object.entries(postBuild.substitute)) {
    values.set(key, value.replace(/\n/g, ""));
    if (unknownNames !== "any") unknownNames.delete(key);
  }
  // A value still holding a variable (one the Flux Kustomization applying this one could not be seen to define) is
  // not a value this engine knows.
  for (const [key, value] of values) {
    if (!value.includes("${")) continue;
    values.delete(key);
    unknownSources.push(`the value of ${key} holds a variable (${value})`);
    if (unknownNames !== "any") unknownNames.add(key);
  }
  return { from: [from], values, unknownSources, unknownNames };
}

/**
 * What several Flux Kustomizations applying the same resource substitute: a variable is known when all of them give
 * it the same value; one giving it different values leaves it unchecked.
 */
export function combineSubstitutions(substitutions: readonly Substitution[]): Substitution | undefined {
  const [first, ...rest] = substitutions;
  if (!first) return undefined;
  if (rest.length === 0) return first;
  const values = new Map<string, string>();
  const conflicting = new Set<string>();
  const names = new Set(substitutions.flatMap((s) => [...s.values.keys()]));
  for (const name of names) {
    const seen = new Set(substitutions.map((s) => s.values.get(name)));
    const [only] = seen;
    if (seen.size === 1 && only !== undefined) values.set(name, only);
    else conflicting.add(name);
  }
  return {
    from: substitutions.flatMap((s) => s.from),
    values,
    unknownSources: [...new Set(substitutions.flatMap((s) => s.unknownSources))],
    unknownNames: substitutions.some((s) => s.unknownNames === "any")
      ? "any"
      : new Set(substitutions.flatMap((s) => [...((s.unknownNames as ReadonlySet<string> | undefined) ?? [])])),
    conflicting,
  };
}

/** Whether a text holds anything envsubst changes. */
function mayHoldVariables(text: string): boolean {
  return text.includes("$");
}

export interface SubstitutedText {
  readonly text: string;
  /** Variables whose values are not known (the text then keeps their expressions as written). */
  readonly unchecked: readonly string[];
}

/** The index of the `}` closing the expression opened at `start` (the `$`), counting nested `${`, or -1. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === "$" && text[i + 1] === "{") {
      depth++;
      i++;
    } else if (text[i] === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * How deep defaults may nest (`${A:-${B:-…}}`) before the expression is left unchecked: each level re-reads the text
 * of the one around it and recurses, so a pull request's deeply nested text would otherwise cost quadratic time and
 * overflow the stack.
 */
const MAX_DEFAULT_NESTING = 32;

/** envsubst over one string, as Flux runs it when the Kustomization has variables. */
export function substituteText(text: string, substitution: Substitution): SubstitutedText {
  return substituteNested(text, substitution, 0);
}

function substituteNested(text: string, substitution: Substitution, depth: number): SubstitutedText {
  if (!mayHoldVariables(text)) return { text, unchecked: [] };
  const unchecked: string[] = [];
  // `$$` is envsubst's escape: only where Flux runs it (a resource no Flux Kustomization applies keeps it).
  const flux = substitution.from.length > 0;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (flux && char === "$" && text[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    if (char !== "$" || text[i + 1] !== "{") {
      out += char;
      continue;
    }
    const end = closingBrace(text, i);
    if (end === -1) {
      out += text.slice(i);
      break;
    }
    const expression = text.slice(i + 2, end);
    const replaced = evaluate(expression, substitution, unchecked, depth);
    out += replaced ?? text.slice(i, end + 1);
    i = end;
  }
  return { text: out, unchecked: [...new Set(unchecked)] };
}

/** Whether a source this engine cannot read may define a variable. */
export function mayDefine(substitution: Substitution, name: string): boolean {
  const names = substitution.unknownNames ?? (substitution.unknownSources.length > 0 ? "any" : undefined);
  return names === "any" || (names?.has(name) ?? false);
}

/** One `${…}` expression's value, or undefined (recorded in `unchecked`) when it cannot be known. */
function evaluate(
  expression: string,
  substitution: Substitution,
  unchecked: string[],
  depth: number,
): string | undefined {
  const name = /^[_A-Za-z][_A-Za-z0-9]*/.exec(expression)?.[0] ?? "";
  const rest = expression.slice(name.length);
  const known = (): string | undefined =>
    substitution.conflicting?.has(name) ? undefined : substitution.values.get(name);
  const value = known();
  const defaulted = /^(:?)([-=])([\s\S]*)$/.exec(rest);
  if (name !== "" && rest === "") {
    if (value === undefined) unchecked.push(name);
    return value;
  }
  if (name !== "" && defaulted) {
    const [, colon, , fallback = ""] = defaulted;
    const definedElsewhere =
      substitution.conflicting?.has(name) || (value === undefined && mayDefine(substitution, name));
    if (definedElsewhere) {
      unchecked.push(name);
      return undefined;
    }
    if (value !== undefined && (colon === "" || value !== "")) return value;
    if (depth >= MAX_DEFAULT_NESTING) {
      unchecked.push(name);
      return undefined;
    }
    const inner = substituteNested(fallback, substitution, depth + 1);
    unchecked.push(...inner.unchecked);
    return inner.unchecked.length > 0 ? undefined : inner.text;
  }
  // Bash string functions (length, case, substrings, patterns): not evaluated here.
  unchecked.push(name === "" ? expression : name);
  return undefined;
}

/** A substituted text as the YAML reader reads it back: a plain value takes its type ("80" → 80, "true" → true). */
function readBack(text: string): unknown {
  if (text === "") return text;
  try {
    const document = parseDocument(text);
    if (document.errors.length > 0) return text;
    const value: unknown = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return value !== null && typeof value === "object" ? text : value;
  } catch {
    return text;
  }
}

/** A plain value tree with every string substituted (unknown expressions kept as written). */
export function substituteValue(value: unknown, substitution: Substitution): unknown {
  if (typeof value === "string") {
    if (!mayHoldVariables(value)) return value;
    const result = substituteText(value, substitution);
    return result.unchecked.length > 0 ? value : result.text === value ? value : readBack(result.text);
  }
  if (Array.isArray(value)) return value.map((item) => substituteValue(item, substitution));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) setOwnField(out, key, substituteValue(item, substitution));
    return out;
  }
  return value;
}

/** The view's scalar rewrite for a substitution (render/view.ts): the substituted value, or the unchecked names. */
export function scalarSubstitute(substitution: Substitution): (scalar: Scalar) => ScalarRewrite | undefined {
  return (scalar) => {
    if (typeof scalar.value !== "string" || !mayHoldVariables(scalar.value)) return undefined;
    const result = substituteText(scalar.value, substitution);
    if (result.unchecked.length > 0) return { unchecked: result.unchecked };
    if (result.text === scalar.value) return undefined;
    // kustomize keeps a scalar's style when it writes the resource for envsubst: a quoted value stays a string,
    // a plain one is read back with the type its new text has.
    const plain = scalar.type === undefined || scalar.type === Scalar.PLAIN;
    const value = new Scalar(plain ? readBack(result.text) : result.text);
    value.type = scalar.type;
    return { value };
  };
}

/** Variables a value holds when no Flux Kustomization substitutes it: every `${VAR}` is unchecked. */
export const NO_SUBSTITUTION: Substitution = { from: [], values: new Map(), unknownSources: [] };

/** A kustomize patch of Flux Kustomizations that sets `spec.postBuild` (e.g. substituteFrom on every one of them). */
export interface PostBuildPatch {
  /** Target name (a regular expression, as kustomize reads it); undefined: any. */
  readonly name?: string;
  /** The target's `labelSelector` and `annotationSelector`, read; undefined: any. */
  readonly labelSelector?: LabelSelector;
  readonly annotationSelector?: LabelSelector;
  readonly postBuild: PostBuild;
  /** A strategic merge patch replaces the substituteFrom list; a JSON patch adding to `/-` appends. */
  readonly replaceSubstituteFrom: boolean;
}

const FLUX_KUSTOMIZATION_GROUP = "kustomize.toolkit.fluxcd.io";

/** A JSON patch's operations on `/spec/postBuild…` as a postBuild patch. */
function fromJsonPatch(operations: readonly unknown[]): { postBuild: PostBuild; replace: boolean } | undefined {
  let postBuild: PostBuild | undefined;
  let replace = false;
  for (const raw of operations) {
    if (!isRecord(raw) || (raw.op !== "add" && raw.op !== "replace") || typeof raw.path !== "string") continue;
    const path = raw.path;
    if (path === "/spec/postBuild") {
      const read = readPostBuild(raw.value);
      if (read) postBuild = mergePostBuild(postBuild, read, true);
      replace = true;
    } else if (path === "/spec/postBuild/substitute") {
      postBuild = mergePostBuild(
        postBuild,
        { substitute: readPostBuild({ substitute: raw.value })!.substitute, substituteFrom: [] },
        false,
      );
    } else if (path.startsWith("/spec/postBuild/substitute/")) {
      const key = path.slice("/spec/postBuild/substitute/".length).replace(/~1/g, "/").replace(/~0/g, "~");
      if (raw.value !== null && typeof raw.value !== "object") {
        postBuild = mergePostBuild(postBuild, { substitute: { [key]: String(raw.value) }, substituteFrom: [] }, false);
      }
    } else if (path === "/spec/postBuild/substituteFrom") {
      postBuild = mergePostBuild(postBuild, readPostBuild({ substituteFrom: raw.value })!, true);
      replace = true;
    } else if (/^\/spec\/postBuild\/substituteFrom\/(-|\d+)$/.test(path)) {
      postBuild = mergePostBuild(postBuild, readPostBuild({ substituteFrom: [raw.value] })!, false);
    }
  }
  return postBuild ? { postBuild, replace } : undefined;
}

/**
 * The patches of a kustomization (its `patches`, `patchesStrategicMerge` and `patchesJson6902`) that set postBuild on
 * Flux Kustomizations; `read` gives a patch file's text by its path relative to the kustomization. Patches selecting
 * targets by label or annotation are not followed (`skipped` says where).
 */
export function postBuildPatchesOf(
  value: Readonly<Record<string, unknown>>,
  read: (reference: string) => string | undefined,
  skipped: (why: string) => void,
): PostBuildPatch[] {
  const patches: PostBuildPatch[] = [];
  const add = (content: unknown, target: Record<string, unknown> | undefined) => {
    const selectors: { labelSelector?: LabelSelector; annotationSelector?: LabelSelector } = {};
    for (const field of ["labelSelector", "annotationSelector"] as const) {
      if (target?.[field] === undefined) continue;
      const selector = typeof target[field] === "string" ? parseLabelSelectorText(target[field]) : undefined;
      if (selector === undefined) {
        if (JSON.stringify(content ?? "").includes("postBuild")) {
          skipped(`a patch setting postBuild on targets chosen by an unreadable ${field} is not applied`);
        }
        return;
      }
      selectors[field] = selector;
    }
    const targetKind = typeof target?.kind === "string" ? target.kind : undefined;
    const targetGroup = typeof target?.group === "string" ? target.group : undefined;
    const targetName = typeof target?.name === "string" ? target.name : undefined;
    if (Array.isArray(content)) {
      if (targetKind !== "Kustomization" || (targetGroup !== undefined && targetGroup !== FLUX_KUSTOMIZATION_GROUP)) {
        return;
      }
      const json = fromJsonPatch(content);
      if (json) {
        patches.push({
          name: targetName,
          ...selectors,
          postBuild: json.postBuild,
          replaceSubstituteFrom: json.replace,
        });
      }
      return;
    }
    if (!isRecord(content)) return;
    const kind = targetKind ?? (typeof content.kind === "string" ? content.kind : undefined);
    const apiVersion = typeof content.apiVersion === "string" ? content.apiVersion : "";
    if (
      kind !== "Kustomization" ||
      (targetKind === undefined && !apiVersion.startsWith(`${FLUX_KUSTOMIZATION_GROUP}/`))
    ) {
      return;
    }
    const raw = isRecord(content.spec) ? content.spec.postBuild : undefined;
    const postBuild = readPostBuild(raw);
    if (!postBuild) return;
    const name = targetName ?? (target === undefined && isRecord(content.metadata) ? content.metadata.name : undefined);
    patches.push({
      ...(typeof name === "string" ? { name: target === undefined ? escapeRegExp(name) : name } : {}),
      ...selectors,
      postBuild,
      replaceSubstituteFrom: isRecord(raw) && "substituteFrom" in raw,
    });
  };
  // A Flux Kustomization writes its patches inline: JSON patch operations as a list, strategic merges as objects.
  const contentOf = (entry: Record<string, unknown>): unknown =>
    Array.isArray(entry.patch)
      ? entry.patch
      : typeof entry.patch === "string"
        ? readPatchYaml(entry.patch)
        : typeof entry.path === "string"
          ? (() => {
              const text = read(entry.path);
              return text === undefined ? undefined : readPatchYaml(text);
            })()
          : undefined;
  for (const raw of Array.isArray(value.patches) ? value.patches : []) {
    if (!isRecord(raw)) continue;
    add(contentOf(raw), isRecord(raw.target) ? raw.target : undefined);
  }
  for (const raw of Array.isArray(value.patchesJson6902) ? value.patchesJson6902 : []) {
    if (!isRecord(raw)) continue;
    add(contentOf(raw), isRecord(raw.target) ? raw.target : undefined);
  }
  for (const raw of Array.isArray(value.patchesStrategicMerge) ? value.patchesStrategicMerge : []) {
    if (isRecord(raw)) add(raw, undefined);
    if (typeof raw !== "string") continue;
    add(
      raw.includes("\n")
        ? readPatchYaml(raw)
        : ((text) => (text === undefined ? undefined : readPatchYaml(text)))(read(raw)),
      undefined,
    );
  }
  return patches;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether a postBuild patch's target selects a Flux Kustomization with these labels and annotations. */
export function patchSelects(
  patch: PostBuildPatch,
  name: string | undefined,
  labels: Readonly<Record<string, string>>,
  annotations: Readonly<Record<string, string>>,
): boolean {
  return (
    patchNameMatches(patch.name, name) &&
    (patch.labelSelector === undefined || matchesLabels(patch.labelSelector, labels)) &&
    (patch.annotationSelector === undefined || matchesLabels(patch.annotationSelector, annotations))
  );
}

/** Whether a kustomize patch target name (a regular expression) selects a name. */
export function patchNameMatches(pattern: string | undefined, name: string | undefined): boolean {
  if (pattern === undefined) return true;
  if (name === undefined) return false;
  return namePatternMatches(pattern, name) ?? false;
}

/** A ConfigMap or Secret a kustomization generates (configMapGenerator, secretGenerator): a substituteFrom source. */
export interface GeneratedSource {
  readonly kind: "ConfigMap" | "Secret";
  readonly name: string;
  /** The entry's namespace, else the kustomization's; undefined when neither sets one. */
  readonly namespace: string | undefined;
  readonly source: VariableSource;
}

/** `KEY=VALUE` lines of an env file (comments and blank lines skipped), as kustomize reads `envs`. */
function envLines(text: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const equals = trimmed.indexOf("=");
    if (equals > 0) pairs.push([trimmed.slice(0, equals), trimmed.slice(equals + 1)]);
  }
  return pairs;
}

/**
 * The sources a kustomization's generators make: `literals` read, `envs` (or the legacy `env`) when the engine has
 * the file (the shells hand it manifests only, so a `.env` file makes the source unknown); `files` entries
 * (a file's whole text as one value) make the source unreadable, not guessed. `read` gives a file's text by its path
 * relative to the kustomization (undefined when the repository has no such file).
 */
export function generatedSourcesOf(
  value: Readonly<Record<string, unknown>>,
  read: (reference: string) => string | undefined,
): GeneratedSource[] {
  const found: GeneratedSource[] = [];
  const namespace = typeof value.namespace === "string" && value.namespace !== "" ? value.namespace : undefined;
  const generators: Array<["ConfigMap" | "Secret", unknown]> = [
    ["ConfigMap", value.configMapGenerator],
    ["Secret", value.secretGenerator],
  ];
  for (const [kind, list] of generators) {
    for (const entry of Array.isArray(list) ? list : []) {
      if (!isRecord(entry) || typeof entry.name !== "string") continue;
      const data: Record<string, string> = {};
      let unreadable: string | undefined;
      for (const literal of Array.isArray(entry.literals) ? entry.literals : []) {
        if (typeof literal !== "string") continue;
        const equals = literal.indexOf("=");
        if (equals > 0) data[literal.slice(0, equals)] = literal.slice(equals + 1).replace(/^(["'])(.*)\1$/, "$2");
      }
      const envs = [
        ...(Array.isArray(entry.envs) ? entry.envs : []),
        ...(typeof entry.env === "string" ? [entry.env] : []),
      ];
      for (const env of envs) {
        const text = typeof env === "string" ? read(env) : undefined;
        // The shells hand the engine manifests only: an env file is read when it is one (`*.yaml`), else unknown.
        if (text === undefined) {
          unreadable ??= `${kind} ${entry.name} is generated from env file ${String(env)}, not read`;
        } else {
          for (const [key, item] of envLines(text)) data[key] = item;
        }
      }
      if (Array.isArray(entry.files) && entry.files.length > 0) {
        unreadable ??= `${kind} ${entry.name} is generated from files, which are not read as variables`;
      }
      found.push({
        kind,
        name: entry.name,
        namespace: typeof entry.namespace === "string" ? entry.namespace : namespace,
        source: unreadable === undefined ? { data } : { unreadable },
      });
    }
  }
  return found;
}
