// Findings → GitHub-flavoured Markdown for a pull request comment, kept within a length budget.
import type { Finding, FixKind, Severity } from "../types.js";
import { inlineText, linkDestination } from "./inert.js";
import { ciliumLine, ruleDocsUrl, SEVERITIES, summaryLine } from "./rule-docs.js";
import type { ReportInput, RuleDocsOptions } from "./rule-docs.js";

/** GitHub rejects issue and pull request comments longer than this. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** A single cell longer than this is cut: one runaway message must not crowd out every other row. */
const MAX_CELL_LENGTH = 1_000;

export interface MarkdownOptions extends RuleDocsOptions {
  /** The most characters the whole text may have; the app lowers it to keep room for its own additions. */
  readonly maxLength?: number;
  /** Links `file:line` cells, e.g. to the file at the pull request's head commit. */
  readonly fileUrl?: (file: string, line: number) => string;
}

const SEVERITY_LABEL: Record<Severity, string> = { error: "❌ error", warning: "⚠️ warning", info: "ℹ️ info" };
const FIX_LABEL: Record<FixKind, string> = {
  auto: "auto",
  guessed: "auto, guessed: review",
  manual: "by hand",
  none: "–",
};

/** Untrusted text in a table cell: one line, cut to MAX_CELL_LENGTH, inert (see inert.ts). */
export function escapeCell(text: string): string {
  const single = text.replace(/\s*\r?\n\s*/g, " ");
  return inlineText(single.length > MAX_CELL_LENGTH ? `${single.slice(0, MAX_CELL_LENGTH - 1)}…` : single);
}

function row(finding: Finding, options: MarkdownOptions): string {
  const rule =
    options.docsBaseUrl === null
      ? `\`${finding.ruleId}\``
      : `[${escapeCell(finding.ruleId)}](${linkDestination(ruleDocsUrl(finding.ruleId, options.docsBaseUrl))})`;
  const location = escapeCell(`${finding.file}:${finding.line}`);
  const linkedLocation = options.fileUrl
    ? `[${location}](${linkDestination(options.fileUrl(finding.file, finding.line))})`
    : location;
  const cells = [
    SEVERITY_LABEL[finding.severity],
    rule,
    linkedLocation,
    finding.policy === null ? "–" : escapeCell(finding.policy),
    escapeCell(finding.message),
    FIX_LABEL[finding.fix],
  ];
  return `| ${cells.join(" | ")} |`;
}

function moreLine(count: number): string {
  return `\n_…and ${count} more ${count === 1 ? "finding" : "findings"} not shown here._\n`;
}

/**
 * Renders the findings, errors first. Rows that would take the text over `maxLength` are replaced by an
 * "and N more" line. The result is never longer than `maxLength`.
 */
export function renderMarkdown(input: ReportInput, options: MarkdownOptions = {}): string {
  const maxLength = options.maxLength ?? GITHUB_COMMENT_LIMIT;
  const cilium = ciliumLine(input);
  const summary = `**cilium-policy-bot**: ${summaryLine(input)}\n${cilium === undefined ? "" : `\n${escapeCell(cilium)}\n`}`;
  if (input.findings.length === 0) return summary.length <= maxLength ? summary : summary.slice(0, maxLength);
  const header = `${summary}\n| Severity | Rule | Location | Policy | Message | Fix |\n|---|---|---|---|---|---|\n`;
  const ordered = SEVERITIES.flatMap((severity) => input.findings.filter((f) => f.severity === severity));
  const rows = ordered.map((finding) => `${row(finding, options)}\n`);
  let text = header;
  let shown = 0;
  const reserve = moreLine(rows.length).length;
  for (const [i, line] of rows.entries()) {
    const isLast = i === rows.length - 1;
    if (text.length + line.length + (isLast ? 0 : reserve) > maxLength) break;
    text += line;
    shown++;
  }
  if (shown < rows.length) {
    if (shown === 0 && header.length + reserve > maxLength) {
      // No room even for the table: the summary and the count alone.
      const bare = `${summary}${moreLine(rows.length)}`;
      return bare.length <= maxLength ? bare : summary.slice(0, maxLength);
    }
    text += moreLine(rows.length - shown);
  }
  return text;
}
