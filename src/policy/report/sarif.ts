// Findings → SARIF 2.1.0, the format GitHub code scanning ingests.
import type { RuleMeta } from "../rules/rule.js";
import type { Severity } from "../types.js";
import { ruleDocsUrl, ruleMeta } from "./rule-docs.js";
import type { ReportInput, RuleDocsOptions } from "./rule-docs.js";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
export const TOOL_NAME = "cilium-policy-bot";

export interface SarifOptions extends RuleDocsOptions {
  /** The tool's version, shown by code scanning. */
  readonly toolVersion?: string;
}

type SarifLevel = "error" | "warning" | "note";
const LEVEL: Record<Severity, SarifLevel> = { error: "error", warning: "warning", info: "note" };

/** SARIF wants helpUri to be an absolute URI; a relative documentation link goes into the help text instead. */
function isAbsoluteUri(uri: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(uri);
}

function descriptor(meta: RuleMeta, options: SarifOptions) {
  const url = ruleDocsUrl(meta.id, options.docsBaseUrl ?? undefined);
  return {
    id: meta.id,
    shortDescription: { text: meta.description },
    ...(isAbsoluteUri(url) ? { helpUri: url } : {}),
    help: { text: `${meta.description} See ${url}.`, markdown: `${meta.description} [Documentation](${url})` },
    defaultConfiguration: { level: LEVEL[meta.defaultSeverity] },
    properties: { fixable: meta.fixable },
  };
}

/** Encodes a relative path as a URI reference, segment by segment ("a b/c.yaml" → "a%20b/c.yaml"). */
function artifactUri(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export function renderSarif(input: ReportInput, options: SarifOptions = {}): string {
  const ruleIds = [...new Set(input.findings.map((f) => f.ruleId))].sort();
  const rules = ruleIds.map((id) => descriptor(ruleMeta(id, options.rules), options));
  const log = {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            ...(options.toolVersion ? { version: options.toolVersion, semanticVersion: options.toolVersion } : {}),
            rules,
          },
        },
        columnKind: "utf16CodeUnits",
        results: input.findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: ruleIds.indexOf(f.ruleId),
          level: LEVEL[f.severity],
          message: { text: f.policy === null ? f.message : `${f.message} (policy ${f.policy})` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifactUri(f.file), uriBaseId: "%SRCROOT%" },
                region: { startLine: f.line, startColumn: f.column },
              },
            },
          ],
          properties: { fix: f.fix, ...(f.policy === null ? {} : { policy: f.policy }) },
        })),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
