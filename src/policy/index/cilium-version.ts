// The Cilium versions the rules judge for: the configuration's range when it sets one, else what the repository
// itself installs (a chart named `cilium` in a HelmRelease, an Argo CD Application or kustomize helmCharts: its
// rendered version, or the exact version or range it names; a repository chart depending on the cilium chart: the
// dependency's), else the default. Always with where it came from.
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

/**
 * The Cilium versions an installation pins, with the words saying how: the cilium chart's rendered version, else the
 * version or range it names; for a chart of the repository listing the cilium chart among its dependencies (an
 * umbrella chart, often named cilium itself at a version of its own such as 1.0.0), the versions those name, never
 * the umbrella's own.
 */
function installedVersions(outcome: ChartOutcome): { version: string; through?: string }[] {
  const { installed } = outcome;
  const subcharts = installed.dependencies?.charts.filter((chart) => chart.name === CILIUM_CHART) ?? [];
  if (subcharts.length > 0) {
    const through = `through the dependency in ${installed.dependencies?.chartFile ?? "Chart.yaml"}`;
    return subcharts.flatMap((chart) => (chart.version === undefined ? [] : [{ version: chart.version, through }]));
  }
  if (installed.chartName !== CILIUM_CHART) return [];
  if (outcome.rendered) return [{ version: outcome.rendered.version.replace(/^v/, "") }];
  const chart = installed.release?.chart;
  return chart?.kind === "repository" && chart.version !== undefined ? [{ version: chart.version }] : [];
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
    for (const pinned of installedVersions(outcome)) {
      const version = pinned.version.trim();
      if (semver.validRange(version, { loose: true }) === null) continue;
      const { installer, location } = outcome.installed;
      const where =
        `${installer === "kustomize" ? "kustomize helmCharts" : installer} at ${location.file}:${location.line}` +
        (pinned.through !== undefined ? `, ${pinned.through}` : "");
      const places = found.get(version) ?? [];
      if (!places.includes(where)) places.push(where);
      found.set(version, places);
    }
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
