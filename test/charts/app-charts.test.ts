// The app's chart directories: read from the repository's archive at the analysed commit, once for all the
// directories an analysis renders, and rendered by the real helm like the CLI's from disk.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createChartRenderer } from "../../src/charts/renderer.js";
import { CHART_DIRECTORY_LIMITS, filesRepositoryCharts } from "../../src/charts/repository-charts.js";
import { readDirectories } from "../../src/github/snapshot.js";
import type { GitHub } from "../../src/github/types.js";
import type { ChartRelease } from "../../src/policy/api.js";
import { hasHelm, hasSharedCharts, SHARED_CHARTS_DIR } from "../helpers/external.js";

const ready = hasSharedCharts() && hasHelm();

describe.skipIf(!ready)("chart directories of the app's snapshot", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpb-app-charts-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test(
    "one archive request for every chart directory; each renders from its files alone",
    { timeout: 60_000 },
    async () => {
      const root = join(dir, "acme-gitops-abc1234");
      mkdirSync(join(root, "charts"), { recursive: true });
      execFileSync("tar", ["-xzf", join(SHARED_CHARTS_DIR, "grafana-8.5.2.tgz"), "-C", join(root, "charts")]);
      execFileSync("tar", ["-xzf", join(SHARED_CHARTS_DIR, "vault-0.28.1.tgz"), "-C", join(root, "charts")]);
      writeFileSync(join(root, "README.md"), "not a chart\n");
      const archive = execFileSync("tar", ["-czf", "-", "acme-gitops-abc1234"], { cwd: dir });
      let requests = 0;
      const octokit = {
        request: async () => {
          requests++;
          return { data: archive };
        },
      } as unknown as GitHub;
      const repositoryCharts = filesRepositoryCharts((directories) =>
        readDirectories(octokit, { owner: "acme", repo: "gitops" }, "abc1234", directories, CHART_DIRECTORY_LIMITS),
      );
      const release = (key: string, path: string): ChartRelease => ({
        key,
        installer: "HelmRelease",
        releaseName: key,
        namespace: "demo",
        chart: { kind: "directory", path },
        values: {},
        apiVersions: [],
        location: { file: "apps/release.yaml", line: 1, column: 1 },
      });
      const renderer = createChartRenderer({ cacheDir: join(dir, "cache"), downloads: false, repositoryCharts });
      const results = await renderer.render([
        release("mon", "charts/grafana"),
        release("sec", "./charts/vault/"),
        release("none", "charts/missing"),
      ]);
      expect(requests).toBe(1);
      expect(results[0]).toMatchObject({ ok: true, chart: "grafana", version: "8.5.2", from: "charts/grafana" });
      expect(results[0]!.ok && results[0]!.manifests).toContain("name: mon-grafana\n");
      expect(results[1]).toMatchObject({ ok: true, chart: "vault", version: "0.28.1" });
      expect(results[1]!.ok && results[1]!.manifests).toContain("name: sec-vault-agent-injector-svc\n");
      expect(results[2]).toEqual({
        key: "none",
        ok: false,
        reason: "chart directory charts/missing: no such directory in the repository",
      });
    },
  );
});
