// The engine's surface: the one module the shells (CLI, GitHub App) import. Everything behind it is the engine's own.
export type { Config } from "./config.js";
export { CONFIG_PATH, ConfigError, parseConfig, resolveConfig } from "./config.js";
export type { Finding, FixKind, Severity, SourceFile } from "./types.js";
export { isIncluded, scan } from "./engine.js";
export type { ScanResult } from "./engine.js";
export { fix, resolvedFrom } from "./plan/fix.js";
export type { FileChange, FixResult, RuleRewrite } from "./plan/fix.js";
export { isManifestPath, MAX_FILE_BYTES } from "./read/manifests.js";
export { renderJson } from "./report/json.js";
export { renderMarkdown } from "./report/markdown.js";
export { fencedBlock, htmlText, inlineCode, inlineText } from "./report/inert.js";
export { renderSarif } from "./report/sarif.js";
export { renderTable } from "./report/table.js";
export { countBySeverity, SEVERITIES } from "./report/rule-docs.js";
export type { ReportInput } from "./report/rule-docs.js";
export type { ChartRelease, ChartRender, ChartRenderer, ChartSource } from "./render/chart-port.js";
export { chartReleasesOf, withRenderedCharts } from "./index/chart-index.js";
