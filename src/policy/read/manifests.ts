// A file → its YAML documents and the Kubernetes objects in them, with source positions on every node.
import { Composer, isMap, isSeq, Lexer, LineCounter, Parser, visit } from "yaml";
import type { CST, Document, Node, YAMLMap } from "yaml";
import { MAX_ALIAS_COUNT } from "./plain-value.js";
import { quickOutline, quickParse, quickValues } from "./quick-yaml.js";
import type { Position, SourceFile, SourceLocation } from "../types.js";

/** Files above this size are not read (GitHub's own limit for blobs shown in diffs is of the same order)... */
export const MAX_FILE_BYTES = 1024 * 1024;
/**
 * ...unless they hold a Cilium policy: padding a policy file past MAX_FILE_BYTES must not take it out of the check.
 * Those are read up to this size; the shells hand the engine the content of every manifest up to it.
 */
export const MAX_POLICY_FILE_BYTES = 8 * 1024 * 1024;
export { MAX_ALIAS_COUNT };
/**
 * Deepest collection nesting read. The yaml package composes documents recursively: a few thousand levels overflow
 * the stack, and near that limit V8 may even abort the process. Real manifests stay far below (CRD schemas: ~60).
 */
export const MAX_NESTING_DEPTH = 256;

const MANIFEST_PATH = /\.(ya?ml)(\.(tpl|template|gotmpl))?$|\.(tpl|template)$/i;
/** File names kustomize recognises as a directory's kustomization, in the order it looks for them. */
export const KUSTOMIZATION_FILE_NAMES = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;
const TEMPLATE_PATH = /\.(tpl|template|gotmpl)$/i;
/** Go template actions, as Helm and other renderers write them. */
const TEMPLATE_ACTION = /\{\{[\s\S]*?\}\}/;

