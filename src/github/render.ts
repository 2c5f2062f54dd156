// The app's texts: the findings comment, the check run output and the follow-up PR body. The findings table is the
// shared Markdown report (src/policy/report/markdown.ts); only the framing (marker, links, diffs) belongs here.
// Every untrusted string goes through src/policy/report/inert.ts, and every body stays under GitHub's size limits,
// saying how much it left out.
import { structuredPatch } from "diff";
import type { FileChange, Finding, FixResult, ReportInput, RuleRewrite } from "../policy/api.js";
import {
  countBySeverity,
  fencedBlock,
  htmlText,
  inlineCode,
  inlineText,
  renderMarkdown,
  resolvedFrom,
  REWRITE,
  rewrittenRules,
  SEVERITIES,
} from "../policy/api.js";
import { COMMENT_MARKER } from "./types.js";

/** GitHub rejects comment and PR bodies above 65,536 characters (check-run summaries: 65,535); stay clear of it. */
export const MAX_BODY_CHARS = 60_000;
/** An error message quoted in a body: enough to act on, never a body's worth. */
const MAX_ERROR_CHARS = 2_000;

export function errorText(message: string): string {
  return inlineText(message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS - 1)}…` : message);
}

/** As many of `items` (joined by "\n") as fit in `budget` characters, then `more(n)` for the n left out. */
function withinBudget(items: readonly string[], budget: number, more: (left: number) => string): string[] {
  const shown: string[] = [];
  let used = 0;
  for (const [i, item] of items.entries()) {
    const reserve = i === items.length - 1 ? 0 : more(items.length - i).length + 1;
    if (used + item.length + 1 + reserve > budget) {
      shown.push(more(items.length - i));
      return shown;
    }
    shown.push(item);
    used += item.length + 1;
  }
  return shown;
}

/** The note for manifests a job did not read (over the per-file size or the memory budget); "" when there are none. */
export function unreadNote(unread: number): string {
  if (unread === 0) return "";
  return `> [!WARNING]\n> The repository is larger than this app reads: ${unread} ${unread === 1 ? "file" : "files"} not checked (any Cilium policy in ${unread === 1 ? "it" : "them"} is unchecked; run \`cilium-policy-bot scan\` on a checkout to check everything).`;
}

/** The check-run summary for a configuration the app could not use. */
export function configErrorSummary(error: string): string {
  return `\`.github/cilium-policy-bot.yml\` could not be used, so nothing was analysed:\n\n> ${errorText(error)}`;
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

const C_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\v": "\\v",
  "\f": "\\f",
  "\r": "\\r",
  '"': '\\"',
  "\\": "\\\\",
};

/**
 * A path in a patch header as git writes it (`quote_c_style`): as is when plain, else in double quotes with C
 * escapes and every byte outside printable ASCII in octal. A name holding a newline cannot add patch headers.
 */
