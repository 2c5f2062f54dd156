// The scan: source files in, findings out. Pure: the shells hand it files and print what it returns.
import { isPair, isNode } from "yaml";
import { minimatch } from "minimatch";
import type { Config } from "./config.js";
import { isManifestPath, parseManifestFile, positionOf } from "./manifests.js";
import type { ParsedFile } from "./manifests.js";
import { policyFrom } from "./policy.js";
import type { Policy } from "./policy.js";
import { buildRepoIndex } from "./repo-index.js";
import type { RepoIndex } from "./repo-index.js";
import { RULES } from "./rules/index.js";
import type { Report, Rule, RuleMeta } from "./rules/rule.js";
import type { Finding, Position, SourceFile } from "./types.js";
import { CiliumVersions } from "./versions.js";

/** Not a rule: the engine's own report that something went wrong inside it for one file. */
export const INTERNAL_ERROR: RuleMeta = {
  id: "internal-error",
  defaultSeverity: "error",
  description: "The analysis of this file failed unexpectedly; the rest of the repository was still scanned.",
  fixable: false,
};

export interface ScanOptions {
  readonly config: Config;
  /** Report findings only for these paths (a pull request's changed files); every file is still indexed. */
  readonly only?: ReadonlySet<string>;
  readonly rules?: readonly Rule[];
}

export interface ScanResult {
  /** Every manifest-like file read, skipped ones included. */
  readonly filesScanned: number;
  /** Policy specs in the files reported on. */
  readonly policies: number;
  readonly findings: readonly Finding[];
  readonly files: readonly ParsedFile[];
  readonly index: RepoIndex;
}

/** Whether the configuration's include/exclude globs select a path. */
export function isIncluded(config: Config, path: string): boolean {
  const options = { dot: true };
  return (
    config.paths.include.some((glob) => minimatch(path, glob, options)) &&
    !config.paths.exclude.some((glob) => minimatch(path, glob, options))
  );
}

export function compareFindings(a: Finding, b: Finding): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId);
}

function toPosition(file: ParsedFile, at: Report["at"]): Position {
  if (isPair(at)) return positionOf(file, isNode(at.key) ? at.key : isNode(at.value) ? at.value : null);
  if (isNode(at)) return positionOf(file, at);
  return at;
}

/** Parses the sources that are manifests. */
export function parseSources(sources: readonly SourceFile[]): ParsedFile[] {
  return sources.filter((source) => isManifestPath(source.path)).map(parseManifestFile);
}

export function policiesOf(file: ParsedFile, index: RepoIndex): Policy[] {
  const policies: Policy[] = [];
  for (const manifest of file.manifests) {
    const policy = policyFrom(manifest, index.rendered(manifest));
    if (policy) policies.push(policy);
  }
  return policies;
}

export function scan(sources: readonly SourceFile[], options: ScanOptions): ScanResult {
  const { config } = options;
  const rules = options.rules ?? RULES;
  const versions = new CiliumVersions(config.ciliumVersion);
  // Excluded paths are not reported on, but their Services and workloads still explain other files' policies.
  const files = parseSources(sources);
  const index = buildRepoIndex(files);
  const findings: Finding[] = [];
  let policyCount = 0;

  for (const file of files) {
    if (options.only && !options.only.has(file.path)) continue;
    if (!isIncluded(config, file.path)) continue;
    const fileFindings: Finding[] = [];
    const reporter = (meta: RuleMeta, policy: Policy | null) => (report: Report) => {
      const override = config.rules[meta.id];
      if (override === "off") return;
      const position = toPosition(file, report.at);
      fileFindings.push({
        ruleId: meta.id,
        severity: override ?? report.severity ?? meta.defaultSeverity,
        file: file.path,
        line: position.line,
        column: position.column,
        policy: policy?.id ?? null,
        message: report.message,
        fix: report.fix ?? (meta.fixable ? "auto" : "none"),
      });
    };
    try {
      const base = { file, index, config, versions };
      for (const rule of rules) {
        if (rule.scope === "file") rule.check({ ...base, report: reporter(rule.meta, null) });
      }
      const policies = policiesOf(file, index);
      for (const policy of policies) {
        policyCount += policy.specs.length;
        for (const rule of rules) {
          if (rule.scope === "policy") rule.check({ ...base, policy, report: reporter(rule.meta, policy) });
        }
      }
      findings.push(...fileFindings);
    } catch (error) {
      // One file's failure must not hide the rest of the repository: report it and go on.
      findings.push({
        ruleId: INTERNAL_ERROR.id,
        severity: INTERNAL_ERROR.defaultSeverity,
        file: file.path,
        line: 1,
        column: 1,
        policy: null,
        message: `internal error while analysing this file: ${(error as Error)?.message ?? String(error)}`,
        fix: "none",
      });
    }
  }
  findings.sort(compareFindings);
  return { filesScanned: files.length, policies: policyCount, findings, files, index };
}
