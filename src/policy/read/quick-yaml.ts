// A fast reader for the plain block YAML that Kubernetes manifests are nearly always written in. It builds the same
// `yaml` nodes as the yaml package's composer (node classes, values, scalar styles and formats, source ranges, key
// order), many times faster, and declines (returns undefined) on anything outside its subset, which then goes to the
// yaml package itself: flow collections other than an empty `{}` or `[]`, block scalars, anchors, aliases, tags,
// quoted keys, multi-line scalars, escapes, directives, `...`, tabs, CR line ends, duplicate keys, empty documents,
// non-map roots, deep nesting. Comments are skipped, not attached to nodes (nothing in the engine reads a parsed
// node's comments); comment lines where the composer stretches the ranges of the nodes around them over the comment
// are declined.
// test/policy/quick-yaml.test.ts proves the equality with fast-check against the yaml package.
import { Document, isScalar, Pair, Scalar, YAMLMap, YAMLSeq } from "yaml";
import type { Node, ParsedNode, Schema } from "yaml";

/** Unwinds the reader when the input leaves its subset. */
class Declined extends Error {}

interface Line {
  /** Offset of the line's first character. */
  readonly start: number;
  /** Offset of its line feed, or the text's length on the last line. */
  readonly end: number;
  /** Leading spaces. */
  readonly indent: number;
  /** Indent of the comment lines after this line, up to the next content line; -1 without any. */
  commentsAfter: number;
}

/** Scalar tags of the default (core) schema, tried in order like the composer does for plain scalars. */
interface ScalarTag {
  readonly default?: boolean | "key";
  readonly test?: RegExp;
  readonly format?: string;
  readonly collection?: string;
  resolve(value: string, onError: (message: string) => void, options: object): unknown;
}

/** The default (core) schema, shared by every node built here: nothing here changes it. */
const CORE_SCHEMA: Schema = new Document().schema;
/** The core schema's scalar tags, in the order the composer tries them. */
const SCALAR_TAGS: readonly ScalarTag[] = (CORE_SCHEMA.tags as unknown as ScalarTag[]).filter((tag) => !tag.collection);

const RESOLVE_OPTIONS = { intAsBigInt: false, keepSourceTokens: false };
function declined(): never {
  throw new Declined();
}

/** Deeper nesting is left to the yaml package path, which reports it (see MAX_NESTING_DEPTH in manifests.ts). */
const MAX_DEPTH = 64;
const MAX_KEY_LENGTH = 1000;
/** Line breaks and marks other YAML readers treat differently: such texts go to the yaml package. */
const ODD_CHARACTERS = /[\t\r\u0085\u2028\u2029\ufeff]/;
/** Plain scalars the core schema may read as something else than a string are empty or start with one of these. */
const MAYBE_NOT_STRING = /^[-+.0-9~nNtTfF]/;
/** The core schema's null and boolean words: its only non-strings that start with a letter. */
const CORE_WORDS: ReadonlySet<string> = new Set([
  "null",
  "Null",
  "NULL",
  "true",
  "True",
  "TRUE",
  "false",
  "False",
  "FALSE",
]);

function isLetter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

// Character classes of the ASCII range, read from a table: a lookup per character costs less than a chain of range
// tests, all the more before V8 has optimised the reader (a scan is mostly warm-up) and where it does not inline them.
const KEY_START = 1;
const KEY_CHAR = 2;
const PLAIN_START = 4;

function asciiClasses(): Readonly<Uint8Array> {
  const classes = new Uint8Array(128);
  const mark = (from: string, to: string, bits: number) => {
    for (let code = from.charCodeAt(0); code <= to.charCodeAt(0); code++) classes[code]! |= bits;
  };
  mark("a", "z", KEY_START | KEY_CHAR | PLAIN_START);
  mark("A", "Z", KEY_START | KEY_CHAR | PLAIN_START);
  mark("0", "9", KEY_START | KEY_CHAR | PLAIN_START);
  mark("_", "_", KEY_START | KEY_CHAR | PLAIN_START);
  for (const char of ".-/") mark(char, char, KEY_CHAR);
  for (const char of "./~(+$=^") mark(char, char, PLAIN_START);
  return classes;
}
const ASCII_CLASSES = asciiClasses();

