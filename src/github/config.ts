// The app's configuration: .github/cilium-policy-bot.yml of the repository, over the organisation's defaults from
// its `.github` repository (what Probot's context.config reads), validated by the engine's config module.
import { ConfigError, resolveConfigFile } from "../policy/api.js";
import type { AppSettings, Config } from "../policy/api.js";
import type { GitHub, RepoRef } from "./types.js";
import { statusOf } from "./types.js";

export const CONFIG_FILE = "cilium-policy-bot.yml";

/** The engine's configuration and the app's own settings (followUp, failOnError), from the one file. */
export type ConfigResult = { readonly config: Config; readonly app: AppSettings } | { readonly error: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge of plain objects; arrays and scalars of later configs replace earlier ones (globs must not pile up). */
export function mergeConfigs(configs: readonly unknown[]): unknown {
  let merged: unknown = {};
  for (const config of configs) {
    if (isPlainObject(merged) && isPlainObject(config)) {
      const next: Record<string, unknown> = { ...merged };
      for (const [key, value] of Object.entries(config)) next[key] = mergeConfigs([merged[key], value]);
      merged = next;
    } else if (config !== undefined && config !== null) {
      merged = config;
    }
  }
  return merged;
}

/**
 * Reads the configuration through the same plugin as `context.config` (jobs may run in another instance, without
 * the webhook's context). A bad file is a result, not an exception, so it can be reported on the PR.
 */
export async function loadConfig(octokit: GitHub, repo: RepoRef): Promise<ConfigResult> {
  let raw: unknown;
  try {
    const { config } = await octokit.config.get({
      ...repo,
      path: `.github/${CONFIG_FILE}`,
      // lowest precedence first: what files `_extends`, the organisation's .github repository, the repository
      defaults: (configs) => mergeConfigs(configs) as (typeof configs)[number],
    });
    raw = config;
  } catch (error) {
    if (statusOf(error) !== undefined) throw error; // the API failed: let the job fail and the next event retry
    return { error: (error as Error).message.replace(/^\[@probot\/octokit-plugin-config\] /, "") };
  }
  try {
    return resolveConfigFile(raw ?? {});
  } catch (error) {
    if (error instanceof ConfigError) return { error: error.message };
    throw error;
  }
}
