// `fix` on repositories installing the shared charts through Flux, Argo CD and kustomize helmCharts: every rule naming
// a chart's Service is rewritten with the selector and target ports the real helm renders (source `chart`), offline
// from the chart cache (the built CLI, as users run it) and through a local HTTP Helm repository (the engine with
// the renderer's test-only loopback option, which no configuration can set). Expected values come from services.json.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, describe, expect, test } from "vitest";
import { createChartRenderer } from "../../src/charts/renderer.js";
import { diskRepositoryCharts } from "../../src/charts/repository-charts.js";
import { readSourceFiles } from "../../src/cli/files.js";
import { analyse, applyFixes, resolveConfig } from "../../src/policy/api.js";
import type { FileChange } from "../../src/policy/api.js";
import { chartFixture, installerOf, namedServices } from "../helpers/chart-fixtures.js";
import { hasHelm, hasSharedCharts, PROJECT_ROOT, SHARED_CHARTS_DIR } from "../helpers/external.js";
import { startHelmRepository } from "../helpers/helm-repository.js";
import { expectedPorts, SHARED_NAMESPACE, sharedChartData } from "../helpers/shared-chart-renders.js";
import type { SharedChart } from "../helpers/shared-chart-renders.js";

const ready = hasSharedCharts() && hasHelm();
const MAIN = join(PROJECT_ROOT, "dist/cli/main.js");

type Obj = Record<string, unknown>;

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** Every egress rule of the chart's policy, as rewritten, is toEndpoints with the rendered selector and target ports. */
function expectRewritten(policyText: string, chart: SharedChart): void {
  const policy = parseAllDocuments(policyText)[0]!.toJS() as { spec: { egress: Obj[] } };
  const services = namedServices(chart);
  expect(policy.spec.egress).toHaveLength(services.length);
  policy.spec.egress.forEach((rule, i) => {
    const service = services[i]!;
    expect(rule.toServices, `${chart.name}: ${service.name}`).toBeUndefined();
    expect(rule.toEndpoints).toEqual([
      { matchLabels: { ...service.selector, "k8s:io.kubernetes.pod.namespace": SHARED_NAMESPACE } },
    ]);
    const ports = (rule.toPorts as Array<{ ports: Array<{ port: string; protocol: string }> }>).flatMap((p) => p.ports);
    expect(ports).toEqual(expectedPorts(service).map((p) => ({ port: String(p.targetPort), protocol: p.protocol })));
  });
}

describe.skipIf(!ready)("fix on Flux, Argo CD and kustomize fixtures installing the shared charts", () => {
  const charts = ready ? (sharedChartData() ?? []) : [];
  const temp = mkdtempSync(join(tmpdir(), "cpb-fix-charts-"));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  test("every installer is exercised", () => {
    const installers = charts.map(installerOf);
    for (const installer of ["flux", "argocd", "kustomize"]) expect(installers).toContain(installer);
  });

  test(
    "offline, from the chart cache: the built CLI rewrites every rule naming a chart's Service",
    { timeout: 180_000 },
    () => {
      const repo = join(temp, "offline");
      writeTree(
        repo,
        chartFixture(charts, (chart) => `https://charts.example.org/${chart.name}`),
      );
      const cache = join(temp, "offline-cache");
      mkdirSync(cache);
      for (const chart of charts) copyFileSync(join(SHARED_CHARTS_DIR, chart.archive), join(cache, chart.archive));
      const run = spawnSync(
        process.execPath,
        [MAIN, "fix", repo, "--offline", "--chart-cache", cache, "--format", "json"],
        {
          encoding: "utf8",
          timeout: 170_000,
          env: { ...process.env, HOME: join(temp, "home") },
        },
      );
      expect(run.status, run.stderr).toBe(0);
      const json = JSON.parse(run.stdout) as {
        rewrites: Array<{ file: string; services: Array<{ resolution: string }> }>;
      };
      // One rewrite per rule, one rule per Service a chart renders with a selector.
      expect([...new Set(json.rewrites.map((r) => r.file))].sort()).toEqual(
        charts.map((c) => `policies/${c.name}.yaml`).sort(),
      );
      expect(json.rewrites).toHaveLength(charts.reduce((sum, chart) => sum + namedServices(chart).length, 0));
      for (const rewrite of json.rewrites) {
        for (const service of rewrite.services) expect(service.resolution, rewrite.file).toBe("chart");
      }
      for (const chart of charts)
        expectRewritten(readFileSync(join(repo, `policies/${chart.name}.yaml`), "utf8"), chart);
    },
  );

  test(
    "through a local Helm repository, with version ranges where the installer allows them",
    { timeout: 180_000 },
    async () => {
      const server = await startHelmRepository(charts.map((chart) => join(SHARED_CHARTS_DIR, chart.archive)));
      try {
        const repo = join(temp, "online");
        // Flux and Argo CD take ranges; kustomize helmCharts an exact version.
        const range = (chart: SharedChart, installer: string) =>
          installer === "kustomize"
            ? chart.version
            : `>=${chart.version.replace(/^v/, "").replace(/\.\d+$/, ".0")} <999`;
        writeTree(
          repo,
          chartFixture(charts, () => server.url, range),
        );
        const renderer = createChartRenderer({
          cacheDir: join(temp, "online-cache"),
          downloads: true,
          network: { testOnlyAllowLoopback: true },
          repositoryCharts: diskRepositoryCharts(repo),
        });
        const result = applyFixes(
          await analyse(readSourceFiles(repo), { config: resolveConfig(undefined), charts: renderer }),
        );
        const byPath = new Map(result.changes.map((change: FileChange) => [change.path, change.after]));
        for (const chart of charts) expectRewritten(byPath.get(`policies/${chart.name}.yaml`) ?? "", chart);
        for (const rewrite of result.rewrites)
          for (const service of rewrite.services) expect(service.resolution).toBe("chart");
        const downloaded = server.requests.map((r) => r.path).filter((p) => p.endsWith(".tgz"));
        expect(downloaded.sort()).toEqual(charts.map((c) => `/${c.archive}`).sort());
      } finally {
        await server.close();
      }
    },
  );
});