function isKeyStart(code: number): boolean {
  return code < 128 && (ASCII_CLASSES[code]! & KEY_START) !== 0;
}
function isKeyChar(code: number): boolean {
  return code < 128 && (ASCII_CLASSES[code]! & KEY_CHAR) !== 0;
}
/** First characters a plain scalar may start with here (indicators, quotes and odd starts go to the yaml package). */
function isPlainStart(code: number): boolean {
  if (code < 128) return (ASCII_CLASSES[code]! & PLAIN_START) !== 0;
  return code >= 0xa1 && code !== 0x2028 && code !== 0x2029 && code !== 0xfeff;
}

// The yaml package marks each node with its type in an own, non-enumerable property its constructors define one node
// at a time (a third of the cost of building nodes here). Nodes built here inherit the same mark from a prototype
// per type instead: isMap/isSeq/isScalar/isPair, instanceof and clone() see no difference (the property is
// Symbol.for("yaml.node.type") with Symbol.for("yaml.map") …, registered symbols; the tests would catch a change).
const NODE_TYPE = Symbol.for("yaml.node.type");
function marked<T extends object>(prototype: T, type: string, extra: PropertyDescriptorMap = {}): T {
  return Object.create(prototype, { [NODE_TYPE]: { value: Symbol.for(type) }, ...extra }) as T;
}
const SCALAR_PROTOTYPE = marked(Scalar.prototype, "yaml.scalar");
const PAIR_PROTOTYPE = marked(Pair.prototype, "yaml.pair");
const MAP_PROTOTYPE = marked(YAMLMap.prototype, "yaml.map", {
  schema: { value: CORE_SCHEMA, writable: true, configurable: true },
});
const SEQ_PROTOTYPE = marked(YAMLSeq.prototype, "yaml.seq", {
  schema: { value: CORE_SCHEMA, writable: true, configurable: true },
});

function newScalar(value: unknown): Scalar {
  const scalar = Object.create(SCALAR_PROTOTYPE) as Scalar;
  scalar.value = value;
  return scalar;
}
function newPair(key: unknown, value: unknown): Pair {
  const pair = Object.create(PAIR_PROTOTYPE) as Pair;
  pair.key = key;
  pair.value = value;
  return pair;
}
function newCollection<T extends YAMLMap | YAMLSeq>(prototype: T): T {
  const collection = Object.create(prototype) as T;
  collection.items = [];
  return collection;
}

