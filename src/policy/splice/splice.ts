// Applies a rule's rewrite plan to a file's text, changing only the bytes of that rule (and of the rules appended
// after its list), then proves it: the result is re-parsed, every document must read exactly as expected, and the
// text outside the edited ranges must be identical. A plan that cannot be applied that way is refused, never half
// applied.
import { Document, isAlias, isMap, isNode, isPair, isScalar, isSeq, parseAllDocuments, visit } from "yaml";
import type { EmptyStream, Node, Pair, Scalar, YAMLMap, YAMLSeq } from "yaml";
import { documentValue } from "../read/plain-value.js";
import { quickParse } from "../read/quick-yaml.js";
import type { PlannedRule, RuleValue } from "../plan/rewrite.js";
import { deepEqual } from "../plan/rewrite.js";

/** Where a rule is: its document and the path from the document's root to the rule's map. */
export interface RuleLocator {
  readonly documentIndex: number;
  readonly path: readonly (string | number)[];
}

export interface SplicePlan {
  readonly inPlace: PlannedRule;
  readonly appended: readonly PlannedRule[];
}

export type SpliceOutcome =
  | { readonly ok: true; readonly text: string; readonly appended: number }
  | { readonly ok: false; readonly error: string };

/** How a file writes YAML, so that new text looks like the old. */
export interface TextStyle {
  readonly indent: number;
  /** `- ` indented under its parent key (true) or at the key's column (false). */
  readonly indentSeq: boolean;
  readonly eol: "\n" | "\r\n";
  readonly singleQuote: boolean;
  readonly flowPadding: boolean;
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

class SpliceError extends Error {}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

function rangeOf(node: Node): [number, number, number] {
  if (!node.range) throw new SpliceError("a node has no source range");
  return node.range;
}

function majority(votes: number[], fallback: number): number {
  const counts = new Map<number, number>();
  for (const vote of votes) counts.set(vote, (counts.get(vote) ?? 0) + 1);
  let best = fallback;
  let bestCount = 0;
  for (const [value, count] of counts) {
    if (count > bestCount) [best, bestCount] = [value, count];
  }
  return best;
}

/** Reads the file's indentation step, sequence indentation, line ending and quoting from its documents. */
export function detectStyle(text: string, documents: readonly Document.Parsed[]): TextStyle {
  const steps: number[] = [];
  const seqIndented: number[] = [];
  const padding: number[] = [];
  let single = 0;
  let double = 0;
  const pair = (item: Pair) => {
    if (!isScalar(item.key) || !item.key.range) return;
    const keyColumn = columnOf(text, item.key.range[0]);
    const value = item.value;
    if (isMap(value) && !value.flow) {
      const first = value.items[0]?.key;
      if (isScalar(first) && first.range) steps.push(columnOf(text, first.range[0]) - keyColumn);
    } else if (isSeq(value) && !value.flow && value.range) {
      const dash = columnOf(text, value.range[0]);
      seqIndented.push(dash > keyColumn ? 1 : 0);
      if (dash > keyColumn) steps.push(dash - keyColumn);
    }
  };
  // Depth first, each pair before its key and value, as yaml's visit goes (majority breaks ties by first vote);
  // walked by hand, without visit's generic machinery: the rewrite reads the style of every file it changes.
  const walk = (node: unknown): void => {
    if (isScalar(node)) {
      if (node.type === "QUOTE_SINGLE") single++;
      else if (node.type === "QUOTE_DOUBLE") double++;
    } else if (isPair(node)) {
      pair(node);
      walk(node.key);
      walk(node.value);
    } else if (isMap(node) || isSeq(node)) {
      if (node.flow && node.range && node.items.length > 0) padding.push(text[node.range[0] + 1] === " " ? 1 : 0);
      for (const item of node.items) walk(item);
    }
  };
  for (const document of documents) walk(document.contents);
  const newline = text.indexOf("\n");
  return {
    indent: Math.max(
      1,
      majority(
        steps.filter((s) => s > 0),
        2,
      ),
    ),
    indentSeq: majority(seqIndented, 1) === 1,
    eol: newline > 0 && text[newline - 1] === "\r" ? "\r\n" : "\n",
    singleQuote: single > double,
    flowPadding: majority(padding, 0) === 1,
  };
}

/** Offset just after a node's last content character: no trailing newline or comment lines. */
function contentEnd(node: unknown): number {
  if (isScalar(node) || isAlias(node)) return rangeOf(node)[1];
  if (isMap(node) || isSeq(node)) {
    if (node.flow) return rangeOf(node)[1];
    const last = node.items[node.items.length - 1];
    if (last === undefined) return rangeOf(node)[1];
    if (isPair(last)) {
      const value = last.value;
      const empty = isScalar(value) && value.range && value.range[0] === value.range[1];
      return value == null || empty ? contentEnd(last.key) : contentEnd(value);
    }
    return contentEnd(last);
  }
  throw new SpliceError("unexpected node type");
}

function stringifyOptions(style: TextStyle) {
  return {
    indent: style.indent,
    indentSeq: style.indentSeq,
    lineWidth: 0,
    minContentWidth: 0,
    singleQuote: style.singleQuote,
    flowCollectionPadding: style.flowPadding,
  };
}

function addNotes(document: Document, rule: PlannedRule, at: readonly (string | number)[]): void {
  const peers = document.getIn([...at, rule.peerKey], true);
  if (!isSeq(peers)) return;
  for (const note of rule.notes) {
    const item = peers.items[note.index];
    if (isNode(item)) item.commentBefore = note.text;
  }
}

/** Block text for `value`, starting at `column` (first line unindented, as it follows what is already there). */
function blockText(value: unknown, column: number, style: TextStyle, decorate?: (d: Document) => void): string {
  const document = new Document(value);
  decorate?.(document);
  const text = document.toString(stringifyOptions(style)).replace(/\n$/, "");
  const pad = " ".repeat(column);
  return text
    .split("\n")
    .map((line, i) => (i === 0 || line === "" ? line : pad + line))
    .join("\n");
}

function flowText(value: unknown, style: TextStyle): string {
  const document = new Document(value);
  visit(document, {
    Collection(_, collection) {
      collection.flow = true;
    },
  });
  const text = document.toString(stringifyOptions(style)).replace(/\n$/, "");
  if (text.includes("\n")) throw new SpliceError("flow text would span lines");
  return text;
}

/** Whether the line of `owner` (a rule, or the sequence rules are appended to) holds nothing before it but indentation and dashes. */
function startsItsLine(text: string, owner: number): boolean {
  return /^[ \t]*(?:-[ \t]+)*$/.test(text.slice(lineStartOf(text, owner), owner));
}

/** Notes as comment lines above the line of `owner`, at its indentation. */
function commentLinesAbove(text: string, owner: number, notes: readonly string[]): Edit | undefined {
  if (notes.length === 0) return undefined;
  const start = lineStartOf(text, owner);
  const indent = /^[ \t]*/.exec(text.slice(start))?.[0] ?? "";
  return { start, end: start, text: notes.map((note) => `${indent}#${note}\n`).join("") };
}

/**
 * Notes as comments inside a flow collection whose line holds more than it (a one-line JSON document, where a line
 * above would be outside the rule's bytes): each ends its line, and what follows goes on, indented, on the next.
 */
function inlineComments(text: string, owner: number, notes: readonly string[]): string {
  const indent = /^[ \t]*/.exec(text.slice(lineStartOf(text, owner)))?.[0] ?? "";
  return notes.map((note) => `#${note}\n${indent}  `).join("");
}

/** The notes of a flow edit at `offset` in the rule or sequence at `owner`: above its line, or inside it. */
function flowNotes(text: string, offset: number, owner: number, notes: readonly string[]): Edit | undefined {
  if (notes.length === 0) return undefined;
  if (startsItsLine(text, owner)) return commentLinesAbove(text, owner, notes);
  return { start: offset, end: offset, text: ` ${inlineComments(text, owner, notes)}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const PLAIN_SAFE_NAME = /^[a-zA-Z][-a-zA-Z0-9_.]*$/;
const YAML_KEYWORDS =
  /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$/;

/** A scalar's new source text in the original's quoting style, or undefined when that style cannot hold it. */
function scalarSource(original: Scalar, value: unknown, style: TextStyle): string | undefined {
  if (typeof value === "number") {
    return original.type === "PLAIN" && typeof original.value === "number" ? String(value) : undefined;
  }
  if (typeof value !== "string") return undefined;
  if (original.type === "QUOTE_DOUBLE") return JSON.stringify(value);
  if (original.type === "QUOTE_SINGLE") return `'${value.replace(/'/g, "''")}'`;
  if (original.type === "PLAIN") {
    if (PLAIN_SAFE_NAME.test(value) && !YAML_KEYWORDS.test(value)) return value;
    return style.singleQuote ? `'${value}'` : JSON.stringify(value);
  }
  return undefined;
}