export const POLICY_API_VERSION = "cilium.io/v2";
export const POLICY_KINDS = ["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** Whether a path is one the engine reads at all (YAML, or a template that renders to YAML). */
export function isManifestPath(path: string): boolean {
  return MANIFEST_PATH.test(path) || isKustomizationPath(path);
}

export function isKustomizationPath(path: string): boolean {
  return (KUSTOMIZATION_FILE_NAMES as readonly string[]).includes(path.slice(path.lastIndexOf("/") + 1));
}

/**
 * too-large: over MAX_FILE_BYTES, no policy in it; too-large-policy: a policy file over MAX_POLICY_FILE_BYTES;
 * not-read: the shell did not read it (content null: over the size it reads, or past the job's memory budget).
 */
export type SkipReason = "too-large" | "too-large-policy" | "not-read" | "binary" | "not-utf8";

export interface YamlProblem {
  readonly message: string;
  readonly position: Position;
}

/** One Kubernetes object: a document's root, or an item of a `kind: List`. */
export interface Manifest {
  readonly file: string;
  readonly documentIndex: number;
  readonly apiVersion: string;
  readonly kind: string;
  /** metadata.name and metadata.namespace exactly as written (kustomize may change both: see the repo index). */
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  /** Composed when first asked for, for most files, and dropped when the engine releases the file (see OnDemandFile). */
  readonly node: YAMLMap;
  /** Plain-JS view of `node`, alias expansion bounded. */
  readonly value: Readonly<Record<string, unknown>>;
  /** Path of `node` inside its document: [] for the root, ["items", i] for List items. */
  readonly path: readonly (string | number)[];
  readonly location: SourceLocation;
}

export interface ParsedFile {
  readonly path: string;
  readonly size: number;
  /** Decoded text without a byte-order mark; "" for skipped files. Node ranges are offsets into this text. */
  readonly text: string;
  readonly bom: boolean;
  readonly lineCounter: LineCounter;
  readonly skipped: SkipReason | undefined;
  /** Go-templated (Helm): not parsed, since `{{ }}` makes the YAML meaningless before rendering. */
  readonly templated: boolean;
  /** Composed on first use outside files holding a policy; the same objects on every access. */
  readonly documents: readonly Document.Parsed[];
  /** YAML syntax errors and alias-bomb rejections: the documents they hit yield no manifests. */
  readonly problems: readonly YamlProblem[];
  readonly manifests: readonly Manifest[];
  /**
   * Drops the documents composed on demand (the next use composes them again, equal but not the same objects). The
   * engine calls it when it is done with a file's nodes, so that only one file's nodes are alive at a time.
   */
  release?(): void;
}

/** The line starts of a text, counted without parsing it. */
function lineCounterOf(text: string): LineCounter {
  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines.addNewLine(i + 1);
  return lines;
}

/** Position of a byte offset of `file.text`. */
export function positionAt(file: Pick<ParsedFile, "lineCounter">, offset: number): Position {
  const { line, col } = file.lineCounter.linePos(Math.max(0, offset));
  // A skipped file has no line starts: its findings point at the top of the file.
  return { line: Math.max(1, line), column: Math.max(1, col) };
}

/** Position where a node starts. */
export function positionOf(file: Pick<ParsedFile, "lineCounter">, node: Node | null | undefined): Position {
  return positionAt(file, node?.range?.[0] ?? 0);
}

/** Git's test: a NUL among the first 8,000 bytes (of a text the shell decoded, among its first 8,000 characters). */
function isBinary(content: Uint8Array | string): boolean {
  return typeof content === "string" ? content.slice(0, 8000).includes("\0") : content.subarray(0, 8000).includes(0);
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const POLICY_KIND_TEXT = new RegExp(`\\b(?:${POLICY_KINDS.join("|")})\\b`);

function decode(file: SourceFile): { text: string; bom: boolean } | SkipReason {
  if (file.content === null) {
    return file.holdsPolicy === true ? "too-large-policy" : file.holdsPolicy === false ? "too-large" : "not-read";
  }
  const { content } = file;
  const size = typeof content === "string" ? file.size : Math.max(file.size, content.byteLength);
  if (isBinary(content)) return size > MAX_FILE_BYTES ? "too-large" : "binary";
  let text: string;
  try {
    text = typeof content === "string" ? content : utf8.decode(content);
  } catch {
    return size > MAX_FILE_BYTES ? "too-large" : "not-utf8";
  }
  if (size > MAX_FILE_BYTES && !POLICY_KIND_TEXT.test(text)) return "too-large";
  if (size > MAX_POLICY_FILE_BYTES) return "too-large-policy";
  const bom = text.charCodeAt(0) === 0xfeff;
  return { text: bom ? text.slice(1) : text, bom };
}

/**
 * Whether a text is a Go template rather than YAML that kubectl would apply as it is: a template file name, a file
 * of a chart's templates/ directory with template actions, or template actions where they are YAML structure (`{{`
 * read as two flow mappings). `{{` in a comment, a quoted or block scalar or inside a plain scalar is text: kubectl
 * and Flux apply such a file unchanged, so it is checked like any other.
 */
export function isTemplated(path: string, text: string, options: { chartTemplate?: boolean } = {}): boolean {
  if (TEMPLATE_PATH.test(path)) return true;
  if (!TEMPLATE_ACTION.test(text)) return false;
  if (options.chartTemplate) return true;
  let previous = "";
  for (const token of new Lexer().lex(text)) {
    if (token === "{" && previous === "{") return true;
    previous = token;
  }
  return false;
}

function stringAt(map: YAMLMap, key: string): string | undefined {
  const value: unknown = map.get(key);
  return typeof value === "string" ? value : undefined;
}

function metadataOf(map: YAMLMap): { name: string | undefined; namespace: string | undefined } {
  const metadata = map.get("metadata", true);
  if (!isMap(metadata)) return { name: undefined, namespace: undefined };
  return { name: stringAt(metadata, "name"), namespace: stringAt(metadata, "namespace") };
}

/** A Kubernetes object's identity and plain value; `node` comes from the caller, since it may be loaded lazily. */
function manifestFrom(
  file: Pick<ParsedFile, "path" | "lineCounter">,
  documentIndex: number,
  node: YAMLMap,
  value: unknown,
  path: readonly (string | number)[],
): Omit<Manifest, "node"> | undefined {
  const apiVersion = stringAt(node, "apiVersion");
  const kind = stringAt(node, "kind");
  if (apiVersion === undefined || kind === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const position = positionOf(file, node);
  return {
    file: file.path,
    documentIndex,
    apiVersion,
    kind,
    ...metadataOf(node),
    value: value as Record<string, unknown>,
    path,
    location: { file: file.path, ...position },
  };
}

/** Kinds whose `items` are objects of their own (List, and the typed lists like ServiceList). */
function isListKind(kind: unknown): boolean {
  return typeof kind === "string" && kind.endsWith("List");
}

/** What identifies a manifest and where it sits: all but its node and value, which may be read on demand. */
type ManifestIdentity = Omit<Manifest, "node" | "value">;

/** The alias toJS could not resolve ("Unresolved alias …: name"), for a problem to point at it, not at its document. */
function failingAlias(document: Document.Parsed, error: unknown): Node | undefined {
  const name = /^Unresolved alias\b.*: (\S+)$/.exec(error instanceof Error ? error.message.split("\n")[0]! : "")?.[1];
  if (name === undefined) return undefined;
  let found: Node | undefined;
  visit(document, {
    Alias(_key, alias) {
      if (alias.source !== name) return undefined;
      found = alias;
      return visit.BREAK;
    },
  });
  return found;
}

/** A document root's identity from its outline, for files whose values and nodes are read on demand. */
function identityFromOutline(
  file: Pick<ParsedFile, "path" | "lineCounter">,
  documentIndex: number,
  value: Record<string, unknown>,
  start: number,
): ManifestIdentity | undefined {
  const { apiVersion, kind } = value;
  if (typeof apiVersion !== "string" || typeof kind !== "string") return undefined;
  const metadata = value.metadata;
  const field = (key: string) => {
    if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) return undefined;
    const text: unknown = (metadata as Record<string, unknown>)[key];
    return typeof text === "string" ? text : undefined;
  };
  return {
    file: file.path,
    documentIndex,
    apiVersion,
    kind,
    name: field("name"),
    namespace: field("namespace"),
    path: [],
    location: { file: file.path, ...positionAt(file, start) },
  };
}

/** The collection nesting depth of a CST token, counted without recursion; stops counting past `limit`. */
function nestingDepth(root: CST.Token, limit: number): number {
  let max = 0;
  const stack: Array<[CST.Token, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (depth > max) max = depth;
    if (max > limit) return max;
    if (token.type === "document" && token.value) stack.push([token.value, depth]);
    if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      for (const item of token.items) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return max;
}

/**
 * Reads one file. Never throws for any input: problems become `skipped`, `templated` or `problems`.
 */
export function parseManifestFile(source: SourceFile): ParsedFile {
  return parseManifestFileIn(source, {});
}

/** parseManifestFile, told whether the file is in a chart's templates/ directory (the engine knows its sources). */
export function parseManifestFileIn(source: SourceFile, options: { chartTemplate?: boolean }): ParsedFile {
  const lineCounter = new LineCounter();
  const base = { path: source.path, size: source.size, lineCounter };
  const decoded = decode(source);
  if (typeof decoded === "string") {
    return {
      ...base,
      text: "",
      bom: false,
      skipped: decoded,
      templated: false,
      documents: [],
      problems: [],
      manifests: [],
    };
  }
  const { text, bom } = decoded;
  if (isTemplated(source.path, text, options)) {
    // Line starts are still wanted for findings pointing into the template.
    const lines = lineCounterOf(text);
    return {
      ...base,
      lineCounter: lines,
      text,
      bom,
      skipped: undefined,
      templated: true,
      documents: [],
      problems: [],
      manifests: [],
    };
  }
  const fileRef = { path: source.path, lineCounter };
  // A file the quick reader reads keeps only its text and its manifests' identities (read from an outline, which
  // checks the whole file but builds only the top of each document): its values are read when the index asks, its
  // nodes when a rule or the rewrite asks, and `release` drops both. Keeping every file's values from the parse to
  // the index held a large repository's values all at once (about three times its text; a pull request of 200 files
  // of 1 MiB went past the app's memory budget).
  const values = quickOutline(text);
  if (values && values.documents.every(({ value }) => !isListKind(value.kind))) {
    for (const start of values.lineStarts) lineCounter.addNewLine(start);
    const found = values.documents.flatMap(({ value, start }, documentIndex) => {
      const identity = identityFromOutline(fileRef, documentIndex, value, start);
      return identity ? [{ identity }] : [];
    });
    // The line starts served the locations above; they are counted again if a finding needs a position.
    return new OnDemandFile(source, text, bom, [], found, { quick: true });
  }
  // Every mode of the quick reader accepts the same texts: only a List the outline read is worth reading as nodes.
  const quick = values ? quickParse(text) : undefined;
  if (quick) for (const start of quick.lineStarts) lineCounter.addNewLine(start);
  // The CST parser is iterative: measure the nesting on its tokens before anything recursive sees them.
  const tokens = quick ? [] : Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const deep = tokens.find((token) => nestingDepth(token, MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH);
  if (deep) {
    const problem = {
      message: `nesting deeper than ${MAX_NESTING_DEPTH} levels: the file was not read`,
      position: positionAt(fileRef, "offset" in deep ? deep.offset : 0),
    };
    return {
      ...base,
      text,
      bom,
      skipped: undefined,
      templated: false,
      documents: [],
      problems: [problem],
      manifests: [],
    };
  }
  const parsed = quick ? quick.documents : compose(tokens);
  const problems: YamlProblem[] = [];
  const found: Array<{ manifest: Omit<Manifest, "node">; node: YAMLMap }> = [];
  parsed.forEach((document, documentIndex) => {
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        problems.push({
          message: error.message.split("\n")[0] ?? error.message,
          position: positionAt(fileRef, error.pos[0]),
        });
      }
      return;
    }
    const root = document.contents;
    if (!isMap(root)) return;
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      problems.push({
        message: `document not read: ${(error as Error).message.split("\n")[0]}`,
        position: positionOf(fileRef, failingAlias(document, error) ?? root),
      });
      return;
    }
    const manifest = manifestFrom(fileRef, documentIndex, root, value, []);
    if (!manifest) return;
    if (isListKind(manifest.kind) && (manifest.kind === "List" || isSeq(root.get("items", true)))) {
      const items = root.get("items", true);
      if (!isSeq(items)) return;
      const itemValues = (value as { items?: unknown }).items;
      items.items.forEach((item, i) => {
        if (!isMap(item)) return;
        const itemValue = Array.isArray(itemValues) ? itemValues[i] : undefined;
        const child = manifestFrom(fileRef, documentIndex, item, itemValue, ["items", i]);
        if (child) found.push({ manifest: child, node: item });
      });
      return;
    }
    found.push({ manifest, node: root });
  });
  // Documents cost about four times their plain values in memory. Only files holding a policy keep them (rules and the
  // rewrite need their nodes); any other file's documents are composed again, from the same text with the same
  // options, when something asks for them (a kustomization without apiVersion/kind, for one).
  const keep = found.some(({ manifest }) => isPolicyManifest(manifest));
  if (keep) {
    const manifests = found.map(({ manifest, node }): Manifest => ({ ...manifest, node }));
    return { ...base, text, bom, skipped: undefined, templated: false, documents: parsed, problems, manifests };
  }
  return new OnDemandFile(
    source,
    text,
    bom,
    problems,
    found.map(({ manifest: { value, ...identity } }) => ({ identity, value })),
    { lineCounter },
  );
}

/**
 * A file whose documents are composed when something asks for them, and dropped again by `release`. Files the quick
 * reader reads also drop their values and line starts, rebuilt from the text when asked; other files keep those
 * (their values went through alias expansion, their line starts came from the parser).
 */
class OnDemandFile implements ParsedFile {
  readonly path: string;
  readonly size: number;
  readonly skipped = undefined;
  readonly templated = false;
  readonly manifests: readonly Manifest[];
  private composed: Document.Parsed[] | undefined;
  private values: readonly Record<string, unknown>[] | undefined;
  private lines: LineCounter | undefined;
  /** Whether values and line starts come from the quick reader, and so can be dropped. */
  private readonly quick: boolean;

  constructor(
    source: Pick<SourceFile, "path" | "size">,
    readonly text: string,
    readonly bom: boolean,
    readonly problems: readonly YamlProblem[],
    /** Each manifest's identity, and its value unless the quick reader reads it again on demand. */
    found: ReadonlyArray<{ identity: ManifestIdentity; value?: Readonly<Record<string, unknown>> }>,
    read: { readonly quick: true } | { readonly lineCounter: LineCounter },
  ) {
    this.path = source.path;
    this.size = source.size;
    this.quick = "quick" in read;
    if ("lineCounter" in read) this.lines = read.lineCounter;
    this.manifests = found.map(({ identity, value }) => new OnDemandManifest(this, identity, value));
  }

  get documents(): Document.Parsed[] {
    return (this.composed ??= quickParse(this.text)?.documents ?? compose(Array.from(new Parser().parse(this.text))));
  }

  get lineCounter(): LineCounter {
    return (this.lines ??= lineCounterOf(this.text));
  }

  /** A document's root value, for files the quick reader reads. */
  valueOf(documentIndex: number): Record<string, unknown> {
    this.values ??= quickValues(this.text)!.documents.map(({ value }) => value);
    return this.values[documentIndex]!;
  }

  release(): void {
    this.composed = undefined;
    if (this.quick) {
      this.values = undefined;
      this.lines = undefined;
    }
  }
}

class OnDemandManifest implements Manifest {
  readonly file: string;
  readonly documentIndex: number;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly path: readonly (string | number)[];
  readonly location: SourceLocation;

  constructor(
    private readonly owner: OnDemandFile,
    identity: ManifestIdentity,
    /** Absent: read from the quick reader on demand. */
    private readonly fixedValue: Readonly<Record<string, unknown>> | undefined,
  ) {
    this.file = identity.file;
    this.documentIndex = identity.documentIndex;
    this.apiVersion = identity.apiVersion;
    this.kind = identity.kind;
    this.name = identity.name;
    this.namespace = identity.namespace;
    this.path = identity.path;
    this.location = identity.location;
  }

  get node(): YAMLMap {
    return this.owner.documents[this.documentIndex]!.getIn(this.path, true) as YAMLMap;
  }

  get value(): Readonly<Record<string, unknown>> {
    return this.fixedValue ?? this.owner.valueOf(this.documentIndex);
  }
}

function compose(tokens: readonly CST.Token[]): Document.Parsed[] {
  // `merge`: kubectl and kustomize (go-yaml) expand `<<` merge keys, so the values read here expand them too.
  return Array.from(new Composer({ prettyErrors: false, keepSourceTokens: false, merge: true }).compose(tokens));
}

const API_VERSION_LINE = /^[ \t]*(?:- +)?apiVersion[ \t]*:/m;
const KIND_LINE = /^[ \t]*(?:- +)?kind[ \t]*:/m;

/**
 * Whether a file holds, or looks meant to hold, Kubernetes manifests: a document read with apiVersion and kind, a
 * kustomization, a file a kustomization uses (`kustomizeFiles`), or a text with `apiVersion:` and `kind:` keys (a
 * manifest whose YAML is broken). Other YAML (Helm values, CI and linter configurations) is not this tool's to judge.
 */
export function holdsKubernetesManifests(
  file: Pick<ParsedFile, "path" | "text" | "manifests">,
  kustomizeFiles?: ReadonlySet<string>,
): boolean {
  return (
    file.manifests.length > 0 ||
    isKustomizationPath(file.path) ||
    (kustomizeFiles?.has(file.path) ?? false) ||
    (API_VERSION_LINE.test(file.text) && KIND_LINE.test(file.text))
  );
}

export function isPolicyManifest(manifest: Pick<Manifest, "apiVersion" | "kind">): boolean {
  return manifest.apiVersion === POLICY_API_VERSION && (POLICY_KINDS as readonly string[]).includes(manifest.kind);
}
