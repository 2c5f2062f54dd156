// Fix plans and their application. The analysis plans each rule a fixable rule reports, once (`planRuleFix`); the
// report carries the plan, so a finding's fix kind and the fix are the same object. `applyFixes` turns the plans into
// file changes: text edits spliced into the original bytes, re-parsed and proven. Pure, like the analysis.
import { isNode, isPair, isScalar, visit } from "yaml";
import { positionOf } from "../read/manifests.js";
import type { ParsedFile } from "../read/manifests.js";
import { ruleValue, sharedTextReason } from "../read/policy.js";
import type { Policy, PolicyRule } from "../read/policy.js";
import type { IndexLookups } from "../index/lookups.js";
import { resolveServices } from "../resolve/resolve.js";
import type { Resolution, ResolveContext, ResolvedService } from "../resolve/resolve.js";
import { needsRewrite, planRule } from "./rewrite.js";
import type { EntryResolution, PlanOptions, RulePlan } from "./rewrite.js";
import { NAMESPACE_KEY } from "../selectors.js";
import { spliceRules } from "../splice/splice.js";
import type { ItemOutcome, SpliceItem } from "../splice/splice.js";
import type { Config, FixKind, Labels } from "../types.js";

/** One toServices entry → the Services it names, each with its answer and where the answer came from. */
export type ServiceResolver = (entry: unknown, context: ResolveContext) => readonly ResolvedService[];

/** The planned rewrite of one egress rule: what a fixable rule's report carries. */
export interface RuleFix {
  readonly file: string;
  /** 1-based line of the rule's `toServices` key in the original text. */
  readonly line: number;
  readonly policy: string | null;
  /** Index of the rule in its spec's egress list, and the spec's path (["spec"] or ["specs", i]). */
  readonly ruleIndex: number;
  readonly specPath: readonly (string | number)[];
  /** The rule's document and its path inside it, for the splice. */
  readonly target: { readonly documentIndex: number; readonly path: readonly (string | number)[] };
  /** A rewrite, a rule left for a human (`manual`), or a plan that could not be made (`error`). */
  readonly plan: Exclude<RulePlan, { kind: "unchanged" }> | { readonly kind: "error"; readonly reason: string };
}

/** What the analysis knows of one rule with `toServices`: each entry resolved once, and the fix if the rewrite acts. */
export interface RuleRewriteView {
  readonly entries: readonly EntryResolution[];
  readonly fix: RuleFix | undefined;
}

export interface PlanContext {
  readonly file: ParsedFile;
  readonly lookups: IndexLookups;
  readonly config: Config;
  readonly plan: PlanOptions;
  readonly resolve: ServiceResolver;
}

/** A finding's fix kind, from the plan its report carries. */
export function fixKindOf(fix: RuleFix | undefined): FixKind {
  switch (fix?.plan.kind) {
    case "rewrite":
      return fix.plan.services.some((service) => service.resolution === "guessed") ? "guessed" : "auto";
    case "manual":
    case "error":
      return "manual";
    default:
      return "none";
  }
}

/**
 * Where no guess is written: with `unresolved: skip`, and where every Cilium version judged (1.17 and later)
 * translates toServices itself, so the rule already works as written and a wrong guess would break it or select
 * other pods. A guess then becomes a rule left for a human, saying why.
 */
function applyUnresolvedPolicy(
  services: readonly ResolvedService[],
  config: Config,
  plan: PlanOptions,
): ResolvedService[] {
  const why =
    config.unresolved === "skip"
      ? "no certain answer (unresolved: skip)"
      : !plan.translateSelectorServices
        ? "no certain answer, and every Cilium version judged (1.17 and later) enforces this rule as written, so no guess is written into it"
        : undefined;
  if (why === undefined) return [...services];
  return services.map((s) => (s.resolution === "guessed" ? { ...s, resolution: "manual", note: why } : s));
}

function toServicesLine(file: ParsedFile, rule: PolicyRule): number {
  const pair = rule.node.items.find((p) => isScalar(p.key) && p.key.value === "toServices");
  const key = pair?.key;
  return positionOf(file, isScalar(key) ? key : rule.node).line;
}

/**
 * Resolves a rule's toServices entries and plans its rewrite. The rewrite acts on egress rules only: deny rules and
 * rules it leaves unchanged get no fix.
 */
