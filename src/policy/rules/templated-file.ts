// Helm/Go-templated files cannot be parsed before rendering. Those that hold Cilium policies get a finding, louder
// when the raw text already shows a rule combining toServices with toPorts.
import type { Position } from "../types.js";
import type { FileRule } from "./rule.js";

const MENTIONS_POLICY = /cilium\.io|CiliumNetworkPolicy|CiliumClusterwideNetworkPolicy/;
const KEY_LINE = /^( *)(- +)?([A-Za-z][A-Za-z0-9]*)\s*:/;

interface KeyLine {
  /** 0-based column of the key. */
  readonly column: number;
  readonly key: string;
  /** Whether the key opens a sequence item (`- key:`). */
  readonly opensItem: boolean;
}

/** Lines that are neither YAML content nor structure: blank, comments, template actions alone on their line. */
function isTransparent(line: string): boolean {
  const trimmed = line.trim();
  return trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith("{{");
}

function keyLine(line: string): KeyLine | undefined {
  const match = KEY_LINE.exec(line);
  if (!match) return undefined;
  const indent = match[1]?.length ?? 0;
  const dash = match[2]?.length ?? 0;
  return { column: indent + dash, key: match[3] ?? "", opensItem: dash > 0 };
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/**
 * Positions of `toServices` keys that have a `toPorts` sibling in the same mapping, read from indentation alone
 * (block style) or from one line (flow style). Template actions on their own lines are looked through.
 */
export function toServicesWithToPortsInText(text: string): Position[] {
  const lines = text.split(/\r?\n/);
  const found: Position[] = [];
  lines.forEach((line, i) => {
    const flow = /[{,]\s*toServices\s*:/.test(line) && /[{,]\s*toPorts\s*:/.test(line);
    const own = keyLine(line);
    if (flow) {
      found.push({ line: i + 1, column: line.indexOf("toServices") + 1 });
      return;
    }
    if (!own || own.key !== "toServices") return;
    const column = own.column;
    let sibling = false;
    for (let j = i + 1; j < lines.length && !sibling; j++) {
      const next = lines[j] ?? "";
      if (isTransparent(next)) continue;
      const indent = indentOf(next);
      if (indent < column) break;
      const key = keyLine(next);
      if (indent === column && key?.key === "toPorts" && !key.opensItem) sibling = true;
    }
    for (let j = i - 1; j >= 0 && !sibling && !own.opensItem; j--) {
      const previous = lines[j] ?? "";
      if (isTransparent(previous)) continue;
      const key = keyLine(previous);
      if (key?.opensItem && key.column === column) {
        sibling = key.key === "toPorts";
        break;
      }
      if (indentOf(previous) < column) break;
      if (indentOf(previous) === column && key?.key === "toPorts") sibling = true;
    }
    if (sibling) found.push({ line: i + 1, column: column + 1 });
  });
  return found;
}

export const templatedFile: FileRule = {
  meta: {
    id: "templated-file",
    defaultSeverity: "info",
    description: "A Helm/Go-templated file holds Cilium policies, which cannot be checked before rendering.",
    fixable: false,
  },
  scope: "file",
  check(context) {
    const { file } = context;
    if (!file.templated || !MENTIONS_POLICY.test(file.text)) return;
    const combined = toServicesWithToPortsInText(file.text);
    for (const at of combined) {
      context.report({
        at,
        severity: "warning",
        fix: "manual",
        message:
          "This template shows toServices combined with toPorts, which Cilium ≤1.13 enforces as any destination on those ports and 1.14–1.16 reject; rewrite it by hand as toEndpoints selecting the Service's pods.",
      });
    }
    if (combined.length === 0) {
      context.report({
        at: { line: 1, column: 1 },
        message:
          "Templated file with Cilium policies: it cannot be checked before rendering; scan the rendered output (e.g. `helm template … > rendered.yaml`).",
      });
    }
  },
};
