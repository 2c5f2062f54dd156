// Chart rendering figures: a generated repository with 20 Flux HelmReleases of the shared charts (../shared/charts),
// each in a namespace of its own, and one CiliumNetworkPolicy per release naming every Service the release renders
// through toServices + toPorts. `fix` through the built CLI (as users run it), offline from a chart cache holding the
// archives:
//   without charts  the same repository with an empty chart cache (every release falls back to a guess)
//   cold            archives in the cache, no renders yet: 20 helm template runs
//   warm            the renders of the previous run in the cache: no helm run
// Goal: warm adds ≤ 0.2 s to fix. Also the app's time per pull_request event (webhook delivery → comment, through the
// GitHub stand-in) on the same repository, without charts, with a cold and with a warm render cache.
// Run: npm run build && node bench/charts.mjs   (BENCH_RUNS=3 by default)
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SHARED_CHARTS = join(root, "../shared/charts");
const MAIN = join(root, "dist/cli/main.js");
const RELEASES = 20;
const runs = Number(process.env.BENCH_RUNS ?? 3);

/** The shared charts with the Services of their default render (release demo), renamed for each release. */
function sharedCharts() {
  const data = JSON.parse(readFileSync(join(SHARED_CHARTS, "services.json"), "utf8"));
  return Object.entries(data.charts).map(([archive, chart]) => {
    const [, name, version] = /^(.*)-(v?\d+\.\d+\.\d+)\.tgz$/.exec(archive);
    return { archive, name, version, services: chart.renders[0].services.filter((s) => s.selector) };
  });
}

export function chartRepository(charts) {
  const files = {};
  for (let i = 0; i < RELEASES; i++) {
    const chart = charts[i % charts.length];
    const release = `r${String(i + 1).padStart(2, "0")}`;
    const namespace = `${chart.name}-${release}`;
    const dir = `clusters/prod/${namespace}`;
    files[`${dir}/repository.yaml`] = [
      "apiVersion: source.toolkit.fluxcd.io/v1",
      "kind: HelmRepository",
      `metadata: {name: ${chart.name}, namespace: ${namespace}}`,
      `spec: {url: "https://charts.example.org/${chart.name}"}`,
      "",
    ].join("\n");
    files[`${dir}/release.yaml`] = [
      "apiVersion: helm.toolkit.fluxcd.io/v2",
      "kind: HelmRelease",
      `metadata: {name: ${release}, namespace: ${namespace}}`,
      "spec:",
      `  chart: {spec: {chart: ${chart.name}, version: "${chart.version}", sourceRef: {kind: HelmRepository, name: ${chart.name}}}}`,
      "",
    ].join("\n");
    const rules = chart.services.map((service) =>
      [
        `    - toServices: [{k8sService: {serviceName: ${service.name.replace(/^demo-/, `${release}-`)}, namespace: ${namespace}}}]`,
        `      toPorts: [{ports: [${service.ports.map((p) => `{port: "${p.port}", protocol: ${p.protocol}}`).join(", ")}]}]`,
      ].join("\n"),
    );
    files[`apps/client-${release}/policy.yaml`] = [
      "apiVersion: cilium.io/v2",
      "kind: CiliumNetworkPolicy",
      `metadata: {name: to-${release}, namespace: client-${release}}`,
      "spec:",
      "  endpointSelector: {matchLabels: {app: client}}",
      "  egress:",
      ...rules,
      "",
    ].join("\n");
  }
  return files;
}

