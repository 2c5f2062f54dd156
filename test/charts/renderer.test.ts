// The shell's ChartRenderer with the real helm and the shared charts (../shared/charts): from the cache offline,
// through a local HTTP Helm repository (downloads, version ranges), from a chart directory; rendered Services checked
// against services.json; the render cache, the limits, and downloads that must be refused.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createChartRenderer } from "../../src/charts/renderer.js";
import type { ChartRendererOptions } from "../../src/charts/renderer.js";
import { diskRepositoryCharts } from "../../src/charts/repository-charts.js";
import { MAX_API_VERSIONS } from "../../src/charts/helm.js";
import type { ChartRelease, ChartRender } from "../../src/policy/api.js";
import { HELM_BIN, hasHelm, hasSharedCharts, SHARED_CHARTS_DIR } from "../helpers/external.js";
import { startHelmRepository } from "../helpers/helm-repository.js";
import type { HelmRepositoryServer } from "../helpers/helm-repository.js";

const ready = hasSharedCharts() && hasHelm();

interface ExpectedService {
  readonly name: string;
  readonly selector: Record<string, string> | null;
  readonly ports: ReadonlyArray<{
    readonly port: number;
    readonly targetPort: number | string;
    readonly protocol: string;
  }>;
}
interface SharedCharts {
  readonly charts: Record<
    string,
    { readonly renders: ReadonlyArray<{ readonly set: string[]; readonly services: ExpectedService[] }> }
  >;
}

/** `a.b=true` → { a: { b: true } }, as `helm --set` reads simple values. */
function valuesFromSet(set: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const assignment of set) {
    const [path, raw] = assignment.split("=") as [string, string];
    const keys = path.split(".");
    let node = values;
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[keys.at(-1)!] = raw === "true" ? true : raw === "false" ? false : /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  return values;
}

function chartOf(archive: string): { name: string; version: string } {
  const match = /^(.*)-(v?\d+\.\d+\.\d+)\.tgz$/.exec(archive)!;
  return { name: match[1]!, version: match[2]! };
}

function release(overrides: Partial<ChartRelease> & Pick<ChartRelease, "chart">): ChartRelease {
  return {
    key: "r1",
    installer: "HelmRelease",
    releaseName: "demo",
    namespace: "demo",
    values: {},
    apiVersions: [],
    location: { file: "release.yaml", line: 1, column: 1 },
    ...overrides,
  };
}

