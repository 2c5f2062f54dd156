// `npm run bench`: prints Markdown tables of the figures the README shows.
//   BENCH_SIZES=1000,10000  apps per generated repository (4 files per app)
//   BENCH_RUNS=5            runs per measurement (default: 5 up to 1,000 apps, 3 above), floor, scan and fix taking
//                           turns so that a slower spell of a shared machine falls on all three; the median wall time
//                           and the largest peak RSS are shown
//   BENCH_ONLY=engine,api,latency   which parts to run (default: all that can run)
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { generateRepository } from "./generate.mjs";

const sizes = (process.env.BENCH_SIZES ?? "1000,10000").split(",").map(Number);
const runsFor = (apps) => Number(process.env.BENCH_RUNS ?? (apps <= 1000 ? 5 : 3));
const only = new Set((process.env.BENCH_ONLY ?? "engine,api,latency").split(","));
const measureScript = fileURLToPath(new URL("./measure.mjs", import.meta.url));
const MODES = ["floor", "quick", "scan", "fix"];

export function machine() {
  let model = cpus()[0]?.model ?? "unknown";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) model = line.split(":")[1].trim();
  } catch {
    // not Linux: os.cpus() is enough
  }
  const gib = (totalmem() / 1024 ** 3).toFixed(0);
  return `${model}, ${cpus().length} cores, ${gib} GiB, Node ${process.versions.node}, ${process.platform}`;
}

function measure(mode, dir) {
  const out = execFileSync(process.execPath, [measureScript, mode, dir], { encoding: "utf8", maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split("\n").at(-1));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mb = (bytes) => (bytes / 1024 ** 2).toFixed(0);

function engineTable() {
  const rows = [];
  const notes = [];
  for (const apps of sizes) {
    const repo = generateRepository(apps);
    try {
      const results = {};
      const samplesOf = Object.fromEntries(MODES.map((mode) => [mode, []]));
      for (let i = 0; i < runsFor(apps); i++) for (const mode of MODES) samplesOf[mode].push(measure(mode, repo.dir));
      for (const mode of MODES) {
        const samples = samplesOf[mode];
        const failed = samples.find((s) => s.error);
        if (failed) {
          notes.push(`${mode} at ${apps} apps: ${failed.error}`);
          continue;
        }
        results[mode] = {
          wallMs: median(samples.map((s) => s.wallMs)),
          maxRssBytes: Math.max(...samples.map((s) => s.maxRssBytes)),
          files: samples[0].files,
          extra: samples[0],
        };
      }
      for (const mode of MODES) {
        const r = results[mode];
        if (!r) {
          rows.push(`| ${apps} | ${repo.files} | ${mode} | n/a | n/a | n/a | n/a | ${runsFor(apps)} |`);
          continue;
        }
        const ratio = results.floor ? (r.wallMs / results.floor.wallMs).toFixed(2) : "n/a";
        const filesPerSecond = Math.round(r.files / (r.wallMs / 1000));
        rows.push(
          `| ${apps} | ${repo.files} | ${mode} | ${(r.wallMs / 1000).toFixed(2)} | ${filesPerSecond} | ${mb(r.maxRssBytes)} | ${ratio} | ${runsFor(apps)} |`,
        );
        if (mode === "quick") notes.push(`quick at ${apps} apps: ${r.extra.declined} of ${r.files} files declined`);
        if (mode === "scan") notes.push(`scan at ${apps} apps: ${JSON.stringify(r.extra.byRule)} (${r.extra.reader})`);
        if (mode === "fix") notes.push(`fix at ${apps} apps: ${r.extra.changes} files changed`);
      }
    } finally {
      rmSync(repo.dir, { recursive: true, force: true });
    }
  }
  console.log("\n### Engine\n");
  console.log("Median wall time of the runs, each in its own process (peak RSS per process, the largest shown).\n");
  console.log("| apps | files | what | wall (s) | files/s | peak RSS (MB) | × floor | runs |");
  console.log("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) console.log(row);
  console.log("\nfloor = read every YAML file and `parseAllDocuments` it with the same `yaml` package, nothing else.");
  console.log("quick = the floor with the engine's quick reader building the same nodes (yaml where it declines).");
  console.log("Goals: scan ≤ 0.6 × floor; peak RSS < 300 MB at 40,000 files.\n");
  for (const note of notes) console.log(`- ${note}`);
}

async function githubTables() {
  const { apiBudget, latency, loadHelpers } = await import("./github.mjs");
  const helpers = await loadHelpers();
  if (only.has("api")) {
    const rows = await apiBudget(helpers, [50, 5000]);
    console.log("\n### GitHub API requests for one pull_request event touching one policy\n");
    console.log(
      "The app against the end-to-end GitHub stand-in; the app's identity lookup (once per process) excluded.\n",
    );
    console.log(
      "| repository files | API requests | comments | check runs | follow-up PRs | files in the follow-up | OpenAPI violations |",
    );
    console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const row of rows) {
      console.log(
        `| ${row.files} | ${row.requests} | ${row.comments} | ${row.checkRuns} | ${row.followUps} | ${row.filesRewritten} | ${row.violations} |`,
      );
    }
    console.log(
      "\nGoal: the same count for both sizes, at most 13 (an opened event, no configuration file). Requests, in order:\n",
    );
    for (const row of rows) console.log(`- ${row.files} files: ${row.routes.join(", ")}`);
  }
  if (only.has("latency")) {
    const queues = [["in-process", undefined]];
    const redisUrl = process.env.REDIS_URL ?? process.env.REDIS_TEST_URL;
    if (redisUrl) {
      const { RedisJobQueue } = await import(new URL("../dist/github/redis-queue.js", import.meta.url).href);
      const quiet = { info() {}, warn() {}, error: (object, message) => console.error(message, object) };
      queues.push([
        "Redis (BullMQ)",
        () => new RedisJobQueue({ url: redisUrl, logger: quiet, prefix: `bench-${Date.now()}` }),
      ]);
    }
    console.log("\n### Webhook latency (stand-in answering at once, 50-file repository)\n");
    console.log("| queue | events | delivery → comment p50 (ms) | p95 (ms) | webhook answer p95 (ms) |");
    console.log("| --- | --- | ---: | ---: | ---: |");
    const notes = [];
    for (const [name, make] of queues) {
      const result = await latency(helpers, { queue: make?.() });
      notes.push(
        `${name}: the stand-in's own git subprocesses (synchronous, in the app's process) took ` +
          `${result.sequential.standInGitMs} ms per event in a row`,
      );
      console.log(
        `| ${name} | 100 in a row | ${result.sequential.p50} | ${result.sequential.p95} | ${result.sequential.answerP95} |`,
      );
      console.log(
        `| ${name} | 20 at once | ${result.concurrent.p50} | ${result.concurrent.p95} | ${result.concurrent.answerP95} |`,
      );
    }
    console.log("");
    for (const note of notes) console.log(`- ${note}`);
  }
}

console.log(`# cilium-policy-bot benchmarks\n\nMachine: ${machine()}.`);
if (only.has("engine")) engineTable();
if (only.has("api") || only.has("latency")) await githubTables();
