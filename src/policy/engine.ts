// The analysis: source files in, findings and the fix plans they carry out, from one parse, one index and one
// resolution per toServices entry. Pure: the shells hand it files (and a chart renderer) and print what it returns.
import { isPair, isNode, LineCounter } from "yaml";
import { Minimatch } from "minimatch";
import {
  holdsKubernetesManifests,
  isManifestPath,
  isPolicyManifest,
  parseManifestFileIn,
  positionOf,
} from "./read/manifests.js";
import type { Manifest, ParsedFile } from "./read/manifests.js";
import { PolicyReader } from "./read/policy.js";
import type { Policy, PolicyRule as RuleOfPolicy, RenderedPolicy } from "./read/policy.js";
import type { ChartRelease, ChartRender, ChartRenderer } from "./render/chart-port.js";
import { CHART_LAYER } from "./index/chart-index.js";
import { IndexLookups } from "./index/lookups.js";
import { buildRepoIndex } from "./index/repo-index.js";
import type { RepoIndex } from "./index/repo-index.js";
import { DEFAULT_RESOLVER, fixKindOf, planRuleFix } from "./plan/fix.js";
import type { PlanContext, RuleFix, RuleRewriteView, ServiceResolver } from "./plan/fix.js";
import { INTERNAL_ERROR, RULES } from "./rules/index.js";
import type { Report, Rule, RuleMeta } from "./rules/rule.js";
import type { Config, Finding, Position, SourceFile } from "./types.js";
import { CILIUM, CiliumVersions } from "./versions.js";
import { ciliumRangeOf } from "./index/cilium-version.js";
import type { CiliumRange } from "./index/cilium-version.js";

export interface AnalyseOptions {
  readonly config: Config;
  /**
   * Report findings only for these paths (a pull request's changed files). Every file is still indexed, and the
   * fixable rules still run on every included file: their plans are the repository's fix.
   */
  readonly only?: ReadonlySet<string>;
  readonly rules?: readonly Rule[];
  /** Renders the Helm charts the repository installs (a shell's `helm`); without it, no chart is rendered. */
  readonly charts?: ChartRenderer;
  /** Resolution of toServices entries (default: repository → charts → config → builtin → guessed → manual). */
  readonly resolve?: ServiceResolver;
}

export interface Analysis {
  /** Manifest files reported on (selected by `only` and the configured paths), skipped ones included. */
  readonly filesScanned: number;
  /** Policy specs in the files reported on. */
  readonly policies: number;
  /**
   * Files reported on whose YAML is broken but which are not Kubernetes manifests (Helm values, CI configurations):
   * not judged, only counted.
   */
  readonly otherYamlWithProblems: number;
  /** In code-unit order of path, then line, column and rule id. */
  readonly findings: readonly Finding[];
  /** The fix plans the reports carry, in path and line order; none from a rule turned off. */
  readonly fixes: readonly RuleFix[];
  /** Every manifest file read, in code-unit order of path, including those only indexed. */
  readonly files: readonly ParsedFile[];
  readonly index: RepoIndex;
  /** The Cilium versions the rules judged for, and where the range came from (configuration, repository, default). */
  readonly cilium: CiliumRange;
}

/**
 * A layer of the index that a shell renders: it names what to render from the files and the index so far (the
 * chart releases the repository installs) and adds the rendered output (their Services and workloads) to the index.
 */
interface IndexLayer {
  releases(files: readonly ParsedFile[], index: RepoIndex): readonly ChartRelease[];
  extend(index: RepoIndex, renders: readonly ChartRender[]): RepoIndex;
}

/** The layers a chart renderer feeds, in order. */
const CHART_LAYERS: readonly IndexLayer[] = [CHART_LAYER];

/** The configuration's include/exclude globs as a predicate on paths: compile once, match every path. */
function pathFilterOf(config: Config): (path: string) => boolean {
  const compile = (glob: string) => new Minimatch(glob, { dot: true });
  // "**" (the default) selects every relative path: not matched once per file.
  const everything = config.paths.include.includes("**");
  const include = config.paths.include.map(compile);
  const exclude = config.paths.exclude.map(compile);
  return (path) =>
    (everything || include.some((glob) => glob.match(path))) && !exclude.some((glob) => glob.match(path));
}

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareFindings(a: Finding, b: Finding): number {
  return compareStrings(a.file, b.file) || a.line - b.line || a.column - b.column || compareStrings(a.ruleId, b.ruleId);
}

function toPosition(file: ParsedFile, at: Report["at"]): Position {
  if (isPair(at)) return positionOf(file, isNode(at.key) ? at.key : isNode(at.value) ? at.value : null);
  if (isNode(at)) return positionOf(file, at);
  return at;
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] || "unknown error";
}

/** Stands in for a file whose parsing threw: no documents, so nothing else looks at it. */
function unreadableFile(source: SourceFile): ParsedFile {
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  return {
    path: source.path,
    size: source.size,
    text: "",
    bom: false,
    lineCounter,
    skipped: undefined,
    templated: false,
    documents: [],
    problems: [],
    manifests: [],
  };
}

