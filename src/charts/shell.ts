// How each shell configures chart rendering. CLI: `--chart-cache DIR` (default: the per-user cache directory) and
// `--offline`. App: CHART_CACHE_DIR (a volume), downloads on unless CHART_DOWNLOADS=off. Both: helm through HELM_BIN
// or PATH; credentials for private chart repositories through CHART_CREDENTIALS or CHART_CREDENTIALS_FILE.
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import type { ChartRenderer } from "../policy/api.js";
import { credentialsFromEnv } from "./credentials.js";
import { createChartService } from "./renderer.js";
import type { ChartService } from "./renderer.js";
import { diskRepositoryCharts } from "./repository-charts.js";

/** $XDG_CACHE_HOME/cilium-policy-bot/charts, else ~/.cache/cilium-policy-bot/charts. */
export function defaultChartCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "cilium-policy-bot", "charts");
}

export interface CliChartOptions {
  /** The directory being analysed: chart directories are read from it. */
  readonly root: string;
  readonly chartCache?: string;
  readonly offline?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export function cliChartRenderer(options: CliChartOptions): ChartRenderer {
  const env = options.env ?? process.env;
  return createChartService({
    cacheDir: options.chartCache ?? defaultChartCacheDir(env),
    downloads: options.offline !== true,
    credentials: credentialsFromEnv(env),
    env,
  }).renderer(diskRepositoryCharts(options.root));
}

export interface AppChartSettings {
  readonly cacheDir: string;
  readonly downloads: boolean;
  readonly cacheBytes?: number;
}

/** The app's settings from its environment: CHART_CACHE_DIR (default: a directory under the system's temp dir), CHART_DOWNLOADS. */
export function appChartSettings(env: NodeJS.ProcessEnv = process.env): AppChartSettings {
  const downloads = (env.CHART_DOWNLOADS ?? "on").trim().toLowerCase();
  if (!["on", "off", "true", "false", "1", "0", ""].includes(downloads)) {
    throw new Error(`CHART_DOWNLOADS must be "on" or "off", not "${env.CHART_DOWNLOADS}"`);
  }
  const mib = env.CHART_CACHE_MAX_MIB;
  if (mib !== undefined && mib !== "" && !/^[1-9]\d*$/.test(mib)) {
    throw new Error(`CHART_CACHE_MAX_MIB must be a whole number of MiB, not "${mib}"`);
  }
  return {
    cacheDir: env.CHART_CACHE_DIR || join(tmpdir(), "cilium-policy-bot", "charts"),
    downloads: !["off", "false", "0"].includes(downloads),
    ...(mib ? { cacheBytes: Number(mib) * 1024 * 1024 } : {}),
  };
}

/** One service for the app's lifetime (renders and indexes shared by its jobs); each job asks it for a renderer. */
export function appChartService(env: NodeJS.ProcessEnv = process.env): ChartService {
  const settings = appChartSettings(env);
  return createChartService({ ...settings, credentials: credentialsFromEnv(env), env });
}