/**
 * Edits that turn `node` into `value` scalar by scalar, when both have the same shape (the usual port remapping):
 * quoting, comments and layout around the ports survive. undefined when the shapes differ.
 */
function scalarEdits(node: unknown, value: unknown, style: TextStyle): Edit[] | undefined {
  if (isScalar(node)) {
    if (deepEqual(node.toJSON(), value)) return [];
    const source = scalarSource(node, value, style);
    if (source === undefined) return undefined;
    const [start, end] = rangeOf(node);
    return [{ start, end, text: source }];
  }
  if (isSeq(node)) {
    if (!Array.isArray(value) || value.length !== node.items.length) return undefined;
    const edits: Edit[] = [];
    for (let i = 0; i < value.length; i++) {
      const sub = scalarEdits(node.items[i], value[i], style);
      if (!sub) return undefined;
      edits.push(...sub);
    }
    return edits;
  }
  if (isMap(node)) {
    if (!isRecord(value)) return undefined;
    const keys = Object.keys(value);
    if (keys.length !== node.items.length) return undefined;
    const edits: Edit[] = [];
    for (let i = 0; i < keys.length; i++) {
      const pair = node.items[i] as Pair;
      const key = keys[i] as string;
      if (!isScalar(pair.key) || pair.key.value !== key) return undefined;
      const sub = scalarEdits(pair.value, value[key], style);
      if (!sub) return undefined;
      edits.push(...sub);
    }
    return edits;
  }
  return undefined;
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => isScalar(pair.key) && pair.key.value === key) as Pair | undefined;
}