export function planRuleFix(policy: Policy, rule: PolicyRule, context: PlanContext): RuleRewriteView {
  const value = ruleValue(rule);
  const listed = (value as { toServices?: unknown } | null)?.toServices;
  const written = Array.isArray(listed) ? (listed as unknown[]) : [];
  const base = {
    file: context.file.path,
    line: toServicesLine(context.file, rule),
    policy: policy.id,
    ruleIndex: rule.index,
    specPath: rule.spec.path,
    target: { documentIndex: policy.manifest.documentIndex, path: [...policy.manifest.path, ...rule.path] },
  };
  let entries: EntryResolution[] = [];
  try {
    const resolveContext: ResolveContext = { policy, lookups: context.lookups, config: context.config };
    entries = written.map((entry) => ({
      entry,
      services: applyUnresolvedPolicy(context.resolve(entry, resolveContext), context.config, context.plan),
    }));
    if (rule.direction !== "egress" || !needsRewrite(value, context.plan)) return { entries, fix: undefined };
    const plan = planRule(value, entries, context.plan);
    if (plan.kind === "unchanged") return { entries, fix: undefined };
    // A rule whose text other places share (anchors, aliases, merge keys) is left to a person.
    const shared =
      plan.kind === "rewrite"
        ? (sharedTextReason(policy, rule) ?? anchorReadOutsideEgress(context.file, base.target))
        : undefined;
    const planned = shared === undefined ? plan : { kind: "manual" as const, reason: shared, services: plan.services };
    return { entries, fix: { ...base, plan: planned } };
  } catch (error) {
    const reason = `the rewrite could not be planned: ${(error as Error)?.message ?? String(error)}`;
    return { entries, fix: rule.direction === "egress" ? { ...base, plan: { kind: "error", reason } } : undefined };
  }
}

/**
 * An anchor the rule sets that an alias outside every egress rule reads (an ingress or deny rule, another spec field):
 * the rewrite replaces the rule's text, anchor included, and never touches that alias, which would be left naming
 * nothing. Said when planning, so the finding and `fix` agree (a person must rewrite it). Aliases inside egress rules
 * are left to the splice, which rewrites a rule aliasing a rewritten one together with it, or refuses the edit.
 */
function anchorReadOutsideEgress(file: ParsedFile, target: RuleFix["target"]): string | undefined {
  // Without an `&` in the text there is no anchor: most files, and every file the quick reader reads.
  if (!file.text.includes("&")) return undefined;
  const document = file.documents[target.documentIndex];
  const path = target.path;
  // The rule as written: the analysis reads it from the rendered view, where aliases are already followed.
  const written = document?.getIn(path, true);
  if (document === undefined || !isNode(written)) return undefined;
  const anchors = new Set<string>();
  visit(written, {
    Node(_key, node) {
      if (node.anchor) anchors.add(node.anchor);
    },
  });
  if (anchors.size === 0) return undefined;
  let read: string | undefined;
  visit(document, {
    Alias(_key, alias, ancestors) {
      if (!anchors.has(alias.source) || ancestors.includes(written)) return undefined;
      const inEgress = ancestors.some((step) => isPair(step) && isScalar(step.key) && step.key.value === "egress");
      if (inEgress) return undefined;
      read = alias.source;
      return visit.BREAK;
    },
  });
  return read === undefined
    ? undefined
    : `this rule sets the YAML anchor &${read}, which an alias (*${read}) outside the egress rules reads; the rewrite would remove the anchor and leave that alias naming nothing, so rewrite the rule by hand and keep the anchor's value where the alias needs it`;
}

// ---- applying the plans ----

export interface ServiceRewrite {
  /** "namespace/name" of the Service, or "name" when its namespace is unknown. */
  readonly service: string;
  readonly resolution: Resolution;
  /** The `matchLabels` written into toEndpoints (the namespace label included); null for entities, CIDRs, manual. */
  readonly selector: Labels | null;
  readonly entities?: readonly string[];
  readonly cidrs?: readonly string[];
  /** service port → backend port `toPorts` now names. */
  readonly ports?: ReadonlyArray<{
    readonly port: number;
    readonly protocol: string;
    readonly targetPort: number | string;
  }>;
  /** Why an answer is a guess or could not be given. */
  readonly note?: string;
  /** Source `chart`: the chart that rendered the Service, e.g. "traefik@33.2.1". */
  readonly chart?: string;
}

/** "chart traefik@33.2.1" for chart-made Services, else the resolution: what reports show as the answer's source. */
export function resolvedFrom(service: Pick<ServiceRewrite, "resolution" | "chart">): string {
  return service.resolution === "chart" && service.chart !== undefined ? `chart ${service.chart}` : service.resolution;
}

/** rewritten: the file changed; manual: left unchanged, a human must fix it; error: the edit could not be proven safe. */
export type RewriteStatus = "rewritten" | "manual" | "error";

