// What a rule module exports. The engine runs rules through this interface and knows none by name.
import type { Node, Pair } from "yaml";
import type { ParsedFile } from "../read/manifests.js";
import type { Policy, PolicyRule as RuleOfPolicy } from "../read/policy.js";
import type { RuleFix, RuleRewriteView } from "../plan/fix.js";
import type { IndexLookups } from "../index/lookups.js";
import type { RepoIndex } from "../index/repo-index.js";
import type { Config, FixKind, Position, Severity } from "../types.js";
import type { CiliumVersions } from "../versions.js";

export interface RuleMeta {
  /** Stable kebab-case id; also the README anchor under "Rules". */
  readonly id: string;
  readonly defaultSeverity: Severity;
  /** One line: the rule's description in SARIF output (`--format sarif`). */
  readonly description: string;
  /** Whether the rule's reports carry fix plans (`fix` applies them). */
  readonly fixable: boolean;
}

export interface Report {
  /** Where the finding points: a node (its start), a pair (its key) or an explicit position. */
  readonly at: Node | Pair | Position;
  readonly message: string;
  /** Defaults to the rule's default severity; rules whose consequence depends on the Cilium version pass one. */
  readonly severity?: Severity;
  /**
   * The fix: a plan from `context.rewriteOf` (the finding's kind derives from it: auto, guessed or manual), or
   * "manual" for a finding only a person can fix. Defaults to "none".
   */
  readonly fix?: RuleFix | Extract<FixKind, "manual" | "none">;
}

interface BaseContext {
  readonly file: ParsedFile;
  readonly index: RepoIndex;
  /** Lookups over `index` (Services by name, workloads by label, …), built once per analysis. */
  readonly lookups: IndexLookups;
  readonly config: Config;
  readonly versions: CiliumVersions;
  report(report: Report): void;
}

export type FileRuleContext = BaseContext;

export interface PolicyRuleContext extends BaseContext {
  readonly policy: Policy;
  /**
   * One rule of the policy as the rewrite sees it: its toServices entries resolved and, for egress rules the rewrite
   * acts on, the fix plan to report. Computed once per rule and analysis, whichever rules ask.
   */
  rewriteOf(rule: RuleOfPolicy): RuleRewriteView;
}

/** A rule that looks at a whole file (parse problems, templates, skipped files). */
export interface FileRule {
  readonly meta: RuleMeta;
  readonly scope: "file";
  check(context: FileRuleContext): void;
}

/** A rule that looks at one Cilium policy. */
export interface PolicyRule {
  readonly meta: RuleMeta;
  readonly scope: "policy";
  check(context: PolicyRuleContext): void;
}

export type Rule = FileRule | PolicyRule;