/** Edits replacing one pair (key and value) by `key: value` in the style of the value it replaces. */
function replacePair(
  text: string,
  pair: Pair,
  key: string,
  value: unknown,
  style: TextStyle,
  rule: PlannedRule | undefined,
  inFlowMap: boolean,
  ruleStart: number,
): Edit[] {
  if (!isScalar(pair.key)) throw new SpliceError("a key is not a scalar");
  const start = rangeOf(pair.key)[0];
  const end = contentEnd(pair.value);
  const old = pair.value as Node | null;
  const flow = inFlowMap || ((isMap(old) || isSeq(old)) && old.flow === true);
  if (flow) {
    const edits: Edit[] = [{ start, end, text: `${flowText({ [key]: value }, style).replace(/^\{ ?|,? ?\}$/g, "")}` }];
    const above = flowNotes(text, start, Math.min(ruleStart, start), rule?.notes.map((n) => n.text) ?? []);
    if (above) edits.push(above);
    return edits;
  }
  const replacement = blockText({ [key]: value }, columnOf(text, start), style, (document) => {
    if (rule) addNotes(document, rule, []);
  });
  return [{ start, end, text: replacement }];
}

function applyEdits(text: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  for (let i = 1; i < sorted.length; i++) {
    const later = sorted[i - 1] as Edit;
    const earlier = sorted[i] as Edit;
    if (earlier.end > later.start) throw new SpliceError("overlapping edits");
  }
  let out = text;
  for (const edit of sorted) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

function withEol(edits: readonly Edit[], eol: TextStyle["eol"]): Edit[] {
  return eol === "\n" ? [...edits] : edits.map((edit) => ({ ...edit, text: edit.text.replace(/\r?\n/g, "\r\n") }));
}

/**
 * A file's documents: the quick reader's when it reads the text (node for node what yaml composes, proven in
 * test/policy/quick-yaml.test.ts, many times faster), else the yaml package's.
 */
function parseDocuments(text: string): Document.Parsed[] | EmptyStream {
  return quickParse(text)?.documents ?? parseAllDocuments(text, { prettyErrors: false, merge: true });
}

function setIn(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let at = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1] as string | number] = value;
}

function getIn(root: unknown, path: readonly (string | number)[]): unknown {
  let at = root;
  for (const key of path) at = (at as Record<string | number, unknown>)[key];
  return at;
}