export interface RuleRewrite {
  readonly file: string;
  /** 1-based line of the rewritten rule's `toServices` key in the original text. */
  readonly line: number;
  readonly policy: string | null;
  readonly status: RewriteStatus;
  /** Index of the rule in its spec's egress list, and the spec's path (["spec"] or ["specs", i]). */
  readonly ruleIndex: number;
  readonly specPath: readonly (string | number)[];
  /** Rules appended after the existing ones because services map ports differently or need other peer kinds. */
  readonly rulesAdded: number;
  /** For manual and error: why. */
  readonly message?: string;
  readonly services: readonly ServiceRewrite[];
}

export interface FileChange {
  readonly path: string;
  /** Full texts, a byte-order mark included when the file has one. */
  readonly before: string;
  readonly after: string;
}

export interface FixResult {
  readonly changes: readonly FileChange[];
  readonly rewrites: readonly RuleRewrite[];
}

/** What `applyFixes` needs of an analysis: the files read and the plans the findings carry. */
export interface FixInput {
  readonly files: readonly ParsedFile[];
  readonly fixes: readonly RuleFix[];
}

function serviceRewrite(service: ResolvedService, manual: boolean): ServiceRewrite {
  const selector =
    !manual && service.selector && Object.keys(service.selector).length > 0 && service.namespace !== undefined
      ? { ...service.selector, [NAMESPACE_KEY]: service.namespace }
      : null;
  return {
    service: service.service,
    resolution: service.resolution,
    selector,
    ...(selector === null && service.entities ? { entities: service.entities } : {}),
    ...(selector === null && service.cidrs ? { cidrs: service.cidrs } : {}),
    ...(service.ports.length > 0 ? { ports: service.ports } : {}),
    ...(service.note ? { note: service.note } : {}),
    ...(service.chart !== undefined ? { chart: service.chart } : {}),
  };
}

function applyFileFixes(file: ParsedFile, fixes: readonly RuleFix[]): { text: string; rewrites: RuleRewrite[] } {
  const rewrites: RuleRewrite[] = [];
  const pending: Array<{ rewrite: number; item: SpliceItem }> = [];
  for (const fix of fixes) {
    const { target, plan, ...base } = fix;
    switch (plan.kind) {
      case "error":
        rewrites.push({ ...base, status: "error", rulesAdded: 0, message: plan.reason, services: [] });
        break;
      case "manual":
        rewrites.push({
          ...base,
          status: "manual",
          rulesAdded: 0,
          message: plan.reason,
          services: plan.services.map((s) => serviceRewrite(s, true)),
        });
        break;
      case "rewrite": {
        const services = plan.services.map((s) => serviceRewrite(s, false));
        const at = rewrites.push({ ...base, status: "rewritten", rulesAdded: 0, services }) - 1;
        pending.push({ rewrite: at, item: { at: target, plan } });
      }
    }
  }
  // All of a file's rules in one splice: one parse and one proof, however many rules the file has.
  const spliced = spliceRules(
    file.text,
    pending.map((p) => p.item),
  );
  pending.forEach(({ rewrite }, i) => {
    const outcome = spliced.outcomes[i] as ItemOutcome;
    const original = rewrites[rewrite] as RuleRewrite;
    rewrites[rewrite] = outcome.ok
      ? { ...original, rulesAdded: outcome.appended }
      : { ...original, status: "error", message: outcome.error };
  });
  return { text: spliced.text, rewrites };
}

/** The analysis's fix plans → the files' new texts and what became of each rule. Reads no source again. */
export function applyFixes(analysis: FixInput): FixResult {
  const byFile = new Map<string, RuleFix[]>();
  for (const fix of analysis.fixes) {
    const list = byFile.get(fix.file);
    if (list) list.push(fix);
    else byFile.set(fix.file, [fix]);
  }
  const changes: FileChange[] = [];
  const rewrites: RuleRewrite[] = [];
  for (const file of analysis.files) {
    const fixes = byFile.get(file.path);
    if (!fixes) continue;
    let result: { text: string; rewrites: RuleRewrite[] };
    try {
      result = applyFileFixes(file, fixes);
    } catch (error) {
      // One file's failure must not stop the others; nothing of this file is written.
      const message = `the fix of this file failed unexpectedly: ${(error as Error)?.message ?? String(error)}`;
      const failed: RuleRewrite = {
        file: file.path,
        line: 1,
        policy: null,
        status: "error",
        ruleIndex: -1,
        specPath: [],
        rulesAdded: 0,
        message,
        services: [],
      };
      result = { text: file.text, rewrites: [failed] };
    }
    rewrites.push(...result.rewrites);
    if (result.text !== file.text) {
      const bom = file.bom ? "\uFEFF" : "";
      changes.push({ path: file.path, before: bom + file.text, after: bom + result.text });
    }
  }
  return { changes, rewrites };
}

/** The default resolver: repository → charts → configuration → builtin → guessed → manual (resolve.ts). */
export const DEFAULT_RESOLVER: ServiceResolver = resolveServices;