/** Names a plain object inherits: toJS defines such keys as own properties instead of assigning them. */
const INHERITED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * The key names of one mapping: compared one by one while few (no hashing of fresh strings, which is what costs
 * with manifests' small mappings), in a Set beyond.
 */
class KeyNames {
  private readonly list: string[] = [];
  private set: Set<string> | undefined;

  has(name: string): boolean {
    return this.set ? this.set.has(name) : this.list.includes(name);
  }

  add(name: string): void {
    if (this.set) this.set.add(name);
    else if (this.list.push(name) > 16) this.set = new Set(this.list);
  }
}

/** How yaml's toJS names a scalar key in a plain object. */
function keyName(value: unknown): string {
  return value === null ? "" : String(value);
}

/**
 * What a read builds: yaml nodes; the plain values `document.toJS()` gives; or an outline, the values of the root
 * mapping and of the collections directly in it (where apiVersion, kind and metadata are), deeper ones left out.
 */
type ReadMode = "nodes" | "values" | "outline";
const OUTLINE_DEPTH = 2;

/** Reads one document's lines, building what its ReadMode says; every mode accepts and declines the same texts. */
class Reader {
  private index = 0;
  /** What the last resolvePlain call found besides the value: its tag's format, and a node when the tag made one. */
  private resolvedFormat: string | undefined;
  private resolvedNode: Scalar | undefined;

  private readonly nodes: boolean;
  /** Collections deeper than this are read (and checked) but not built. */
  private readonly builtDepth: number;

  constructor(
    private readonly text: string,
    private readonly lines: readonly Line[],
    mode: ReadMode,
  ) {
    this.nodes = mode === "nodes";
    this.builtDepth = mode === "outline" ? OUTLINE_DEPTH : Infinity;
  }

  document(): unknown {
    this.index = 0;
    const first = this.lines[0]!;
    if (first.indent !== 0 || this.isDash(first)) throw new Declined();
    const root = this.map(0, first.start, 1);
    if (this.index !== this.lines.length) throw new Declined();
    return root;
  }

  private isDash(line: Line): boolean {
    const at = line.start + line.indent;
    return this.text.charCodeAt(at) === 45 && (at + 1 === line.end || this.text.charCodeAt(at + 1) === 32);
  }

  private skipSpaces(at: number, end: number): number {
    while (at < end && this.text.charCodeAt(at) === 32) at++;
    return at;
  }

  /** Offset of the `:` ending a simple key that starts at `at`, or -1 when no such key starts there. */
  private keyEnd(at: number, end: number): number {
    const { text } = this;
    if (!isKeyStart(text.charCodeAt(at))) return -1;
    for (let i = at + 1; i < end; i++) {
      const code = text.charCodeAt(i);
      if (code === 58) {
        const next = i + 1 === end ? 32 : text.charCodeAt(i + 1);
        if (next === 32) return i - at > MAX_KEY_LENGTH ? -1 : i;
        if (!isKeyChar(next)) return -1;
        continue;
      }
      if (!isKeyChar(code)) return -1;
    }
    return -1;
  }

  /** A plain scalar's value as the core schema reads it (resolvedFormat and resolvedNode say the rest). */
  private resolvePlain(source: string): unknown {
    this.resolvedFormat = undefined;
    this.resolvedNode = undefined;
    if (source !== "" && !MAYBE_NOT_STRING.test(source)) return source;
    // Of the plain scalars starting with a letter ("TCP", "team-a", "nginx"), the core schema reads only these words
    // as something else than a string: the others need no tag tried.
    if (isLetter(source.charCodeAt(0)) && !CORE_WORDS.has(source)) return source;
    const tag = SCALAR_TAGS.find((candidate) => candidate.default === true && candidate.test?.test(source));
    if (!tag) return source;
    const resolved = tag.resolve(source, declined, RESOLVE_OPTIONS);
    this.resolvedFormat = tag.format;
    if (!isScalar(resolved)) return resolved;
    this.resolvedNode = resolved;
    return resolved.value;
  }

  private plainScalar(source: string, start: number, valueEnd: number, nodeEnd: number): unknown {
    const value = this.resolvePlain(source);
    if (!this.nodes) return value;
    const scalar = this.resolvedNode ?? newScalar(value);
    scalar.range = [start, valueEnd, nodeEnd];
    scalar.source = source;
    scalar.type = Scalar.PLAIN;
    if (this.resolvedFormat) scalar.format = this.resolvedFormat;
    return scalar;
  }

  /**
   * A null value: nothing after its indicator but spaces. With a comment after it, on its line or the next ones, the
   * composer's range of it runs on over the comment: declined.
   */
  private nullScalar(at: number, line: Line, build: boolean): unknown {
    if (at !== line.end || line.commentsAfter !== -1) throw new Declined();
    return build ? this.plainScalar("", at, at, at) : undefined;
  }

  /** The scalar written from `at` to the end of `line` (a comment aside); checked only, unless `build`. */
  private inlineScalar(at: number, line: Line, build: boolean): unknown {
    const { text } = this;
    const { end } = line;
    const code = text.charCodeAt(at);
    if (code === 39 || code === 34) {
      const quote = code === 39 ? "'" : '"';
      let close = at + 1;
      for (;;) {
        close = text.indexOf(quote, close);
        if (close === -1 || close >= end) throw new Declined();
        if (code === 39 && text.charCodeAt(close + 1) === 39) {
          close += 2;
          continue;
        }
        break;
      }
      let value = text.slice(at + 1, close);
      if (code === 34 && value.includes("\\")) throw new Declined();
      if (code === 39 && value.includes("'")) value = value.replaceAll("''", "'");
      const valueEnd = close + 1;
      const after = this.skipSpaces(valueEnd, end);
      if (after < end && !(text.charCodeAt(after) === 35 && after > valueEnd)) throw new Declined();
      if (!this.nodes || !build) return value;
      const scalar = newScalar(value);
      scalar.type = code === 39 ? Scalar.QUOTE_SINGLE : Scalar.QUOTE_DOUBLE;
      scalar.source = value;
      scalar.range = [at, valueEnd, this.nodeEndAtLineEnd(line)];
      return scalar;
    }
    if (!isPlainStart(code)) {
      // "-1", "--v=2", "-c", ":8080", "?x": an indicator followed by a character that is not a space starts a plain
      // scalar. After a "#" as well, but that is left to the yaml package.
      const next = at + 1 < end ? text.charCodeAt(at + 1) : 32;
      if (!((code === 45 || code === 58 || code === 63) && next !== 32 && next !== 35)) throw new Declined();
    }
    let comment = end;
    for (let i = at + 1; i < end; i++) {
      if (text.charCodeAt(i) === 35 && text.charCodeAt(i - 1) === 32) {
        comment = i - 1;
        break;
      }
    }
    let valueEnd = comment;
    while (valueEnd > at && text.charCodeAt(valueEnd - 1) === 32) valueEnd--;
    const source = text.slice(at, valueEnd);
    if (source.includes(": ") || source.endsWith(":")) throw new Declined();
    return build ? this.plainScalar(source, at, valueEnd, this.nodeEndAtLineEnd(line)) : undefined;
  }

  /** A value written from `at` to the end of `line`: an empty flow collection or a scalar. */
  private inlineValue(at: number, line: Line, build: boolean, buildCollection: boolean): unknown {
    const code = this.text.charCodeAt(at);
    return code === 123 || code === 91
      ? this.emptyFlowCollection(at, line, buildCollection)
      : this.inlineScalar(at, line, build);
  }

  /**
   * `{}` or `[]` (Helm output is full of them: `emptyDir: {}`, `args: []`), as the composer builds it: a flow
   * collection without items whose range ends after the bracket, its node at the line's end. Anything inside the
   * brackets, spaces included, is left to the yaml package.
   */
  private emptyFlowCollection(at: number, line: Line, build: boolean): unknown {
    const { text } = this;
    const isMap = text.charCodeAt(at) === 123;
    if (text.charCodeAt(at + 1) !== (isMap ? 125 : 93) || at + 1 >= line.end) throw new Declined();
    const valueEnd = at + 2;
    const after = this.skipSpaces(valueEnd, line.end);
    if (after < line.end && !(text.charCodeAt(after) === 35 && after > valueEnd)) throw new Declined();
    if (!build) return undefined;
    if (!this.nodes) return isMap ? {} : [];
    const collection = isMap ? newCollection<YAMLMap>(MAP_PROTOTYPE) : newCollection<YAMLSeq>(SEQ_PROTOTYPE);
    collection.flow = true;
    collection.range = [at, valueEnd, this.nodeEndAtLineEnd(line)];
    return collection;
  }

  private nodeEndAtLineEnd(line: Line): number {
    return line.end < this.text.length ? line.end + 1 : line.end;
  }

  /** Moves past the line holding a value that ended on it; the next line may not be deeper than `column`. */
  private afterInlineValue(column: number): void {
    this.index++;
    if (this.index < this.lines.length && this.lines[this.index]!.indent > column) throw new Declined();
  }

  /** A block collection starting on line `this.index`, indented by `column`. */
  private block(column: number, depth: number): unknown {
    const line = this.lines[this.index]!;
    return this.isDash(line) ? this.seq(column, depth) : this.map(column, line.start + column, depth);
  }

  /** A value after a `key:` or `- ` indicator that ended its line (`at`: where the indicator's spaces end). */
  private valueOnNextLines(at: number, column: number, depth: number, inMap: boolean, build: boolean): unknown {
    const line = this.lines[this.index]!;
    const next = this.lines[this.index + 1];
    if (next && (next.indent > column || (inMap && next.indent === column && this.isDash(next)))) {
      this.index++;
      const first = this.text.charCodeAt(next.start + next.indent);
      if (first !== 123 && first !== 91) return this.block(next.indent, depth + 1);
      // `resources:` with `{}` on the next line, as Helm's toYaml of an empty value writes it
      const value = this.emptyFlowCollection(next.start + next.indent, next, depth + 1 <= this.builtDepth);
      this.afterInlineValue(column);
      return value;
    }
    // An empty sequence item's range depends on the comments before it in ways not worth following.
    if (!inMap) throw new Declined();
    const value = this.nullScalar(at, line, build);
    this.afterInlineValue(column);
    return value;
  }

  private map(column: number, firstKey: number, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new Declined();
    const { text, nodes } = this;
    const build = depth <= this.builtDepth;
    const map = nodes ? newCollection<YAMLMap>(MAP_PROTOTYPE) : undefined;
    const object: Record<string, unknown> | undefined = !map && build ? {} : undefined;
    const names = new KeyNames();
    let keyAt = firstKey;
    let last: unknown;
    for (;;) {
      const line = this.lines[this.index]!;
      const colon = this.keyEnd(keyAt, line.end);
      if (colon === -1) throw new Declined();
      const key = this.plainScalar(text.slice(keyAt, colon), keyAt, colon, colon);
      const keyValue = nodes ? (key as Scalar).value : key;
      // toJS names keys as String() does (null: ""). Equal keys (yaml's error) have equal names; so do a few unequal
      // ones (NaN and NaN, .inf and "Infinity"), declined as well.
      const name = keyName(keyValue);
      if (names.has(name)) throw new Declined();
      names.add(name);
      const at = this.skipSpaces(colon + 1, line.end);
      let value: unknown;
      if (at === line.end || text.charCodeAt(at) === 35) {
        if (at === colon + 1 && at < line.end) throw new Declined(); // "key:#…"
        value = this.valueOnNextLines(at, column, depth, true, build);
      } else {
        value = this.inlineValue(at, line, build, depth + 1 <= this.builtDepth);
        this.afterInlineValue(column);
      }
      if (map) map.items.push(newPair(key, value));
      else if (object) {
        // As yaml's toJS does, an inherited name ("constructor", "__proto__") becomes an own property.
        if (INHERITED_NAMES.has(name)) {
          Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });
        } else object[name] = value;
      }
      last = value;
      const next = this.lines[this.index];
      if (!next || next.indent < column) break;
      if (next.indent > column || this.isDash(next)) throw new Declined();
      keyAt = next.start + column;
    }
    if (!map) return object; // undefined beyond an outline's depth
    const end = (last as Node).range![2];
    map.range = [firstKey, end, end];
    return map;
  }

  private seq(column: number, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new Declined();
    const { text, nodes } = this;
    const build = depth <= this.builtDepth;
    const seq = nodes ? newCollection<YAMLSeq>(SEQ_PROTOTYPE) : undefined;
    const array: unknown[] | undefined = !seq && build ? [] : undefined;
    const start = this.lines[this.index]!.start + column;
    for (;;) {
      const line = this.lines[this.index]!;
      const dash = line.start + column;
      const at = this.skipSpaces(dash + 1, line.end);
      let item: unknown;
      if (at === line.end || text.charCodeAt(at) === 35) {
        if (at === dash + 1 && at < line.end) throw new Declined(); // "-#…"
        item = this.valueOnNextLines(at, column, depth, false, build);
      } else if (text.charCodeAt(at) === 45 && (at + 1 === line.end || text.charCodeAt(at + 1) === 32)) {
        throw new Declined();
      } else if (this.keyEnd(at, line.end) !== -1) {
        item = this.map(at - line.start, at, depth + 1);
      } else {
        item = this.inlineValue(at, line, build, depth + 1 <= this.builtDepth);
        this.afterInlineValue(column);
      }
      if (seq) seq.items.push(item);
      else array?.push(item);
      const next = this.lines[this.index];
      if (!next || next.indent < column || (next.indent === column && !this.isDash(next))) break;
      if (next.indent > column) throw new Declined();
    }
    // A comment line after the last item, as deep as the dashes (a key at their indent comes next), is the
    // composer's part of the sequence.
    if (column > 0 && this.lines[this.index - 1]!.commentsAfter >= column) throw new Declined();
    if (!seq) return array; // undefined beyond an outline's depth
    const end = (seq.items.at(-1) as Node).range![2];
    seq.range = [start, end, end];
    return seq;
  }
}