/** Edits that append rules after the last item of `seq`. */
function appendEdits(text: string, seq: YAMLSeq, rules: readonly PlannedRule[], flowRule: boolean, style: TextStyle) {
  const last = seq.items[seq.items.length - 1];
  const at = contentEnd(last);
  const notes = rules.flatMap((rule) => rule.notes.map((n) => n.text));
  if (seq.flow) {
    const items = rules.map((rule) => flowText(rule.value, style)).join(", ");
    const owner = rangeOf(seq)[0];
    if (notes.length > 0 && !startsItsLine(text, owner)) {
      return [{ start: at, end: at, text: `, ${inlineComments(text, owner, notes)}${items}` }];
    }
    const edits: Edit[] = [{ start: at, end: at, text: `, ${items}` }];
    const above = commentLinesAbove(text, owner, notes);
    if (above) edits.push(above);
    return edits;
  }
  const dash = columnOf(text, rangeOf(seq)[0]);
  const pad = " ".repeat(dash);
  const items = rules.map((rule) => {
    if (flowRule) {
      const comments = rule.notes.map((n) => `${pad}#${n.text}\n`).join("");
      return `\n${comments}${pad}- ${flowText(rule.value, style)}`;
    }
    return `\n${pad}${blockText([rule.value], dash, style, (document) => addNotes(document, rule, [0]))}`;
  });
  return [{ start: at, end: at, text: items.join("") }];
}

/** The edits rewriting one rule in place (its toServices pair, and its toPorts when they change). */
function inPlaceEdits(text: string, rule: YAMLMap, plan: SplicePlan, style: TextStyle): Edit[] {
  const services = pairOf(rule, "toServices");
  if (!services) throw new SpliceError("the rule has no toServices");
  const edits: Edit[] = [];
  const peers = plan.inPlace.value[plan.inPlace.peerKey];
  const ruleStart = rangeOf(rule)[0];
  edits.push(
    ...replacePair(text, services, plan.inPlace.peerKey, peers, style, plan.inPlace, rule.flow === true, ruleStart),
  );
  const ports = pairOf(rule, "toPorts");
  if (ports && !deepEqual((ports.value as Node | null)?.toJSON(), plan.inPlace.value.toPorts)) {
    const fine = scalarEdits(ports.value, plan.inPlace.value.toPorts, style);
    edits.push(
      ...(fine ??
        replacePair(
          text,
          ports,
          "toPorts",
          plan.inPlace.value.toPorts,
          style,
          undefined,
          rule.flow === true,
          ruleStart,
        )),
    );
  }
  return edits;
}

export interface SpliceItem {
  readonly at: RuleLocator;
  readonly plan: SplicePlan;
}

export type ItemOutcome =
  { readonly ok: true; readonly appended: number } | { readonly ok: false; readonly error: string };

function failure(error: unknown): { ok: false; error: string } {
  if (error instanceof SpliceError) return { ok: false, error: error.message };
  return { ok: false, error: `the rewrite could not be applied: ${(error as Error).message}` };
}

/**
 * Applies the plans of several rules of one file in one pass: one parse, one set of non-overlapping edits, one
 * proof. When the proof fails, each rule is applied and proven alone, so that only the rules at fault are refused.
 */
export function spliceRules(text: string, items: readonly SpliceItem[]): { text: string; outcomes: ItemOutcome[] } {
  if (items.length === 0) return { text, outcomes: [] };
  const outcomes: ItemOutcome[] = items.map(() => ({ ok: false, error: "not applied" }));
  try {
    const documents = parseDocuments(text);
    if (!Array.isArray(documents)) throw new SpliceError("the file is empty");
    const style = detectStyle(text, documents);
    const expected = documents.map(documentValue);
    const edits: Edit[] = [];
    const appendsBySeq = new Map<YAMLSeq, { rules: PlannedRule[]; flowRule: boolean }>();
    items.forEach(({ at, plan }, i) => {
      try {
        const document = documents[at.documentIndex];
        if (!document || document.errors.length > 0) throw new SpliceError("the document does not parse");
        const rule = document.getIn(at.path, true);
        const seq = document.getIn(at.path.slice(0, -1), true);
        if (!isMap(rule) || !isSeq(seq)) throw new SpliceError("the rule is not where it was found");
        edits.push(...inPlaceEdits(text, rule, plan, style));
        setIn(expected[at.documentIndex], at.path, plan.inPlace.value);
        const list = getIn(expected[at.documentIndex], at.path.slice(0, -1)) as RuleValue[];
        const pending = appendsBySeq.get(seq) ?? { rules: [], flowRule: rule.flow === true };
        let appended = 0;
        for (const candidate of plan.appended) {
          if (list.some((existing) => deepEqual(existing, candidate.value))) continue;
          list.push(candidate.value);
          pending.rules.push(candidate);
          appended++;
        }
        if (pending.rules.length > 0) appendsBySeq.set(seq, pending);
        outcomes[i] = { ok: true, appended };
      } catch (error) {
        outcomes[i] = failure(error);
      }
    });
    for (const [seq, pending] of appendsBySeq) {
      edits.push(...appendEdits(text, seq, pending.rules, pending.flowRule, style));
    }
    if (edits.length === 0) return { text, outcomes };
    const eolEdits = withEol(edits, style.eol);
    const out = applyEdits(text, eolEdits);
    verify(text, out, eolEdits, expected);
    return { text: out, outcomes };
  } catch {
    // Something in the batch cannot be proven: find out which rule, one at a time.
    if (items.length === 1) {
      const single = items[0] as SpliceItem;
      const outcome = spliceRule(text, single.at, single.plan);
      return outcome.ok
        ? { text: outcome.text, outcomes: [{ ok: true, appended: outcome.appended }] }
        : { text, outcomes: [outcome] };
    }
    let current = text;
    const each = items.map((item): ItemOutcome => {
      const outcome = spliceRule(current, item.at, item.plan);
      if (!outcome.ok) return outcome;
      current = outcome.text;
      return { ok: true, appended: outcome.appended };
    });
    return { text: current, outcomes: each };
  }
}

