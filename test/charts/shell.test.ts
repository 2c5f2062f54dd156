// How the shells configure chart rendering: the CLI's per-user cache directory, the app's environment.
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ChartCache } from "../../src/charts/chart-cache.js";
import { ANALYSIS_LIMITS, createChartRenderer } from "../../src/charts/renderer.js";
import { credentialsFromEnv } from "../../src/charts/credentials.js";
import { appChartSettings, defaultChartCacheDir } from "../../src/charts/shell.js";

describe("chart settings", () => {
  test("the CLI's default cache is per user: XDG_CACHE_HOME, else ~/.cache", () => {
    expect(defaultChartCacheDir({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" })).toBe(
      "/x/cache/cilium-policy-bot/charts",
    );
    expect(defaultChartCacheDir({ HOME: "/home/u" })).toBe("/home/u/.cache/cilium-policy-bot/charts");
  });

  test("the app: CHART_CACHE_DIR, downloads on unless CHART_DOWNLOADS=off", () => {
    expect(appChartSettings({ CHART_CACHE_DIR: "/var/cache/c" })).toEqual({
      cacheDir: "/var/cache/c",
      downloads: true,
    });
    expect(appChartSettings({ CHART_CACHE_DIR: "/c", CHART_DOWNLOADS: "off" }).downloads).toBe(false);
    expect(appChartSettings({ CHART_CACHE_DIR: "/c", CHART_DOWNLOADS: "OFF" }).downloads).toBe(false);
    expect(appChartSettings({ CHART_CACHE_DIR: "/c", CHART_DOWNLOADS: "on" }).downloads).toBe(true);
    expect(() => appChartSettings({ CHART_DOWNLOADS: "sometimes" })).toThrow(/CHART_DOWNLOADS must be "on" or "off"/);
  });

  test("credentials from CHART_CREDENTIALS; a malformed value is an error, not silently no credentials", () => {
    const [credential] = credentialsFromEnv({ CHART_CREDENTIALS: '[{"url":"oci://ghcr.io/org","token":"t"}]' });
    expect(credential?.url.href).toBe("https://ghcr.io/org");
    expect(credential?.authorization).toBe("Bearer t");
    expect(credentialsFromEnv({})).toEqual([]);
    expect(() => credentialsFromEnv({ CHART_CREDENTIALS: "nope" })).toThrow(/not JSON/);
  });
});

describe("one analysis is bounded", () => {
  test("releases beyond the limit are not rendered, and say why", async () => {
    const renderer = createChartRenderer({
      cacheDir: mkdtempSync(join(tmpdir(), "cpb-limits-")),
      downloads: false,
      repositoryCharts: { files: async () => ({ error: "x: no such directory in the repository" }) },
    });
    const releases = Array.from({ length: ANALYSIS_LIMITS.releases + 1 }, (_, i) => ({
      key: `r${i}`,
      installer: "HelmRelease" as const,
      releaseName: `r${i}`,
      namespace: "demo",
      chart: { kind: "directory" as const, path: "x" },
      values: {},
      apiVersions: [],
      location: { file: "r.yaml", line: 1, column: 1 },
    }));
    const results = await renderer.render(releases);
    expect(results[0]).toEqual({
      key: "r0",
      ok: false,
      reason: "chart directory x: no such directory in the repository",
    });
    expect(results.at(-1)).toEqual({
      key: `r${ANALYSIS_LIMITS.releases}`,
      ok: false,
      reason: `not rendered: the repository installs more than ${ANALYSIS_LIMITS.releases} chart releases`,
    });
  });
});

describe("the chart cache stays within its size", () => {
  test("the least recently used downloads and renders go first; the archives at the top are never removed", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpb-prune-"));
    const cache = new ChartCache(dir, 1000);
    writeFileSync(join(dir, "vault-0.28.1.tgz"), "x".repeat(5000)); // a person's archive: not counted, not removed
    cache.writeRender("old", "a".repeat(400));
    cache.writeRender("used", "b".repeat(400));
    const stored = cache.store("grafana", "https://grafana.github.io/helm-charts", "8.5.2", new Uint8Array(400));
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(dir, "renders/old.yaml"), past, past);
    utimesSync(join(dir, "renders/used.yaml"), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    expect(cache.readRender("used")).toBe("b".repeat(400)); // reading marks it used
    expect(cache.prune()).toBe(1);
    expect(existsSync(join(dir, "renders/old.yaml"))).toBe(false);
    expect(cache.readRender("used")).not.toBeNull();
    expect(existsSync(stored)).toBe(true);
    expect(existsSync(join(dir, "vault-0.28.1.tgz"))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  test("CHART_CACHE_MAX_MIB sets the app's bound", () => {
    expect(appChartSettings({ CHART_CACHE_DIR: "/c", CHART_CACHE_MAX_MIB: "512" }).cacheBytes).toBe(512 * 1024 * 1024);
    expect(() => appChartSettings({ CHART_CACHE_MAX_MIB: "lots" })).toThrow(/whole number/);
  });
});