function servicesOf(render: ChartRender): ExpectedService[] {
  expect(render.ok, render.ok ? "" : render.reason).toBe(true);
  if (!render.ok) return [];
  return parseAllDocuments(render.manifests)
    .map(
      (doc) =>
        doc.toJS() as {
          kind?: string;
          metadata?: { name: string };
          spec?: { selector?: Record<string, string>; ports?: Array<Record<string, unknown>> };
        } | null,
    )
    .filter((doc) => doc?.kind === "Service")
    .map((doc) => ({
      name: doc!.metadata!.name,
      selector: doc!.spec?.selector ?? null,
      ports: (doc!.spec?.ports ?? []).map((p) => ({
        port: p.port as number,
        targetPort: (p.targetPort ?? p.port) as number | string,
        protocol: (p.protocol as string | undefined) ?? "TCP",
      })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const expectedServices = (services: readonly ExpectedService[]) =>
  services
    .map((s) => ({
      name: s.name,
      selector: s.selector,
      ports: s.ports.map((p) => ({ port: p.port, targetPort: p.targetPort, protocol: p.protocol })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));

describe.skipIf(!ready)("chart renderer with the real helm", () => {
  const temp = mkdtempSync(join(tmpdir(), "cpb-charts-"));
  const shared = ready
    ? (JSON.parse(readFileSync(join(SHARED_CHARTS_DIR, "services.json"), "utf8")) as SharedCharts)
    : { charts: {} };
  const archives = ready ? readdirSync(SHARED_CHARTS_DIR).filter((name) => name.endsWith(".tgz")) : [];
  let repo: HelmRepositoryServer;
  let counter = 0;
  const freshDir = (name: string) => {
    const dir = join(temp, `${name}-${counter++}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const renderer = (overrides: Partial<ChartRendererOptions> = {}) =>
    createChartRenderer({
      cacheDir: freshDir("cache"),
      downloads: false,
      repositoryCharts: diskRepositoryCharts(temp),
      ...overrides,
    });
  const offlineCache = () => {
    const dir = freshDir("cache");
    for (const archive of archives) copyFileSync(join(SHARED_CHARTS_DIR, archive), join(dir, archive));
    return dir;
  };

  beforeAll(async () => {
    repo = await startHelmRepository(archives.map((archive) => join(SHARED_CHARTS_DIR, archive)));
  });
  afterAll(async () => {
    await repo?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  test(
    "offline from the cache: every shared chart and values set renders the Services services.json lists",
    { timeout: 120_000 },
    async () => {
      const cacheDir = offlineCache();
      const releases: ChartRelease[] = [];
      const expected = new Map<string, ExpectedService[]>();
      for (const [archive, { renders }] of Object.entries(shared.charts)) {
        const { name, version } = chartOf(archive);
        renders.forEach((render, i) => {
          const key = `${archive}#${i}`;
          releases.push(
            release({
              key,
              chart: { kind: "repository", repository: "https://charts.example.com", name, version },
              values: valuesFromSet(render.set),
            }),
          );
          expected.set(key, render.services);
        });
      }
      const results = await renderer({ cacheDir }).render(releases);
      expect(results.map((r) => r.key)).toEqual(releases.map((r) => r.key));
      for (const result of results) {
        expect(servicesOf(result), result.key).toEqual(expectedServices(expected.get(result.key)!));
        if (result.ok) expect(result.from).toBe("https://charts.example.com");
      }
    },
  );

  test("offline and not cached: not rendered, saying so", async () => {
    const [result] = await renderer().render([
      release({
        chart: {
          kind: "repository",
          repository: "https://traefik.github.io/charts",
          name: "traefik",
          version: "24.0.0",
        },
      }),
    ]);
    expect(result).toEqual({
      key: "r1",
      ok: false,
      reason:
        "chart traefik 24.0.0 from https://traefik.github.io/charts is not in the chart cache and downloads are off",
    });
  });

  test(
    "a version range downloads the highest match from the Helm repository into the cache, then works offline",
    { timeout: 60_000 },
    async () => {
      const cacheDir = freshDir("cache");
      const online = renderer({ cacheDir, downloads: true, network: { testOnlyAllowLoopback: true } });
      const chart = { kind: "repository" as const, repository: repo.url, name: "traefik", version: ">=33.0.0 <34" };
      const before = repo.requests.length;
      const [result] = await online.render([release({ chart, releaseName: "edge", namespace: "ingress" })]);
      expect(result).toMatchObject({ ok: true, chart: "traefik", version: "33.2.1", from: repo.url });
      expect(repo.requests.slice(before).map((r) => r.path)).toEqual(["/index.yaml", "/traefik-33.2.1.tgz"]);
      const traefik = servicesOf(result!).find((s) => s.name === "edge-traefik");
      expect(traefik?.selector).toEqual({
        "app.kubernetes.io/name": "traefik",
        "app.kubernetes.io/instance": "edge-ingress",
      });

      const afterOnline = repo.requests.length;
      const [offline] = await renderer({ cacheDir }).render([
        release({ chart, releaseName: "edge", namespace: "ingress" }),
      ]);
      expect(offline).toMatchObject({ ok: true, version: "33.2.1" });
      expect(repo.requests.length).toBe(afterOnline);

      const [none] = await online.render([release({ chart: { ...chart, version: "^99" } })]);
      expect(none).toMatchObject({ ok: false, reason: expect.stringContaining("offers no matching version") });
    },
  );

  test("a chart directory of the repository renders like its archive", { timeout: 60_000 }, async () => {
    const checkout = freshDir("checkout");
    execFileSync("tar", ["-xzf", join(SHARED_CHARTS_DIR, "grafana-8.5.2.tgz"), "-C", checkout]);
    const path = checkout.slice(temp.length + 1) + "/grafana";
    const [result] = await renderer().render([release({ chart: { kind: "directory", path }, releaseName: "mon" })]);
    expect(result).toMatchObject({ ok: true, chart: "grafana", version: "8.5.2", from: path });
    expect(servicesOf(result!)[0]).toMatchObject({
      name: "mon-grafana",
      selector: { "app.kubernetes.io/instance": "mon", "app.kubernetes.io/name": "grafana" },
    });
    const [outside] = await renderer().render([release({ chart: { kind: "directory", path: "../etc" } })]);
    expect(outside).toMatchObject({ ok: false, reason: expect.stringContaining("leaves the repository") });
  });

  test(
    "a chart directory's dependencies are fetched as `helm dependency build` would: a repository's, or this one's for file://",
    { timeout: 90_000 },
    async () => {
      const checkout = freshDir("checkout");
      execFileSync("tar", ["-xzf", join(SHARED_CHARTS_DIR, "grafana-8.5.2.tgz"), "-C", checkout]);
      const umbrella = (name: string, dependencies: string) => {
        mkdirSync(join(checkout, name), { recursive: true });
        writeFileSync(
          join(checkout, name, "Chart.yaml"),
          `apiVersion: v2\nname: ${name}\nversion: 1.0.0\ndependencies:\n${dependencies}`,
        );
        return `${checkout.slice(temp.length + 1)}/${name}`;
      };
      const remote = umbrella(
        "platform",
        "  - {name: redis, version: 20.2.1, repository: https://charts.example.com}\n",
      );
      const local = umbrella("dashboards", "  - {name: grafana, version: 8.5.2, repository: file://../grafana}\n");
      const named = umbrella("named", "  - {name: redis, version: 20.2.1, repository: '@bitnami'}\n");
      const cached = renderer({ cacheDir: offlineCache() });
      const [fromCache, fromHere, byName] = await cached.render([
        release({ key: "a", chart: { kind: "directory", path: remote } }),
        release({ key: "b", chart: { kind: "directory", path: local } }),
        release({ key: "c", chart: { kind: "directory", path: named } }),
      ]);
      expect(fromCache).toMatchObject({ ok: true, chart: "platform", version: "1.0.0" });
      expect(servicesOf(fromCache!).map((service) => service.name)).toContain("demo-redis-master");
      expect(servicesOf(fromHere!).map((service) => service.name)).toContain("demo-grafana");
      expect(byName).toMatchObject({ ok: false, reason: expect.stringContaining("helm repo add") });
      // Not in the cache, downloads off: not rendered, naming the dependency.
      const [missing] = await renderer().render([release({ chart: { kind: "directory", path: remote } })]);
      expect(missing).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/chart platform 1\.0\.0: dependency redis 20\.2\.1: .*not in the chart cache/),
      });
    },
  );

  test(
    "renders are cached on disk by chart, values, release and namespace: helm runs once per distinct render",
    { timeout: 60_000 },
    async () => {
      const cacheDir = offlineCache();
      const log = join(freshDir("log"), "calls");
      const wrapper = join(freshDir("bin"), "helm");
      writeFileSync(
        wrapper,
        `#!/bin/sh\n[ "$1" = template ] && echo x >> ${log}\nexec ${execFileSync("sh", ["-c", `command -v ${HELM_BIN}`])
          .toString()
          .trim()} "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      const env = { ...process.env, HELM_BIN: wrapper };
      const chart = {
        kind: "repository" as const,
        repository: "https://charts.example.com",
        name: "vault",
        version: "0.28.1",
      };
      const calls = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).length : 0);
      const first = await renderer({ cacheDir, env }).render([release({ chart }), release({ key: "r2", chart })]);
      expect(first.every((r) => r.ok)).toBe(true);
      expect(calls()).toBe(1);
      const again = await renderer({ cacheDir, env }).render([release({ chart })]);
      expect(again[0]).toEqual({ ...first[0] });
      expect(calls()).toBe(1);
      await renderer({ cacheDir, env }).render([
        release({ chart, namespace: "other" }),
        release({ chart, values: { ui: { enabled: true } } }),
      ]);
      expect(calls()).toBe(3);
    },
  );

  test("without helm every release answers why", async () => {
    const [result] = await renderer({ cacheDir: offlineCache(), env: { PATH: "/nonexistent" } }).render([
      release({
        chart: { kind: "repository", repository: "https://charts.example.com", name: "vault", version: "0.28.1" },
      }),
    ]);
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/vault 0\.28\.1 was not rendered: helm is not installed/),
    });
  });

  test("a render that exceeds its time or output limit is killed and reported", { timeout: 30_000 }, async () => {
    const chart = {
      kind: "repository" as const,
      repository: "https://charts.example.com",
      name: "prometheus",
      version: "25.27.0",
    };
    const [slow] = await renderer({ cacheDir: offlineCache(), helmLimits: { timeoutMs: 5 } }).render([
      release({ chart }),
    ]);
    expect(slow).toMatchObject({ ok: false, reason: expect.stringContaining("did not finish within 5 ms") });
    const [large] = await renderer({ cacheDir: offlineCache(), helmLimits: { outputBytes: 1000 } }).render([
      release({ chart }),
    ]);
    expect(large).toMatchObject({ ok: false, reason: expect.stringContaining("printed more than 1000 bytes") });
  });

  test("a render over its memory limit fails and says so", { timeout: 30_000 }, async () => {
    const chart = {
      kind: "repository" as const,
      repository: "https://charts.example.com",
      name: "vault",
      version: "0.28.1",
    };
    const [result] = await renderer({ cacheDir: offlineCache(), helmLimits: { memoryBytes: 64 * 1024 * 1024 } }).render(
      [release({ chart })],
    );
    expect(result).toMatchObject({
      ok: false,
      reason: "chart vault 0.28.1: helm template ran out of memory (limit: 67108864 bytes of address space)",
    });
  });

  /** A chart that is not in the cache: these releases are refused before anything would fetch it. */
  const uncachedChart = {
    kind: "repository" as const,
    repository: "https://charts.example.com",
    name: "vault",
    version: "0.28.1",
  };

  test("hostile release names and namespaces never reach helm as flags", async () => {
    const chart = uncachedChart;
    const results = await renderer({ cacheDir: offlineCache() }).render([
      release({ chart, releaseName: "--post-renderer=/bin/sh" }),
      release({ key: "r2", chart, namespace: "--kubeconfig=/etc/x" }),
      release({ key: "r3", chart, apiVersions: ["--post-renderer=x"] }),
    ]);
    for (const result of results) expect(result.ok).toBe(false);
  });

  test("more custom API versions than helm is given: not rendered, saying how many", async () => {
    const chart = uncachedChart;
    const apiVersions = Array.from({ length: MAX_API_VERSIONS + 1 }, (_, i) => `k${i}.example.com/v1`);
    const [result] = await renderer({ cacheDir: offlineCache() }).render([release({ chart, apiVersions })]);
    expect(result).toMatchObject({
      ok: false,
      reason: `the repository shows ${MAX_API_VERSIONS + 1} custom API versions, more than the ${MAX_API_VERSIONS} helm is given`,
    });
  });
});

describe("a chart directory's dependencies", () => {
  test("are bounded together: a chart pulling in more than a chart directory may hold is not rendered", async () => {
    const root = mkdtempSync(join(tmpdir(), "cpb-deps-"));
    try {
      mkdirSync(join(root, "big"), { recursive: true });
      writeFileSync(join(root, "big", "Chart.yaml"), "apiVersion: v2\nname: big\nversion: 1.0.0\n");
      writeFileSync(join(root, "big", "padding.txt"), Buffer.alloc(11 * 1024 * 1024, 0x61));
      mkdirSync(join(root, "umbrella"), { recursive: true });
      writeFileSync(
        join(root, "umbrella", "Chart.yaml"),
        [
          "apiVersion: v2",
          "name: umbrella",
          "version: 1.0.0",
          "dependencies:",
          "  - {name: a, version: 1.0.0, repository: file://../big}",
          "  - {name: b, version: 1.0.0, repository: file://../big}",
          "",
        ].join("\n"),
      );
      const renderer = createChartRenderer({
        cacheDir: join(root, "cache"),
        downloads: false,
        repositoryCharts: diskRepositoryCharts(root),
      });
      const [result] = await renderer.render([release({ chart: { kind: "directory", path: "umbrella" } })]);
      expect(result).toMatchObject({
        ok: false,
        reason: "chart umbrella 1.0.0 with its dependencies is larger than 20971520 bytes",
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