export interface QuickParse {
  readonly documents: Document.Parsed[];
  /** Offsets where lines start, 0 first: what a LineCounter would have been told. */
  readonly lineStarts: readonly number[];
}

/** Content lines per document, and line starts; undefined when the text is outside the subset line by line. */
function splitLines(text: string): { documents: Line[][]; lineStarts: number[] } | undefined {
  if (ODD_CHARACTERS.test(text)) return undefined;
  const lineStarts: number[] = [0];
  const documents: Line[][] = [];
  let current: Line[] = [];
  let last: Line | undefined;
  let sawMarker = false;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    let indent = 0;
    while (start + indent < end && text.charCodeAt(start + indent) === 32) indent++;
    const first = text.charCodeAt(start + indent);
    if (start + indent === end) {
      // a blank line
    } else if (first === 35) {
      // Comment lines at the indent of the next content line, or at column 0 at a document's end, are the
      // composer's comments before that line: anywhere else it may stretch the ranges of nodes around them.
      if (last && last.commentsAfter !== -1 && last.commentsAfter !== indent) return undefined;
      if (last) last.commentsAfter = indent;
    } else if (indent === 0 && (first === 37 || text.startsWith("...", start))) {
      return undefined; // a directive, or a document end marker
    } else if (indent === 0 && text.startsWith("---", start)) {
      if (end !== start + 3) return undefined;
      if (last && last.commentsAfter > 0) return undefined;
      last = undefined;
      if (current.length > 0) documents.push(current);
      else if (sawMarker || documents.length > 0) return undefined; // an empty document
      current = [];
      sawMarker = true;
    } else {
      if (last && last.commentsAfter !== -1 && last.commentsAfter !== indent) return undefined;
      last = { start, end, indent, commentsAfter: -1 };
      current.push(last);
    }
    if (end === text.length) break;
    start = end + 1;
    lineStarts.push(start);
  }
  if (last && last.commentsAfter > 0) return undefined;
  if (current.length > 0) documents.push(current);
  else if (sawMarker) return undefined;
  if (documents.length === 0) return undefined;
  return { documents, lineStarts };
}

