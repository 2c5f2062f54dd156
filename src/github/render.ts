// The app's texts: the findings comment, the check run output and the follow-up PR body. The findings table is the
// shared Markdown report (src/report/markdown.ts); only the framing (marker, links, diffs) belongs here.
import { structuredPatch } from "diff";
import type { FileChange, FixResult, RuleRewrite } from "../policy/api.js";
import type { Finding } from "../policy/api.js";
import { renderMarkdown } from "../policy/api.js";
import { countBySeverity, SEVERITIES } from "../policy/api.js";
import type { ReportInput } from "../policy/api.js";
import { COMMENT_MARKER } from "./types.js";

/** GitHub rejects comment and PR bodies above 65,536 characters; stay clear of it. */
export const MAX_BODY_CHARS = 60_000;

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** The shared Markdown report (src/report/markdown.ts), within a length budget. */
export function findingsReport(
  report: ReportInput,
  maxLength: number,
  fileUrl?: (file: string, line: number) => string,
  docsBaseUrl: string | null = null,
): string {
  return renderMarkdown(report, { maxLength, docsBaseUrl, ...(fileUrl ? { fileUrl } : {}) });
}

function countBy(findings: readonly Finding[]): string {
  const counts = countBySeverity(findings);
  return SEVERITIES.filter((severity) => counts[severity] > 0)
    .map((severity) => `${counts[severity]} ${severity}${counts[severity] === 1 ? "" : "s"}`)
    .join(", ");
}

/** A patch `git apply` accepts (run from the repository root), for one file. */
export function gitPatch(change: FileChange): string {
  const patch = structuredPatch(`a/${change.path}`, `b/${change.path}`, change.before, change.after, "", "", {
    context: 3,
  });
  const lines = [`diff --git a/${change.path} b/${change.path}`, `--- a/${change.path}`, `+++ b/${change.path}`];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    lines.push(...hunk.lines);
  }
  return lines.join("\n") + "\n";
}

function fence(text: string, language: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${language}\n${text.endsWith("\n") ? text : text + "\n"}${ticks}`;
}

export interface CommentInput {
  readonly report: ReportInput;
  /** Links each finding to its line at the head commit. */
  readonly fileUrl?: (file: string, line: number) => string;
  /** Base of the rules reference links (DOCS_URL); null: rules are not linked. */
  readonly docsUrl?: string | null;
  readonly headSha: string;
  readonly configError?: string;
  readonly truncatedFileList?: boolean;
  readonly followUp?: { readonly number: number; readonly url: string } | null;
  /** Files the repository-wide fix changes, shown as collapsed diffs. */
  readonly changes?: readonly FileChange[];
  /** For forks: the rewrite of the PR's own files that suggestions could not carry, as a `git apply` patch. */
  readonly patch?: string;
  readonly suggestions?: number;
  readonly fixError?: string;
}

export function commentBody(input: CommentInput): string {
  const parts: string[] = [COMMENT_MARKER];
  if (input.configError) {
    parts.push(
      "### Cilium policy: invalid configuration",
      `The configuration file \`.github/cilium-policy-bot.yml\` could not be used, so nothing was analysed:\n\n> ${escapeCell(input.configError)}`,
    );
    return parts.join("\n\n") + "\n";
  }
  if (input.report.findings.length === 0) {
    parts.push(
      "### Cilium policy: all clear",
      `No findings remain in the policies this pull request changes (at ${input.headSha.slice(0, 7)}).`,
    );
    return parts.join("\n\n") + "\n";
  }
  parts.push(
    `### Cilium policy: ${countBy(input.report.findings)} in the files this pull request changes`,
    findingsReport(input.report, Math.floor(MAX_BODY_CHARS / 2), input.fileUrl, input.docsUrl ?? null).trimEnd(),
  );
  if (input.truncatedFileList) {
    parts.push(
      "> [!NOTE]\n> This pull request changes more files than GitHub lists (3,000): findings cover every policy of the repository.",
    );
  }
  if (input.followUp) {
    parts.push(
      `The follow-up pull request #${input.followUp.number} rewrites \`toServices\` + \`toPorts\` to \`toEndpoints\` in every affected file of the repository: ${input.followUp.url}`,
    );
  }
  if (input.fixError) parts.push(`The rewrite could not be computed: ${escapeCell(input.fixError)}`);
  if (input.suggestions) {
    parts.push(`${input.suggestions} suggested change(s) were left on the changed lines of this pull request.`);
  }
  if (input.patch) {
    parts.push(
      "The rewrite of this pull request's files as a patch (save it and run `git apply` at the repository root):",
      `<details><summary>Patch</summary>\n\n${fence(input.patch, "diff")}\n\n</details>`,
    );
  }
  const diffs: string[] = [];
  let budget = MAX_BODY_CHARS - parts.join("\n\n").length - 500;
  for (const change of input.changes ?? []) {
    const section = `<details><summary>Diff: <code>${change.path}</code></summary>\n\n${fence(gitPatch(change), "diff")}\n\n</details>`;
    if (section.length > budget) {
      diffs.push(`Further diffs are left out to keep this comment under GitHub's size limit.`);
      break;
    }
    budget -= section.length;
    diffs.push(section);
  }
  if (diffs.length > 0) parts.push(...diffs);
  return parts.join("\n\n") + "\n";
}

