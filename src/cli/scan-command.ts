// `cilium-policy-bot scan [DIR]`: reads the manifests under DIR, runs the engine, prints one report.
import { resolve } from "node:path";
import { Option } from "commander";
import type { Command } from "commander";
import { analyse, renderJson, renderMarkdown, renderSarif, renderTable } from "../policy/api.js";
import type { ReportInput } from "../policy/api.js";
import { chartOptions, chartRendererFor } from "./chart-options.js";
import type { ChartCommandOptions } from "./chart-options.js";
import { loadConfig } from "./config-file.js";
import { EXIT } from "./errors.js";
import { readSourceFiles } from "./files.js";
import { Progress } from "./progress.js";

export const FORMATS = ["table", "markdown", "json", "sarif"] as const;
export type Format = (typeof FORMATS)[number];

export interface ScanCommandOptions extends ChartCommandOptions {
  readonly format: Format;
  readonly config?: string;
  readonly ciliumVersion?: string;
}

/** The options `scan` and `fix` share: configuration and charts. */
export function configOptions(command: Command): Command {
  return chartOptions(command)
    .option("--config <file>", "configuration file (default: DIR/.github/cilium-policy-bot.yml)")
    .option("--cilium-version <range>", "semver range of the Cilium versions the clusters run, e.g. '>=1.14 <1.17'");
}

export function render(result: ReportInput, format: Format, toolVersion: string): string {
  switch (format) {
    case "table":
      return renderTable(result, { width: process.stdout.isTTY ? process.stdout.columns : undefined });
    case "markdown":
      return renderMarkdown(result);
    case "json":
      return renderJson(result);
    case "sarif":
      return renderSarif(result, { toolVersion });
  }
}

/** Runs a scan of `dir` and returns the report and the exit code, without printing. */
export async function runScan(
  dir: string,
  options: ScanCommandOptions,
  toolVersion: string,
): Promise<{ output: string; exitCode: number }> {
  const root = resolve(dir);
  const config = loadConfig(root, options);
  const progress = new Progress();
  const sources = readSourceFiles(root, progress);
  progress.update(`scanning ${sources.length} files…`);
  const result = await analyse(sources, { config, charts: chartRendererFor(root, options) });
  progress.done();
  const hasErrors = result.findings.some((finding) => finding.severity === "error");
  return { output: render(result, options.format, toolVersion), exitCode: hasErrors ? EXIT.findings : EXIT.ok };
}

export function registerScanCommand(program: Command): void {
  const command = program
    .command("scan")
    .description("report Cilium network policy problems in the manifests under DIR")
    .argument("[dir]", "directory to scan", ".")
    .addOption(new Option("--format <format>", "report format").choices(FORMATS).default("table"));
  configOptions(command).action(async (dir: string, options: ScanCommandOptions) => {
    const { output, exitCode } = await runScan(dir, options, program.version() ?? "0.0.0");
    process.stdout.write(output);
    process.exitCode = exitCode;
  });
}