/**
 * Applies `plan` to the rule at `at` in `text`. Rules equal to one already in the list are not appended again.
 * Returns the new text, or an error when the edit could not be proven to change nothing but the rule.
 */
export function spliceRule(text: string, at: RuleLocator, plan: SplicePlan): SpliceOutcome {
  try {
    const documents = parseDocuments(text);
    if (!Array.isArray(documents)) throw new SpliceError("the file is empty");
    const document = documents[at.documentIndex];
    if (!document || document.errors.length > 0) throw new SpliceError("the document does not parse");
    const rule = document.getIn(at.path, true);
    const seq = document.getIn(at.path.slice(0, -1), true);
    if (!isMap(rule) || !isSeq(seq)) throw new SpliceError("the rule is not where it was found");
    const style = detectStyle(text, documents);

    const expected = documents.map(documentValue);
    setIn(expected[at.documentIndex], at.path, plan.inPlace.value);
    const list = getIn(expected[at.documentIndex], at.path.slice(0, -1)) as RuleValue[];
    const appended: PlannedRule[] = [];
    for (const candidate of plan.appended) {
      if (list.some((existing) => deepEqual(existing, candidate.value))) continue;
      list.push(candidate.value);
      appended.push(candidate);
    }

    const edits = inPlaceEdits(text, rule, plan, style);
    if (appended.length > 0) edits.push(...appendEdits(text, seq, appended, rule.flow === true, style));
    const eolEdits = withEol(edits, style.eol);
    const out = applyEdits(text, eolEdits);
    verify(text, out, eolEdits, expected);
    return { ok: true, text: out, appended: appended.length };
  } catch (error) {
    return failure(error);
  }
}

/** The proof: the new text parses to exactly the expected documents, and nothing outside the edits moved. */
function verify(before: string, after: string, edits: readonly Edit[], expected: readonly unknown[]): void {
  // Every byte between the edits is where it was, shifted by what the earlier edits added or removed.
  let shift = 0;
  let from = 0;
  for (const edit of [...edits].sort((a, b) => a.start - b.start || a.end - b.end)) {
    if (after.slice(from + shift, edit.start + shift) !== before.slice(from, edit.start)) {
      throw new SpliceError("text outside the rewritten rule changed");
    }
    shift += edit.text.length - (edit.end - edit.start);
    from = edit.end;
  }
  if (after.slice(from + shift) !== before.slice(from))
    throw new SpliceError("text outside the rewritten rule changed");
  const documents = parseDocuments(after);
  if (!Array.isArray(documents) || documents.length !== expected.length) {
    throw new SpliceError("the rewritten file has a different number of documents");
  }
  documents.forEach((document, i) => {
    if (document.errors.length > 0)
      throw new SpliceError(`the rewritten file does not parse: ${document.errors[0]?.message}`);
    let value: unknown;
    try {
      value = documentValue(document);
    } catch (error) {
      throw new SpliceError(`the rewritten file does not parse: ${(error as Error).message}`);
    }
    if (!deepEqual(value, expected[i])) {
      throw new SpliceError("the rewritten file does not read as the planned rules");
    }
  });
}
