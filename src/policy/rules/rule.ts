// What a rule module exports. The engine runs rules through this interface and knows none by name.
import type { Node, Pair } from "yaml";
import type { Config } from "../config.js";
import type { ParsedFile } from "../read/manifests.js";
import type { Policy } from "../read/policy.js";
import type { RepoIndex } from "../index/repo-index.js";
import type { FixKind, Position, Severity } from "../types.js";
import type { CiliumVersions } from "../versions.js";

export interface RuleMeta {
  /** Stable kebab-case id; also the README anchor under "Rules". */
  readonly id: string;
  readonly defaultSeverity: Severity;
  /** One line, shown in the rules reference. */
  readonly description: string;
  /** Whether `fix` can rewrite what the rule reports. */
  readonly fixable: boolean;
}

export interface Report {
  /** Where the finding points: a node (its start), a pair (its key) or an explicit position. */
  readonly at: Node | Pair | Position;
  readonly message: string;
  /** Defaults to the rule's default severity; rules whose consequence depends on the Cilium version pass one. */
  readonly severity?: Severity;
  /** Defaults to "auto" for fixable rules and "none" otherwise. */
  readonly fix?: FixKind;
}

interface BaseContext {
  readonly file: ParsedFile;
  readonly index: RepoIndex;
  readonly config: Config;
  readonly versions: CiliumVersions;
  report(report: Report): void;
}

export type FileRuleContext = BaseContext;

export interface PolicyRuleContext extends BaseContext {
  readonly policy: Policy;
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
