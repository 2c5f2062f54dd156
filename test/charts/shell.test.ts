// How the shells configure chart rendering: the CLI's per-user cache directory, the app's environment.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
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