function writeTree(dir, files) {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** One `fix` of a fresh copy of the repository; wall time of the whole CLI process. */
function fixOnce(files, cache, env) {
  const repo = mkdtempSync(join(tmpdir(), "cpb-bench-charts-repo-"));
  try {
    writeTree(repo, files);
    const started = performance.now();
    const run = spawnSync(
      process.execPath,
      [MAIN, "fix", repo, "--offline", "--chart-cache", cache, "--format", "json"],
      {
        encoding: "utf8",
        env,
        maxBuffer: 1 << 26,
      },
    );
    const wallMs = performance.now() - started;
    if (run.status !== 0) throw new Error(`fix exited ${run.status}: ${run.stderr}`);
    const json = JSON.parse(run.stdout);
    const resolutions = {};
    for (const rewrite of json.rewrites) {
      for (const service of rewrite.services)
        resolutions[service.resolution] = (resolutions[service.resolution] ?? 0) + 1;
    }
    return { wallMs, resolutions };
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

export function chartBench() {
  if (!existsSync(SHARED_CHARTS)) return { skipped: `../shared/charts is missing (expected at ${SHARED_CHARTS})` };
  const charts = sharedCharts();
  const files = chartRepository(charts);
  const work = mkdtempSync(join(tmpdir(), "cpb-bench-charts-"));
  const env = { ...process.env, HOME: join(work, "home"), XDG_CACHE_HOME: join(work, "xdg") };
  try {
    const empty = join(work, "empty-cache");
    const cache = join(work, "cache");
    mkdirSync(empty);
    mkdirSync(cache);
    for (const chart of charts) copyFileSync(join(SHARED_CHARTS, chart.archive), join(cache, chart.archive));
    const samples = { without: [], cold: [], warm: [] };
    let last = {};
    for (let i = 0; i < runs; i++) {
      rmSync(join(empty, "renders"), { recursive: true, force: true });
      samples.without.push(fixOnce(files, empty, env));
      rmSync(join(cache, "renders"), { recursive: true, force: true });
      samples.cold.push(fixOnce(files, cache, env));
      samples.warm.push((last = fixOnce(files, cache, env)));
    }
    const helm = execFileSync(process.env.HELM_BIN || "helm", ["version", "--short"], { encoding: "utf8" }).trim();
    return {
      files: Object.keys(files).length,
      releases: RELEASES,
      helm,
      withoutMs: median(samples.without.map((s) => s.wallMs)),
      coldMs: median(samples.cold.map((s) => s.wallMs)),
      warmMs: median(samples.warm.map((s) => s.wallMs)),
      resolutionsWithout: samples.without[0].resolutions,
      resolutionsWarm: last.resolutions,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The app's delivery → comment time on the 20-release repository: PRs that change one policy. */
export async function appPerEvent(events = 10) {
  if (!existsSync(SHARED_CHARTS)) return { skipped: "../shared/charts is missing" };
  const { loadHelpers, commitAll, deliverAndTime } = await import("./github.mjs");
  const helpers = await loadHelpers();
  const { createChartService } = await import(new URL("../.bench/build/src/charts/renderer.js", import.meta.url).href);
  const charts = sharedCharts();
  const files = chartRepository(charts);
  const entries = Object.entries(files).map(([path, text]) => ({ path, text }));
  const work = mkdtempSync(join(tmpdir(), "cpb-bench-app-charts-"));
  const results = {};
  try {
    for (const mode of ["without charts", "cold then warm"]) {
      const cacheDir = join(work, mode.replace(/\W+/g, "-"));
      mkdirSync(cacheDir);
      for (const chart of charts) copyFileSync(join(SHARED_CHARTS, chart.archive), join(cacheDir, chart.archive));
      const keys = helpers.generateAppKeys();
      const standIn = new helpers.GitHubStandIn({ ...helpers.TEST_REPOSITORY, appId: 4711, publicKey: keys.publicKey });
      await standIn.start();
      const startedAt = Date.now();
      commitAll(standIn.git, "main", entries);
      const app = await helpers.startApp({
        appId: 4711,
        keys,
        secret: "bench-webhook-secret",
        baseUrl: standIn.url,
        charts: mode === "without charts" ? null : createChartService({ cacheDir, downloads: false }),
      });
      const env = { app, standIn, startedAt };
      let branches = 0;
      const openPr = () => {
        const branch = `change-${++branches}`;
        const path = "apps/client-r01/policy.yaml";
        standIn.git.commit(
          branch,
          { [path]: `${files[path]}# change ${branch}\n` },
          `change ${branch}`,
          "refs/heads/main",
        );
        return standIn.openPullRequest(branch);
      };
      try {
        const first = await deliverAndTime(helpers, env, openPr());
        await app.queue.idle();
        const samples = [];
        for (let i = 0; i < events; i++) {
          samples.push((await deliverAndTime(helpers, env, openPr())).toComment);
          await app.queue.idle();
        }
        results[mode] = { firstMs: first.toComment, medianMs: median(samples), events };
      } finally {
        await app.stop();
        await standIn.stop();
        standIn.git.remove();
      }
    }
    return results;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = chartBench();
  if (r.skipped) console.log(`charts bench skipped: ${r.skipped}`);
  else {
    console.log(
      `\n### fix with Helm charts (${r.releases} HelmReleases, ${r.files} files, ${r.helm}, ${runs} runs, median)\n`,
    );
    console.log("| chart cache | fix wall (s) | added by charts (s) | Services resolved |");
    console.log("| --- | ---: | ---: | --- |");
    const fmt = (ms) => (ms / 1000).toFixed(2);
    const res = (o) =>
      Object.entries(o)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
    console.log(`| empty (no chart rendered) | ${fmt(r.withoutMs)} | – | ${res(r.resolutionsWithout)} |`);
    console.log(
      `| cold (archives, no renders) | ${fmt(r.coldMs)} | ${fmt(r.coldMs - r.withoutMs)} | ${res(r.resolutionsWarm)} |`,
    );
    console.log(
      `| warm (renders cached) | ${fmt(r.warmMs)} | ${fmt(r.warmMs - r.withoutMs)} | ${res(r.resolutionsWarm)} |`,
    );
    console.log("\nGoal: warm adds ≤ 0.2 s to fix.");
  }
  const app = await appPerEvent();
  if (app.skipped) console.log(`app bench skipped: ${app.skipped}`);
  else {
    console.log("\n### The app per pull_request event on the same repository (delivery → comment, GitHub stand-in)\n");
    console.log("| charts | first event (ms) | next events, median (ms) |");
    console.log("| --- | ---: | ---: |");
    const without = app["without charts"];
    const charts = app["cold then warm"];
    console.log(`| not rendered | ${without.firstMs} | ${without.medianMs} (${without.events} events) |`);
    console.log(
      `| rendered: first cold, then warm | ${charts.firstMs} | ${charts.medianMs} (${charts.events} events) |`,
    );
  }
}
