// Rule metadata for reports: the registry's rules plus the engine's own internal-error, looked up in one place.
import { INTERNAL_ERROR, RULES } from "../rules/index.js";
import type { RuleMeta } from "../rules/rule.js";
import type { Finding, Severity } from "../types.js";

/** What every report renders: the analysis's counts and findings. */
export interface ReportInput {
  readonly filesScanned: number;
  readonly policies: number;
  /** Broken YAML files that are not Kubernetes manifests: counted in the summary, not judged. */
  readonly otherYamlWithProblems?: number;
  readonly findings: readonly Finding[];
  /** The Cilium versions the findings were judged for, and where that range came from. */
  readonly cilium?: { readonly range: string; readonly source: string };
}

/** Options shared by the reports that link to rule documentation. */
export interface RuleDocsOptions {
  /**
   * Where the README lives, e.g. "https://github.com/owner/repo/blob/main/README.md"; each rule is linked at
   * `<docsBaseUrl>#<rule-id>`. Defaults to the relative "README.md"; null: rules are not linked (a relative link
   * would be broken where the report is shown, e.g. in a pull request comment).
   */
  readonly docsBaseUrl?: string | null;
  /** Metadata of rules outside the registry (rules passed to `analyse` through its `rules` option). */
  readonly rules?: readonly RuleMeta[];
}

export const DEFAULT_DOCS_BASE_URL = "README.md";

/** The metadata of a rule id: from `extra`, the registry, the engine, or a neutral stand-in for unknown ids. */
export function ruleMeta(id: string, extra: readonly RuleMeta[] = []): RuleMeta {
  const known =
    extra.find((meta) => meta.id === id) ??
    RULES.find((rule) => rule.meta.id === id)?.meta ??
    (id === INTERNAL_ERROR.id ? INTERNAL_ERROR : undefined);
  return known ?? { id, defaultSeverity: "warning", description: id, fixable: false };
}

/**
 * The rewrite that the fixable rules' reports carry, in words, said once for every shell: its name (the follow-up pull
 * request's title and commit, the suggestions on a fork's pull request, the CLI's `fix`) and what it does to a rule.
 */
// Not "toServices+toPorts": a selector-backed toServices without toPorts is rewritten the same way (ranges below 1.17).
export const REWRITE = {
  title: "Rewrite toServices egress rules to toEndpoints",
  effect:
    "Each rule is rewritten to `toEndpoints`, selecting the Service's pods by their labels and namespace, and keeps " +
    "`toPorts`, where the rule has them, on the Services' target ports. Nothing else in the files changes.",
} as const;

/** The metadata of the rules whose reports carry the rewrite: what it fixes, each rule's description saying why. */
export function rewrittenRules(): readonly RuleMeta[] {
  return RULES.filter((rule) => rule.meta.fixable).map((rule) => rule.meta);
}

export function ruleDocsUrl(id: string, docsBaseUrl: string = DEFAULT_DOCS_BASE_URL): string {
  return `${docsBaseUrl}#${id}`;
}

export const SEVERITIES: readonly Severity[] = ["error", "warning", "info"];

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const finding of findings) counts[finding.severity]++;
  return counts;
}

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** "Cilium versions judged: 1.17.2 (the repository installs Cilium 1.17.2 (HelmRelease at …))", when known. */
export function ciliumLine(input: ReportInput): string | undefined {
  return input.cilium ? `Cilium versions judged: ${input.cilium.range} (${input.cilium.source}).` : undefined;
}

/** "2 errors, 1 warning and 3 info findings in 12 files (4 policies)", or "No findings in …". */
export function summaryLine(input: ReportInput): string {
  const other = input.otherYamlWithProblems ?? 0;
  const scope =
    `${plural(input.filesScanned, "file")} (${plural(input.policies, "policy", "policies")}` +
    (other > 0
      ? `; ${plural(other, "other YAML file")} with YAML problems not judged: not Kubernetes manifests)`
      : ")");
  if (input.findings.length === 0) return `No findings in ${scope}.`;
  const counts = countBySeverity(input.findings);
  const parts = [
    counts.error > 0 ? plural(counts.error, "error") : "",
    counts.warning > 0 ? plural(counts.warning, "warning") : "",
    counts.info > 0 ? `${counts.info} info` : "",
  ].filter(Boolean);
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
  return `${list} in ${scope}.`;
}
