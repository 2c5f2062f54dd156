// A chart the repository installs that was not rendered: the Services it makes are guessed, so say why, once per
// release, at the installer's line.
import { describeChart } from "../index/chart-outcomes.js";
import type { FileRule } from "./rule.js";

export const chartNotRendered: FileRule = {
  meta: {
    id: "chart-not-rendered",
    defaultSeverity: "info",
    description:
      "A Helm chart the repository installs (HelmRelease, Argo CD Application, kustomize helmCharts) was not rendered: selectors of the Services it makes are guessed.",
    fixable: false,
  },
  scope: "file",
  check(context) {
    for (const outcome of context.lookups.chartsInstalledIn(context.file.path)) {
      const { installed } = outcome;
      if (outcome.rendered) continue;
      const release = `${installed.namespace}/${installed.releaseName}`;
      const chart = describeChart(installed);
      const reason = outcome.reason ?? "unknown reason";
      // The reason often names the chart already: say it once.
      const what = reason.startsWith(chart) ? `Release ${release}` : `Release ${release} (${chart})`;
      context.report({
        at: { line: installed.location.line, column: installed.location.column },
        message: `${what} was not rendered: ${reason}; the Services it makes are guessed, not read from the chart.`,
      });
    }
  },
};
