// The Cilium versions the rules judge for: the configuration's range when it sets one, else what the repository
// itself installs (a chart named `cilium` in a HelmRelease, an Argo CD Application or kustomize helmCharts: its
// rendered version, or the exact version or range it names), else the default. Always with where it came from.
import semver from "semver";
import type { Config } from "../types.js";
import { DEFAULT_CONFIG } from "../config.js";
import type { ChartOutcome } from "./chart-outcomes.js";

export interface CiliumRange {
  /** A semver range, e.g. "1.17.2" or ">=1.16.0 <1.17.0 || 1.17.2". */
  readonly range: string;
  /** Where the range comes from, in plain words: "configuration", "default", or the installers' places. */
  readonly source: string;
}

const CILIUM_CHART = "cilium";

/** The version an installation of the cilium chart pins: the rendered one, else the version or range it names. */
function installedVersion(outcome: ChartOutcome): string | undefined {
  if (outcome.rendered) return outcome.rendered.version.replace(/^v/, "");
  const chart = outcome.installed.release?.chart;
  return chart?.kind === "repository" ? chart.version : undefined;
}

/** Whether the configuration itself chose the range (the file or a command-line flag), not the defaults. */
function configured(config: Pick<Config, "ciliumVersion" | "ciliumVersionConfigured">): boolean {
  return config.ciliumVersionConfigured === true || config.ciliumVersion !== DEFAULT_CONFIG.ciliumVersion;
}

export function ciliumRangeOf(
  config: Pick<Config, "ciliumVersion" | "ciliumVersionConfigured">,
  charts: readonly ChartOutcome[] = [],
): CiliumRange {
  if (configured(config)) return { range: config.ciliumVersion, source: "configuration (ciliumVersion)" };
  const found = new Map<string, string[]>();
  for (const outcome of charts) {
    if (outcome.installed.chartName !== CILIUM_CHART) continue;
    const version = installedVersion(outcome)?.trim();
    if (version === undefined || semver.validRange(version, { loose: true }) === null) continue;
    const { installer, location } = outcome.installed;
    const where = `${installer === "kustomize" ? "kustomize helmCharts" : installer} at ${location.file}:${location.line}`;
    const places = found.get(version) ?? [];
    places.push(where);
    found.set(version, places);
  }
  if (found.size === 0) return { range: DEFAULT_CONFIG.ciliumVersion, source: "default" };
  const versions = [...found.keys()].sort();
  return {
    range: versions.join(" || "),
    source: `the repository installs Cilium ${versions
      .map((version) => `${version} (${(found.get(version) as string[]).join(", ")})`)
      .join(" and ")}`,
  };
}