type ServiceRewrite = RuleRewrite["services"][number];

function targetText(service: ServiceRewrite): string {
  if (service.selector) {
    return Object.entries(service.selector)
      .map(([key, value]) => `\`${key}=${value}\``)
      .join(", ");
  }
  if (service.entities?.length) return `entities: ${service.entities.map((e) => `\`${e}\``).join(", ")}`;
  if (service.cidrs?.length) return `CIDRs: ${service.cidrs.map((c) => `\`${c}\``).join(", ")}`;
  return "–";
}

export function isGuessed(service: ServiceRewrite): boolean {
  return service.resolution === "guessed";
}

export function followUpTitle(pullNumber: number): string {
  return `Rewrite toServices+toPorts to toEndpoints (#${pullNumber})`;
}

export function followUpBody(pullNumber: number, result: FixResult): string {
  const parts: string[] = [
    COMMENT_MARKER,
    `Follow-up for #${pullNumber}.`,
    "Cilium 1.14 to 1.16 reject any egress rule that combines `toServices` with `toPorts`, which drops the whole " +
      "policy; up to 1.13 such a rule allowed egress to **any** destination on those ports. This pull request " +
      "rewrites each such rule to `toEndpoints`, selecting the Service's pods by their labels and namespace, and " +
      "keeps `toPorts` (with the Services' target ports). Nothing else in the files changes.",
  ];
  const rows: string[] = [
    "| File | Line | Policy | Service | Now selects | Resolved from |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  const guessed: string[] = [];
  const manual: string[] = [];
  for (const rewrite of result.rewrites) {
    if (rewrite.status !== "rewritten") {
      manual.push(`- \`${rewrite.file}\`:${rewrite.line}: ${escapeCell(rewrite.message ?? rewrite.status)}`);
      continue;
    }
    for (const service of rewrite.services) {
      rows.push(
        `| \`${escapeCell(rewrite.file)}\` | ${rewrite.line} | ${escapeCell(rewrite.policy ?? "–")} | \`${escapeCell(service.service)}\` | ${targetText(service)} | ${service.resolution} |`,
      );
      if (isGuessed(service)) {
        guessed.push(
          `- [ ] \`${rewrite.file}\`:${rewrite.line}: \`${service.service}\` → ${targetText(service)}${service.note ? ` (${escapeCell(service.note)})` : ""}`,
        );
      }
    }
  }
  parts.push(rows.join("\n"));
  if (guessed.length > 0) {
    parts.push(
      "**Guessed selectors: check that each selects the Service's pods before merging** (this pull request stays a draft until then):",
      guessed.join("\n"),
    );
  }
  if (manual.length > 0) parts.push("**Left for a human** (not rewritten):", manual.join("\n"));
  const body = parts.join("\n\n") + "\n";
  return body.length > MAX_BODY_CHARS ? body.slice(0, MAX_BODY_CHARS) + "\n\n…(truncated)\n" : body;
}

export function anyGuessed(result: FixResult): boolean {
  return result.rewrites.some(
    (rewrite) => rewrite.status === "rewritten" && rewrite.services.some((service) => isGuessed(service)),
  );
}
