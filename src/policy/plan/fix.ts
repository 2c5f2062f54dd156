// The repository-wide fix: source files in, rewritten texts and what was rewritten out. Pure, like the scan.
import { isScalar } from "yaml";
import type { Config } from "../config.js";
import { parseSources, pathFilterOf, policiesOf } from "../engine.js";
import { positionOf } from "../read/manifests.js";
import type { ParsedFile } from "../read/manifests.js";
import { ruleValue, rulesOf, sharedTextReason } from "../read/policy.js";
import type { PolicyRule } from "../read/policy.js";
import { buildRepoIndex } from "../index/repo-index.js";
import type { RepoIndex } from "../index/repo-index.js";
import { resolveServices } from "../resolve/resolve.js";
import type { Resolution, ResolveContext, ResolvedService } from "../resolve/resolve.js";
import { needsRewrite, planRule } from "./rewrite.js";
import { NAMESPACE_KEY } from "../selectors.js";
import type { EntryResolution, PlanOptions } from "./rewrite.js";
import { spliceRules } from "../splice/splice.js";
import type { ItemOutcome, SpliceItem } from "../splice/splice.js";
import type { Labels, SourceFile } from "../types.js";
import { CILIUM, CiliumVersions } from "../versions.js";

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

/** One toServices entry → the Services it names, each with its answer and where the answer came from. */
export type ServiceResolver = (entry: unknown, context: ResolveContext) => readonly ResolvedService[];

export interface FixOptions {
  readonly config: Config;
  /** Resolution of toServices entries (default: resolve.ts, repository → config → builtin → guessed → manual). */
  readonly resolve?: ServiceResolver;
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

/** `unresolved: skip` means no guesses at all: a guess becomes a rule left for a human. */
function applyUnresolvedPolicy(services: readonly ResolvedService[], config: Config): ResolvedService[] {
  if (config.unresolved !== "skip") return [...services];
  return services.map((s) =>
    s.resolution === "guessed" ? { ...s, resolution: "manual", note: "no certain answer (unresolved: skip)" } : s,
  );
}

function toServicesLine(file: ParsedFile, rule: PolicyRule): number {
  const pair = rule.node.items.find((p) => isScalar(p.key) && p.key.value === "toServices");
  const key = pair?.key;
  return positionOf(file, isScalar(key) ? key : rule.node).line;
}

function fixFile(file: ParsedFile, index: RepoIndex, options: FixOptions, plan: PlanOptions) {
  const resolve = options.resolve ?? resolveServices;
  const rewrites: RuleRewrite[] = [];
  const pending: Array<{ rewrite: number; item: SpliceItem }> = [];
  for (const policy of policiesOf(file, index)) {
    for (const rule of rulesOf(policy, ["egress"])) {
      const value = ruleValue(rule);
      if (!needsRewrite(value, plan)) continue;
      const base = {
        file: file.path,
        line: toServicesLine(file, rule),
        policy: policy.id,
        ruleIndex: rule.index,
        specPath: rule.spec.path,
      };
      const shared = sharedTextReason(policy, rule);
      let planned: ReturnType<typeof planRule>;
      try {
        const entries: EntryResolution[] = (value as { toServices: unknown[] }).toServices.map((entry) => ({
          entry,
          services: applyUnresolvedPolicy(resolve(entry, { policy, index, config: options.config }), options.config),
        }));
        planned = planRule(value, entries, plan);
      } catch (error) {
        const message = `the rewrite could not be planned: ${(error as Error).message}`;
        rewrites.push({ ...base, status: "error", rulesAdded: 0, message, services: [] });
        continue;
      }
      if (planned.kind === "unchanged") continue;
      if (planned.kind === "manual" || shared !== undefined) {
        rewrites.push({
          ...base,
          status: "manual",
          rulesAdded: 0,
          message: planned.kind === "manual" ? planned.reason : shared,
          services: planned.services.map((s) => serviceRewrite(s, true)),
        });
        continue;
      }
      const services = planned.services.map((s) => serviceRewrite(s, false));
      const at = rewrites.push({ ...base, status: "rewritten", rulesAdded: 0, services }) - 1;
      pending.push({
        rewrite: at,
        item: {
          at: { documentIndex: policy.manifest.documentIndex, path: [...policy.manifest.path, ...rule.path] },
          plan: planned,
        },
      });
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
  const text = spliced.text;
  return { text, rewrites };
}

export function fix(sources: readonly SourceFile[], options: FixOptions): FixResult {
  const files = parseSources(sources);
  const index = buildRepoIndex(files);
  const versions = new CiliumVersions(options.config.ciliumVersion);
  const plan: PlanOptions = { translateSelectorServices: versions.includesBelow(CILIUM.translatesSelectorServices) };
  const changes: FileChange[] = [];
  const rewrites: RuleRewrite[] = [];
  const included = pathFilterOf(options.config);
  for (const file of files) {
    if (file.skipped || file.templated || !included(file.path)) continue;
    let result: { text: string; rewrites: RuleRewrite[] };
    try {
      result = fixFile(file, index, options, plan);
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
    file.release?.();
    rewrites.push(...result.rewrites);
    if (result.text !== file.text) {
      const bom = file.bom ? "\uFEFF" : "";
      changes.push({ path: file.path, before: bom + file.text, after: bom + result.text });
    }
  }
  return { changes, rewrites };
}
