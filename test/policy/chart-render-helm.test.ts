// The engine's reading of real `helm template` output: each shared chart rendered by the real helm (default values,
// release demo in namespace demo, as services.json was made) resolves exactly as services.json says, the same answers
// the test renderer's rebuilt streams give. Skips without helm or ../shared; fails so under CI=true.
import { execFileSync } from "node:child_process";
import { resolve as resolvePath } from "node:path";
import { describe, expect, it } from "vitest";
import type { ChartRenderer } from "../../src/policy/api.js";
import { resolveConfig } from "../../src/policy/config.js";
import { parseSources } from "../../src/policy/engine.js";
import { chartReleasesOf, withRenderedCharts } from "../../src/policy/index/chart-index.js";
import { buildRepoIndex } from "../../src/policy/index/repo-index.js";
import { IndexLookups } from "../../src/policy/index/lookups.js";
import { resolveServices } from "../../src/policy/resolve/resolve.js";
import { HELM_BIN, hasHelm, hasSharedCharts, SHARED_CHARTS_DIR } from "../helpers/external.js";
import { expectedPorts, SHARED_NAMESPACE, SHARED_RELEASE, sharedChartData } from "../helpers/shared-chart-renders.js";
import type { SharedChart } from "../helpers/shared-chart-renders.js";
import { sources } from "../helpers/sources.js";

const ready = hasSharedCharts() && hasHelm();
const charts = ready ? (sharedChartData() ?? []) : [];

/** A renderer that runs the real helm on the shared archive (the shells' renderer adds caching and bounds). */
function realHelm(chart: SharedChart): ChartRenderer {
  return {
    render: (releases) =>
      Promise.resolve(
        releases.map((release) => ({
          key: release.key,
          ok: true as const,
          chart: chart.name,
          version: chart.version,
          from: SHARED_CHARTS_DIR,
          manifests: execFileSync(
            HELM_BIN,
            [
              "template",
              "--namespace",
              release.namespace,
              "--no-hooks",
              "--",
              release.releaseName,
              resolvePath(SHARED_CHARTS_DIR, chart.archive),
            ],
            {
              encoding: "utf8",
              timeout: 60_000,
              maxBuffer: 64 * 1024 * 1024,
              env: { ...process.env, HOME: "/nonexistent" },
            },
          ),
        })),
      ),
  };
}

describe.skipIf(!ready)("real helm template output", () => {
  it.each(charts.map((chart) => [chart.archive, chart] as const))(
    "%s resolves as services.json says",
    async (_a, chart) => {
      const index0 = buildRepoIndex(
        parseSources(
          sources({
            "r.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: r, namespace: ${SHARED_NAMESPACE}}
spec: {url: https://charts.example.org}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: ${SHARED_RELEASE}, namespace: ${SHARED_NAMESPACE}}
spec: {chart: {spec: {chart: ${chart.name}, version: "${chart.version}", sourceRef: {kind: HelmRepository, name: r}}}}
`,
          }),
        ),
      );
      const index = withRenderedCharts(index0, await realHelm(chart).render(chartReleasesOf(index0)));
      const config = resolveConfig({});
      for (const service of chart.renders[0]?.services ?? []) {
        if (!service.selector || Object.keys(service.selector).length === 0) continue;
        const [answer] = resolveServices(
          { k8sService: { serviceName: service.name, namespace: SHARED_NAMESPACE } },
          { policy: { namespace: "app", clusterwide: false }, lookups: new IndexLookups(index), config },
        );
        expect(answer?.resolution, service.name).toBe("chart");
        expect(answer?.selector, service.name).toEqual(service.selector);
        expect(answer?.ports, service.name).toEqual(expectedPorts(service));
      }
    },
  );
});
