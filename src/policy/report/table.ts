// Findings → a plain-text table for terminals: no colours, wrapped to a width (120 columns by default).
import type { Finding } from "../types.js";
import { ciliumLine, summaryLine } from "./rule-docs.js";
import type { ReportInput } from "./rule-docs.js";

export interface TableOptions {
  /** Total width in columns; the message column takes what the others leave. */
  readonly width?: number;
}

export const DEFAULT_TABLE_WIDTH = 120;
const GAP = "  ";
const MIN_MESSAGE_WIDTH = 50;

interface Column {
  readonly title: string;
  readonly cap: number;
  readonly cell: (finding: Finding) => string;
}

const COLUMNS: readonly Column[] = [
  { title: "SEVERITY", cap: 8, cell: (f) => f.severity },
  { title: "RULE", cap: 28, cell: (f) => f.ruleId },
  { title: "LOCATION", cap: 40, cell: (f) => `${f.file}:${f.line}:${f.column}` },
  { title: "POLICY", cap: 28, cell: (f) => f.policy ?? "-" },
];

/** Splits text into lines of at most `width` characters, at spaces or after "/" where possible. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    let rest = paragraph.replace(/\s+/g, " ").trim();
    if (rest === "") continue;
    while (rest.length > width) {
      const window = rest.slice(0, width + 1);
      const space = window.lastIndexOf(" ");
      const slash = window.lastIndexOf("/", width - 1);
      const cut = space > 0 ? space : slash > 0 ? slash + 1 : width;
      lines.push(rest.slice(0, cut).trimEnd());
      rest = rest.slice(cut).trimStart();
    }
    lines.push(rest);
  }
  return lines.length > 0 ? lines : [""];
}

function spread(natural: readonly number[], capped: readonly number[], width: number): number[] {
  const [severity, rule, location, policy] = [capped[0]!, capped[1]!, natural[2]!, natural[3]!];
  const free = width - 3 * GAP.length - severity - rule;
  const locationWidth = Math.min(location, Math.max(free - Math.min(policy, 16), 20));
  return [severity, rule, locationWidth, Math.max(Math.min(policy, free - locationWidth), 8)];
}

/**
 * Renders one row per finding. When the other columns leave the message less than MIN_MESSAGE_WIDTH columns, each
 * message goes on the lines under its row instead, indented to the rule column, so it stays readable.
 */
export function renderTable(input: ReportInput, options: TableOptions = {}): string {
  const cilium = ciliumLine(input);
  // The summary stays the last line; the Cilium range, when known, just above it.
  const summary = cilium === undefined ? summaryLine(input) : `${cilium}\n${summaryLine(input)}`;
  if (input.findings.length === 0) return `${summary}\n`;
  const width = Math.max(options.width ?? DEFAULT_TABLE_WIDTH, 60);
  const natural = COLUMNS.map((column) =>
    Math.max(column.title.length, ...input.findings.map((f) => column.cell(f).length)),
  );
  const capped = natural.map((w, i) => Math.min(COLUMNS[i]!.cap, w));
  const usedBy = (ws: readonly number[]) => ws.reduce((sum, w) => sum + w + GAP.length, 0);
  const inline = width - usedBy(capped) >= MIN_MESSAGE_WIDTH;
  // With messages under their rows, the columns may take the whole width: the location first, the policy the rest.
  const widths = inline ? capped : spread(natural, capped, width);
  const allWidths = inline ? [...widths, width - usedBy(widths)] : widths;
  const row = (cells: readonly string[]): string[] => {
    const wrapped = cells.map((cell, i) => wrap(cell, allWidths[i]!));
    const height = Math.max(...wrapped.map((lines) => lines.length));
    const out: string[] = [];
    for (let line = 0; line < height; line++) {
      const parts = wrapped.map((lines, i) => (lines[line] ?? "").padEnd(i === wrapped.length - 1 ? 0 : allWidths[i]!));
      out.push(parts.join(GAP).trimEnd());
    }
    return out;
  };
  const indent = " ".repeat(widths[0]! + GAP.length);
  const lines = inline
    ? [
        ...row([...COLUMNS.map((c) => c.title), "MESSAGE"]),
        ...input.findings.flatMap((finding) => row([...COLUMNS.map((c) => c.cell(finding)), finding.message])),
      ]
    : [
        ...row(COLUMNS.map((c) => c.title)),
        ...input.findings.flatMap((finding) => [
          ...row(COLUMNS.map((c) => c.cell(finding))),
          ...wrap(finding.message, width - indent.length).map((line) => indent + line),
        ]),
      ];
  return `${[...lines, "", summary].join("\n")}\n`;
}
