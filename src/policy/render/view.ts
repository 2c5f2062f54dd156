// What the API server receives, as YAML nodes: aliases followed, merge keys (`<<: *x`, `<<: [*a, *b]`) expanded and
// Flux substitutions applied, while every node keeps the source range of the text a person edits. Rules read this
// view and nothing else, so a value reached through an anchor is judged like a value written in place.
//
// Where a finding points: a node of the view is the node where its text is written (a value reached through an
// alias is the anchor's text); a pair a merge key brought into a map points at that map's `<<` key (the line that
// put the key there). Views of one source node are built once per document view, so the view of a document is never
// larger than its anchored text times its uses (which the parse already bounds with MAX_ALIAS_COUNT).
import { isAlias, isMap, isScalar, isSeq, Pair, Scalar, visit, YAMLMap, YAMLSeq } from "yaml";
import type { Alias, Document, Node } from "yaml";

/** A scalar's replacement: its substituted value, or that it stays unchecked (a variable nothing defines). */
export type ScalarRewrite = { readonly value: Scalar } | { readonly unchecked: readonly string[] };

export interface ViewOptions {
  /** Flux postBuild substitution of one scalar (see render/flux-substitution.ts); undefined when it is unchanged. */
  readonly substitute?: (scalar: Scalar) => ScalarRewrite | undefined;
}

/** A view scalar that holds a `${VAR}` nothing defines: its value as written, with the variables' names. */
class UncheckedScalar extends Scalar {
  constructor(
    source: Scalar,
    readonly variables: readonly string[],
  ) {
    super(source.value);
    this.range = source.range;
    this.type = source.type;
  }
}

/** The variables a view scalar holds that no substitution defines (its value is then not checked), or undefined. */
export function uncheckedVariables(node: unknown): readonly string[] | undefined {
  return node instanceof UncheckedScalar ? node.variables : undefined;
}

/** An anchor or alias outside quotes: `&name` or `*name` after a space, a flow indicator or a line start. */
const ANCHOR_OR_ALIAS = /(?:^|[\s[{,])[&*][^\s,[\]{}]/m;

/**
 * Whether a text may hold anything the view changes (anchors, aliases, merge keys): most files do not. A quoted
 * `"*"` (a DNS pattern) is no alias; a plain scalar cannot start with `*` or `&`, so anything else is caught.
 */
export function mayNeedView(text: string): boolean {
  return text.includes("<<") || ANCHOR_OR_ALIAS.test(text);
}

/** Each alias of a document → the node it names: the last node with that anchor before the alias. */
function aliasTargetsOf(document: Document): Map<Alias, Node> {
  const found = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  visit(document, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) found.set(node, target);
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return found;
}

/** Whether a map key is YAML's `<<` merge key (the composer reads it as a symbol when `merge` is on). */
export function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const value = key.value;
  return (typeof value === "symbol" && value.description === "<<") || (value === "<<" && key.type === Scalar.PLAIN);
}

function keyOf(key: unknown): unknown {
  return isScalar(key) ? key.value : key;
}

class ViewBuilder {
  private readonly built = new Map<Node, Node>();
  private readonly building = new Set<Node>();

  constructor(
    private readonly document: Document,
    private readonly targets: ReadonlyMap<Alias, Node>,
    private readonly options: ViewOptions,
  ) {}

  /** The view of a source node. */
  node(source: unknown): Node | null {
    if (isAlias(source)) {
      const target = this.targets.get(source);
      // An alias naming no earlier anchor, or one inside its own anchor (a cycle): nothing the API server reads.
      if (!target || this.building.has(target)) return null;
      return this.node(target);
    }
    if (!isScalar(source) && !isMap(source) && !isSeq(source)) return null;
    const known = this.built.get(source);
    if (known) return known;
    this.building.add(source);
    const view = isScalar(source) ? this.scalar(source) : isMap(source) ? this.map(source) : this.seq(source);
    this.building.delete(source);
    this.built.set(source, view);
    return view;
  }

  private scalar(source: Scalar): Scalar {
    const rewrite = this.options.substitute?.(source);
    if (rewrite === undefined) return source;
    if ("unchecked" in rewrite) return new UncheckedScalar(source, rewrite.unchecked);
    rewrite.value.range = source.range;
    return rewrite.value;
  }

  private seq(source: YAMLSeq): YAMLSeq {
    const view = new YAMLSeq(this.document.schema);
    view.range = source.range;
    view.flow = source.flow;
    for (const item of source.items) view.items.push(this.node(item));
    return view;
  }

  private map(source: YAMLMap): YAMLMap {
    const view = new YAMLMap(this.document.schema);
    view.range = source.range;
    view.flow = source.flow;
    const written = new Set(
      source.items.filter((pair) => !isMergeKey(pair.key)).map((pair) => this.keyValue(pair.key)),
    );
    const merged = new Set<unknown>();
    for (const pair of source.items) {
      if (!isMergeKey(pair.key)) {
        view.items.push(new Pair(this.node(pair.key), this.node(pair.value)));
        continue;
      }
      // Merge sources in order: a key written in the map wins, then the earlier source (yaml.org/type/merge.html).
      const mergeKey = pair.key as Scalar;
      const sourceNode = this.node(pair.value);
      const sources = isSeq(sourceNode) ? sourceNode.items : [sourceNode];
      for (const from of sources) {
        if (!isMap(from)) continue;
        for (const mergedPair of from.items) {
          const keyValue = keyOf(mergedPair.key);
          if (written.has(keyValue) || merged.has(keyValue)) continue;
          merged.add(keyValue);
          view.items.push(new Pair(this.keyAt(mergedPair.key, mergeKey), mergedPair.value));
        }
      }
    }
    return view;
  }

  private keyValue(key: unknown): unknown {
    return keyOf(this.node(key));
  }

  /** A merged pair's key, placed at the merge key that brought it (the line a person edits to change it). */
  private keyAt(key: unknown, mergeKey: Scalar): unknown {
    if (!isScalar(key)) return key;
    const copy = new Scalar(key.value);
    copy.type = key.type;
    copy.range = mergeKey.range;
    return copy;
  }
}

/**
 * The views of one document's nodes. Its alias targets are found once, on the first view asked for, and serve every
 * manifest of the document (the items of a List): whoever reads the document holds one of these for it.
 */
export class DocumentView {
  #targets: ReadonlyMap<Alias, Node> | undefined;

  constructor(readonly document: Document) {}

  /**
   * The view of a node of the document (a manifest's root or a List item) as the API server receives it. Returns
   * the node itself when nothing in the document needs a view and no substitution is asked for.
   */
  of<T extends YAMLMap>(node: T, options: ViewOptions = {}): YAMLMap {
    this.#targets ??= aliasTargetsOf(this.document);
    const view = new ViewBuilder(this.document, this.#targets, options).node(node);
    return isMap(view) ? view : node;
  }
}

/** The view scalars under a node that hold variables nothing defines, in document order, each with its names. */
export function uncheckedIn(node: Node): Array<{ node: Node; variables: readonly string[] }> {
  const found: Array<{ node: Node; variables: readonly string[] }> = [];
  const seen = new Set<Node>();
  visit(node, {
    Node(_key, inner) {
      const variables = uncheckedVariables(inner);
      if (variables && !seen.has(inner)) {
        seen.add(inner);
        found.push({ node: inner, variables });
      }
    },
  });
  return found;
}
