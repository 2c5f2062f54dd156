// What became of each chart installation the repository declares: rendered (and from where), or not and why. Read by
// the index (releases the guess may use), the chart layer and the rules; it knows nothing of how an index is built.
import type { InstalledChart } from "../render/chart-releases.js";
import type { ChartOrigin, ReleaseInfo } from "../types.js";

/** The reason given for every release when the run has no chart renderer at all. */
export const NO_RENDERER = "charts are not rendered in this run (no Helm renderer)";

/** What became of one chart installation the repository declares. */
export interface ChartOutcome {
  readonly installed: InstalledChart;
  /** Rendered: the chart and version helm rendered, and where it came from. */
  readonly rendered?: ChartOrigin;
  /** Not rendered: why (the renderer's reason, or the engine's). */
  readonly reason?: string;
}

/** Plain words for an installation, e.g. "chart traefik 33.2.1 from https://traefik.github.io/charts". */
export function describeChart(installed: InstalledChart): string {
  const chart = installed.release?.chart;
  if (chart?.kind === "repository") {
    return `chart ${chart.name}${chart.version !== undefined ? ` ${chart.version}` : ""} from ${chart.repository}`;
  }
  if (chart?.kind === "directory") return `chart ${installed.chartName ?? "?"} in ${chart.path}`;
  return `chart ${installed.chartName ?? "?"}`;
}

/** The outcomes before any render: each installation not rendered, with the reason why. */
export function unrenderedOutcomes(installed: readonly InstalledChart[], reason = NO_RENDERER): ChartOutcome[] {
  return installed.map((entry) => ({ installed: entry, reason: entry.unrenderable ?? reason }));
}

/** Each release the guess may use, with what became of its chart (rendered, or why not). */
export function annotateReleases(releases: readonly ReleaseInfo[], outcomes: readonly ChartOutcome[]): ReleaseInfo[] {
  const annotated = releases.map((release) => {
    const here = outcomes.filter(
      (candidate) =>
        candidate.installed.location.file === release.location.file &&
        candidate.installed.location.line === release.location.line,
    );
    // One installation at that line (a HelmRelease): it is this release, under the name its installer gives it (a
    // long Flux name shortened); several (an Application's sources, overlays): the one of the same name and namespace.
    const outcome =
      here.length === 1
        ? here[0]
        : (here.find(
            (candidate) =>
              candidate.installed.releaseName === release.releaseName &&
              candidate.installed.namespace === release.namespace,
          ) ?? here.find((candidate) => candidate.installed.releaseName === release.releaseName));
    if (!outcome) return release;
    // The chart as its installation names it, where the release does not say (a Flux chartRef to an OCIRepository or
    // a HelmChart): the guess reads the chart's conventional labels from it.
    const chart = release.chart ?? outcome.installed.chartName;
    return withOutcome(
      { ...release, releaseName: outcome.installed.releaseName, ...(chart !== undefined ? { chart } : {}) },
      outcome,
    );
  });
  // kustomize helmCharts explain Service names as HelmReleases do.
  for (const outcome of outcomes) {
    if (outcome.installed.installer !== "kustomize") continue;
    const { installed } = outcome;
    // The kustomizations' namespace, when one sets it, is where the chart's objects land.
    const layered = installed.layers?.[0]?.layers.reduce<string | undefined>(
      (namespace, layer) => layer.namespace ?? namespace,
      undefined,
    );
    annotated.push(
      withOutcome(
        {
          kind: "kustomize",
          releaseName: installed.releaseName,
          chart: installed.chartName,
          namespace: layered ?? installed.namespace,
          location: installed.location,
        },
        outcome,
      ),
    );
  }
  return annotated;
}

function withOutcome(release: ReleaseInfo, outcome: ChartOutcome): ReleaseInfo {
  const { notRendered: _notRendered, rendered: _rendered, ...plain } = release;
  if (outcome.rendered) return { ...plain, rendered: outcome.rendered };
  return outcome.reason !== undefined ? { ...plain, notRendered: outcome.reason } : plain;
}