/** Whether a path is in the templates/ directory of a chart (a directory with a Chart.yaml) of the sources. */
function chartTemplateTest(sources: readonly SourceFile[]): (path: string) => boolean {
  const templateDirs = sources
    .filter((source) => source.path === "Chart.yaml" || source.path.endsWith("/Chart.yaml"))
    .map((source) => `${source.path.slice(0, -"Chart.yaml".length)}templates/`);
  return (path) => templateDirs.some((dir) => path.startsWith(dir));
}

/** Parses the sources that are manifests. A file whose parsing throws is recorded in `failures`. */
export function parseSources(sources: readonly SourceFile[], failures?: Map<string, unknown>): ParsedFile[] {
  const isChartTemplate = chartTemplateTest(sources);
  return sources
    .filter((source) => isManifestPath(source.path))
    .map((source) => {
      try {
        return parseManifestFileIn(source, { chartTemplate: isChartTemplate(source.path) });
      } catch (error) {
        failures?.set(source.path, error);
        return unreadableFile(source);
      }
    });
}

/** The index as written, without any cross-file knowledge: what the scan falls back to when indexing fails. */
const BARE_INDEX: RepoIndex = {
  services: [],
  workloads: [],
  endpoints: [],
  releases: [],
  rendered: (manifest) => ({ name: manifest.name, namespace: manifest.namespace }),
};

/**
 * Builds the repository index. When that throws, the files that make it throw on their own are left out (and
 * recorded in `failures`); when it still throws, the scan goes on with the bare index and `degraded` says why.
 */
function indexSafely(
  files: readonly ParsedFile[],
  failures: Map<string, unknown>,
): { index: RepoIndex; degraded?: unknown } {
  try {
    return { index: buildRepoIndex(files) };
  } catch {
    const healthy = files.filter((file) => {
      try {
        buildRepoIndex([file]);
        return true;
      } catch (error) {
        failures.set(file.path, error);
        return false;
      }
    });
    try {
      return { index: buildRepoIndex(healthy) };
    } catch (error) {
      return { index: BARE_INDEX, degraded: error };
    }
  }
}

/** A manifest's rendered name and namespace, and the Flux substitution of each of its renderings. */
function renderedPolicy(index: RepoIndex, manifest: Manifest): RenderedPolicy {
  const renderings = index.renderings?.(manifest);
  return { ...index.rendered(manifest), substitutions: renderings?.map((rendering) => rendering.substitution) ?? [] };
}

function internalError(file: string, where: Position, policy: string | null, message: string): Finding {
  return {
    ruleId: INTERNAL_ERROR.id,
    severity: INTERNAL_ERROR.defaultSeverity,
    file,
    line: where.line,
    column: where.column,
    policy,
    message: `internal error ${message}; the rest of the repository was still scanned`,
    fix: "none",
  };
}

/** Adds each layer's rendered output to the index: the renderer runs between indexing and resolution. */
async function renderLayers(
  files: readonly ParsedFile[],
  index: RepoIndex,
  renderer: ChartRenderer,
  layers: readonly IndexLayer[],
): Promise<RepoIndex> {
  let extended = index;
  for (const layer of layers) {
    const releases = layer.releases(files, extended);
    if (releases.length > 0) extended = layer.extend(extended, await renderer.render(releases));
  }
  return extended;
}

/**
 * The analysis of a repository: one parse, one index (chart layers included when a renderer is given), then the rules
 * over every file reported on. A fixable rule's report carries the fix plan of the rule it reports; `applyFixes`
 * turns the analysis's plans into file changes. The sources may come in any order: the engine sorts them.
 */
