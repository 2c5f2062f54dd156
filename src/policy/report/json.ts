// Findings → the JSON contract other tools parse (`scan --format json`). Key order is part of the contract.
import type { ReportInput } from "./rule-docs.js";

export const JSON_REPORT_VERSION = 1;

export function renderJson(input: ReportInput): string {
  const report = {
    version: JSON_REPORT_VERSION,
    filesScanned: input.filesScanned,
    policies: input.policies,
    findings: input.findings.map((f) => ({
      ruleId: f.ruleId,
      severity: f.severity,
      file: f.file,
      line: f.line,
      column: f.column,
      policy: f.policy,
      message: f.message,
      fix: f.fix,
    })),
    // Added after the original keys, so that readers relying on their order are not affected.
    ...(input.cilium ? { ciliumVersion: { range: input.cilium.range, source: input.cilium.source } } : {}),
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}