function readDocuments(
  text: string,
  mode: ReadMode,
): { roots: unknown[]; starts: number[]; lineStarts: number[] } | undefined {
  const split = splitLines(text);
  if (!split) return undefined;
  try {
    const roots = split.documents.map((lines) => new Reader(text, lines, mode).document());
    return { roots, starts: split.documents.map((lines) => lines[0]!.start), lineStarts: split.lineStarts };
  } catch (error) {
    if (error instanceof Declined) return undefined;
    throw error;
  }
}

/** The documents of `text` as the yaml package would compose them, or undefined when `text` is outside the subset. */
export function quickParse(text: string): QuickParse | undefined {
  const read = readDocuments(text, "nodes");
  if (!read) return undefined;
  const documents = read.roots.map((root) => {
    const contents = root as YAMLMap;
    const document = new Document() as Document.Parsed;
    document.contents = contents as unknown as ParsedNode;
    document.range = [contents.range![0], contents.range![1], contents.range![2]];
    return document;
  });
  return { documents, lineStarts: read.lineStarts };
}

export interface QuickValues {
  /** Each document's root mapping as `document.toJS()` gives it, and the offset where it starts. */
  readonly documents: ReadonlyArray<{ readonly value: Record<string, unknown>; readonly start: number }>;
  readonly lineStarts: readonly number[];
}

/** The plain values of the documents of `text`, without building nodes; undefined when outside the subset. */
export function quickValues(text: string): QuickValues | undefined {
  return valuesRead(text, "values");
}

/**
 * The outline of the documents of `text` (root mappings with their direct collections; what identifies a manifest),
 * accepting exactly the texts quickValues accepts, for less work; undefined when outside the subset.
 */
export function quickOutline(text: string): QuickValues | undefined {
  return valuesRead(text, "outline");
}

function valuesRead(text: string, mode: "values" | "outline"): QuickValues | undefined {
  const read = readDocuments(text, mode);
  if (!read) return undefined;
  const documents = read.roots.map((root, i) => ({ value: root as Record<string, unknown>, start: read.starts[i]! }));
  return { documents, lineStarts: read.lineStarts };
}