export async function analyse(sources: readonly SourceFile[], options: AnalyseOptions): Promise<Analysis> {
  const { config } = options;
  // A rule turned off is not run: it reports nothing and fixes nothing.
  const rules = (options.rules ?? RULES).filter((rule) => config.rules[rule.meta.id] !== "off");
  const fixableRules = rules.filter((rule) => rule.meta.fixable);
  const failures = new Map<string, unknown>();
  const ordered = [...sources].sort((a, b) => compareStrings(a.path, b.path));
  // Excluded paths are not reported on, but their Services and workloads still explain other files' policies.
  const files = parseSources(ordered, failures);
  const indexed = indexSafely(files, failures);
  const { degraded } = indexed;
  const index = options.charts ? await renderLayers(files, indexed.index, options.charts, CHART_LAYERS) : indexed.index;
  // The configuration's range, else what the repository installs (the rendered version where rendered), else default.
  const cilium = ciliumRangeOf(config, index.charts);
  const versions = new CiliumVersions(cilium.range);
  const included = pathFilterOf(config);
  // The per-repository lookups of resolution and rules: built once here, with the index they describe.
  const lookups = new IndexLookups(index);
  const planning: Omit<PlanContext, "file"> = {
    lookups,
    config,
    plan: { translateSelectorServices: versions.includesBelow(CILIUM.translatesSelectorServices) },
    resolve: options.resolve ?? DEFAULT_RESOLVER,
  };
  const findings: Finding[] = [];
  const fixes = new Set<RuleFix>();
  let filesScanned = 0;
  let policyCount = 0;
  let otherYamlWithProblems = 0;

  for (const file of files) {
    if (!included(file.path)) continue;
    // Outside `only`, the fixable rules still run, for the fix plans their reports carry; nothing is reported.
    const reporting = !options.only || options.only.has(file.path);
    const active = reporting ? rules : fixableRules;
    if (reporting) filesScanned++;
    else if (active.length === 0) continue;
    const emit = (finding: Finding) => {
      if (reporting) findings.push(finding);
    };
    const top: Position = { line: 1, column: 1 };
    if (failures.has(file.path)) {
      const reason = `while reading this file: ${describeError(failures.get(file.path))}`;
      emit(internalError(file.path, top, null, reason));
      continue;
    }
    if (degraded !== undefined && file.manifests.length > 0) {
      const reason = `while indexing the repository: ${describeError(degraded)}; checked without cross-file information`;
      emit(internalError(file.path, top, null, reason));
    }
    if (reporting && file.problems.length > 0 && !holdsKubernetesManifests(file, index.kustomizeFiles)) {
      otherYamlWithProblems++;
    }
    // Each rule runs on its own: one rule failing on one file or policy costs only that rule's findings there.
    let failedRules: Set<string> | undefined;
    const failed = (rule: Rule | null, policy: Policy | null, error: unknown, at?: Position) => {
      const key = rule?.meta.id ?? "";
      if (failedRules?.has(key)) return;
      (failedRules ??= new Set()).add(key);
      const { line, column } = at ?? policy?.manifest.location ?? top;
      const where = { line, column };
      const what = rule ? `in rule ${rule.meta.id}` : "while reading the policies of this file";
      emit(internalError(file.path, where, policy?.id ?? null, `${what}: ${describeError(error)}`));
    };
    // A node reached through several aliases is judged at each use, but its text is one problem: reported once.
    let reportedHere: Set<string> | undefined;
    const reporter = (meta: RuleMeta, policy: Policy | null) => (report: Report) => {
      // Never "off" here: rules turned off were left out of `rules` above.
      const override = config.rules[meta.id] as Exclude<Config["rules"][string], "off">;
      const fix = typeof report.fix === "object" ? report.fix : undefined;
      if (fix) fixes.add(fix);
      if (!reporting) return;
      const position = toPosition(file, report.at);
      const key = `${meta.id}\0${position.line}\0${position.column}\0${policy?.id ?? ""}\0${report.message}`;
      if (reportedHere?.has(key)) return;
      (reportedHere ??= new Set()).add(key);
      findings.push({
        ruleId: meta.id,
        severity: override ?? report.severity ?? meta.defaultSeverity,
        file: file.path,
        line: position.line,
        column: position.column,
        policy: policy?.id ?? null,
        message: report.message,
        fix: fix ? fixKindOf(fix) : typeof report.fix === "string" ? report.fix : "none",
      });
    };
    // Contexts written out, not spread from a common base: this runs for every rule on every file and policy.
    for (const rule of active) {
      if (rule.scope !== "file") continue;
      try {
        rule.check({ file, index, lookups, config, versions, report: reporter(rule.meta, null) });
      } catch (error) {
        failed(rule, null, error);
      }
    }
    const policies: Policy[] = [];
    let reader: PolicyReader | undefined;
    for (const manifest of file.manifests) {
      if (!isPolicyManifest(manifest)) continue;
      try {
        const policy = (reader ??= new PolicyReader(file)).policyOf(manifest, renderedPolicy(index, manifest));
        if (policy) policies.push(policy);
      } catch (error) {
        failed(null, null, error, manifest.location);
      }
    }
    if (policies.length > 0) {
      const views = new Map<RuleOfPolicy, RuleRewriteView>();
      const context = { ...planning, file };
      for (const policy of policies) {
        if (reporting) policyCount += policy.specs.length;
        // Each policy's rules are read once (policy.rules): one plan per rule, whichever rules ask for it.
        const rewriteOf = (rule: RuleOfPolicy): RuleRewriteView => {
          let view = views.get(rule);
          if (!view) views.set(rule, (view = planRuleFix(policy, rule, context)));
          return view;
        };
        for (const rule of active) {
          if (rule.scope !== "policy") continue;
          try {
            rule.check({
              file,
              index,
              lookups,
              config,
              versions,
              policy,
              rewriteOf,
              report: reporter(rule.meta, policy),
            });
          } catch (error) {
            failed(rule, policy, error);
          }
        }
      }
    }
    file.release?.();
  }
  findings.sort(compareFindings);
  const planned = [...fixes].sort((a, b) => compareStrings(a.file, b.file) || a.line - b.line);
  return { filesScanned, policies: policyCount, otherYamlWithProblems, findings, fixes: planned, files, index, cilium };
}
