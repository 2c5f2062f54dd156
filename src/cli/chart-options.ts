// The chart options `scan` and `fix` share: where the chart cache is and whether charts may be downloaded. The
// renderer itself lives in src/charts (a shell-side module: it runs helm and downloads).
import type { Command } from "commander";
import { cliChartRenderer, defaultChartCacheDir } from "../charts/shell.js";
import type { ChartRenderer } from "../policy/api.js";
import { CliError } from "./errors.js";

export interface ChartCommandOptions {
  readonly chartCache?: string;
  readonly offline?: boolean;
}

export function chartOptions(command: Command): Command {
  return command
    .option(
      "--chart-cache <dir>",
      `Helm chart cache: <chart>-<version>.tgz archives, downloads and renders (default: ${defaultChartCacheDir()})`,
    )
    .option("--offline", "never download charts: render only the repository's chart directories and the cache");
}

/** The renderer for a run over `root`: helm through HELM_BIN or PATH; without helm every release says so. */
export function chartRendererFor(root: string, options: ChartCommandOptions): ChartRenderer {
  try {
    return cliChartRenderer({
      root,
      ...(options.chartCache !== undefined ? { chartCache: options.chartCache } : {}),
      ...(options.offline ? { offline: true } : {}),
    });
  } catch (error) {
    // Only the credentials can be wrong here (CHART_CREDENTIALS / CHART_CREDENTIALS_FILE).
    throw new CliError(`chart credentials: ${(error as Error).message}`);
  }
}