export function gitQuotedPath(path: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what git quotes
  if (!/[\x00-\x1f"\\\x7f-\uffff]/.test(path)) return path;
  let quoted = "";
  for (const byte of Buffer.from(path, "utf8")) {
    const c = String.fromCharCode(byte);
    if (C_ESCAPES[c]) quoted += C_ESCAPES[c];
    else if (byte < 0x20 || byte >= 0x7f) quoted += `\\${byte.toString(8).padStart(3, "0")}`;
    else quoted += c;
  }
  return `"${quoted}"`;
}

/** A patch `git apply` accepts (run from the repository root), for one file. */
export function gitPatch(change: FileChange): string {
  const patch = structuredPatch(`a/${change.path}`, `b/${change.path}`, change.before, change.after, "", "", {
    context: 3,
  });
  const [a, b] = [gitQuotedPath(`a/${change.path}`), gitQuotedPath(`b/${change.path}`)];
  const lines = [`diff --git ${a} ${b}`, `--- ${a}`, `+++ ${b}`];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    lines.push(...hunk.lines);
  }
  return lines.join("\n") + "\n";
}

/** Splits a multi-file patch into its files: a line starting "diff --git " is always a header, never hunk content. */
function patchFiles(patch: string): string[] {
  return patch.split(/(?=^diff --git )/m).filter((part) => part !== "");
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
  /** Manifests of the repository the job did not read (see unreadNote). */
  readonly unreadFiles?: number;
  readonly followUp?: { readonly number: number; readonly url: string } | null;
  /** Files the repository-wide fix changes, shown as collapsed diffs. */
  readonly changes?: readonly FileChange[];
  /** For forks: the rewrite of the PR's own files that suggestions could not carry, as a `git apply` patch. */
  readonly patch?: string;
  readonly suggestions?: number;
  readonly fixError?: string;
  /** What became of the follow-up when it is not simply open (see followUpNote). */
  readonly followUpNote?: string | null;
}

export function commentBody(input: CommentInput): string {
  const parts: string[] = [COMMENT_MARKER];
  if (input.configError) {
    parts.push(
      "### Cilium policy: invalid configuration",
      `The configuration file \`.github/cilium-policy-bot.yml\` could not be used, so nothing was analysed:\n\n> ${errorText(input.configError)}`,
    );
    return parts.join("\n\n") + "\n";
  }
  if (input.report.findings.length === 0) {
    parts.push(
      input.unreadFiles ? "### Cilium policy: no findings in what was read" : "### Cilium policy: all clear",
      `No findings remain in the policies this pull request changes (at ${input.headSha.slice(0, 7)}).`,
    );
    if (input.unreadFiles) parts.push(unreadNote(input.unreadFiles));
    if (input.followUpNote) parts.push(input.followUpNote); // e.g. the old follow-up could not be closed
    return parts.join("\n\n") + "\n";
  }
  parts.push(
    `### Cilium policy: ${countBy(input.report.findings)} in the files this pull request changes`,
    findingsReport(input.report, Math.floor(MAX_BODY_CHARS / 2), input.fileUrl, input.docsUrl ?? null).trimEnd(),
  );
  if (input.unreadFiles) parts.push(unreadNote(input.unreadFiles));
  if (input.truncatedFileList) {
    parts.push(
      "> [!NOTE]\n> This pull request changes more files than GitHub lists (3,000): findings cover every policy of the repository.",
    );
  }
  if (input.followUp) {
    parts.push(
      `The follow-up pull request #${input.followUp.number}, **${REWRITE.title}**, makes the rewrite in every affected file of the repository: <${input.followUp.url.replace(/[<>\s]/g, encodeURIComponent)}>`,
    );
  }
  if (input.followUpNote) parts.push(input.followUpNote);
  if (input.fixError) parts.push(`The rewrite could not be computed: ${errorText(input.fixError)}`);
  if (input.suggestions) {
    parts.push(`${input.suggestions} suggested change(s) were left on the changed lines of this pull request.`);
  }
  // The patch and the diffs share what the findings and the notes leave; each file is shown whole or not at all.
  const room = () => MAX_BODY_CHARS - parts.join("\n\n").length - 2;
  if (input.patch) {
    const files = patchFiles(input.patch);
    const intro =
      "The rewrite of this pull request's files as a patch (save it and run `git apply` at the repository root):";
    const frame = (text: string) => `<details><summary>Patch</summary>\n\n${fencedBlock(text, "diff")}\n\n</details>`;
    // The fence around a part of the patch is never longer than the one around all of it.
    let budget = room() - intro.length - frame(input.patch).length + input.patch.length - 300;
    const kept: string[] = [];
    for (const file of files) {
      if (file.length > budget) break;
      kept.push(file);
      budget -= file.length;
    }
    if (kept.length > 0) parts.push(intro, frame(kept.join("")));
    if (kept.length < files.length) {
      parts.push(
        `_…and ${files.length - kept.length} more ${files.length - kept.length === 1 ? "file" : "files"} whose rewrite is too large for this comment: run \`cilium-policy-bot fix\` on a checkout to apply ${kept.length > 0 ? "all of it" : "it"}._`,
      );
    }
  }
  const changes = input.changes ?? [];
  for (const [i, change] of changes.entries()) {
    const section = `<details><summary>Diff: <code>${htmlText(change.path)}</code></summary>\n\n${fencedBlock(gitPatch(change), "diff")}\n\n</details>`;
    if (section.length > room() - 300) {
      const left = changes.length - i;
      parts.push(
        `_…and ${left} more ${left === 1 ? "diff" : "diffs"} left out to keep this comment under GitHub's size limit: the follow-up pull request has them all._`,
      );
      break;
    }
    parts.push(section);
  }
  return parts.join("\n\n") + "\n";
}

type ServiceRewrite = RuleRewrite["services"][number];

function targetText(service: ServiceRewrite): string {
  if (service.selector) {
    return Object.entries(service.selector)
      .map(([key, value]) => inlineCode(`${key}=${value}`))
      .join(", ");
  }
  if (service.entities?.length) return `entities: ${service.entities.map(inlineCode).join(", ")}`;
  if (service.cidrs?.length) return `CIDRs: ${service.cidrs.map(inlineCode).join(", ")}`;
  return "–";
}

export function isGuessed(service: ServiceRewrite): boolean {
  return service.resolution === "guessed";
}

export function followUpTitle(pullNumber: number): string {
  return `${REWRITE.title} (#${pullNumber})`;
}

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

export function followUpBody(pullNumber: number, result: FixResult): string {
  const parts: string[] = [
    COMMENT_MARKER,
    `Follow-up for #${pullNumber}. This pull request rewrites the egress rules these rules report:`,
    rewrittenRules()
      .map((rule) => `- \`${rule.id}\`: ${rule.description}`)
      .join("\n"),
    REWRITE.effect,
  ];
  const header = [
    "| File | Line | Policy | Service | Now selects | Resolved from |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  const rows: string[] = [];
  const guessed: string[] = [];
  const manual: string[] = [];
  for (const rewrite of result.rewrites) {
    const at = `${inlineCode(rewrite.file)}:${rewrite.line}`;
    if (rewrite.status !== "rewritten") {
      manual.push(`- ${at}: ${errorText(rewrite.message ?? rewrite.status)}`);
      continue;
    }
    for (const service of rewrite.services) {
      rows.push(
        `| ${inlineCode(rewrite.file)} | ${rewrite.line} | ${rewrite.policy === null ? "–" : inlineText(rewrite.policy)} | ${inlineCode(service.service)} | ${targetText(service)} | ${inlineText(resolvedFrom(service))} |`,
      );
      if (isGuessed(service)) {
        guessed.push(
          `- [ ] ${at}: ${inlineCode(service.service)} → ${targetText(service)}${service.note ? ` (${errorText(service.note)})` : ""}`,
        );
      }
    }
  }
  // What a reviewer must act on comes first in the budget: guessed selectors, then what was left for a human.
  let room = MAX_BODY_CHARS - parts.join("\n\n").length - 600;
  const take = (items: readonly string[], share: number, more: (left: number) => string): string => {
    const text = withinBudget(items, Math.floor(share), more).join("\n");
    room -= text.length;
    return text;
  };
  const guessedText = take(
    guessed,
    room / 2,
    (left) => `- …and ${plural(left, "more guessed selector")}: check each in the diff.`,
  );
  const manualText = take(manual, room / 3, (left) => `- …and ${plural(left, "more rule")} left for a human.`);
  const rowsText = take(
    rows,
    room,
    (left) => `\n_…and ${plural(left, "more rewrite")} not listed here: see the diff._`,
  );
  parts.push([...header, rowsText].join("\n"));
  if (guessed.length > 0) {
    parts.push(
      "**Guessed selectors: check that each selects the Service's pods before merging** (this pull request stays a draft until then):",
      guessedText,
    );
  }
  if (manual.length > 0) parts.push("**Left for a human** (not rewritten):", manualText);
  return parts.join("\n\n") + "\n";
}

export function anyGuessed(result: FixResult): boolean {
  return result.rewrites.some(
    (rewrite) => rewrite.status === "rewritten" && rewrite.services.some((service) => isGuessed(service)),
  );
}
