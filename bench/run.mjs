// `npm run bench`: prints Markdown tables of the figures the README shows.
//   BENCH_SIZES=1000,10000  apps per generated repository (4 files per app)
//   BENCH_RUNS=3            runs per measurement; the median wall time and the largest peak RSS are shown
//   BENCH_ONLY=engine,api,latency   which parts to run (default: all that can run)
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { generateRepository } from "./generate.mjs";

const sizes = (process.env.BENCH_SIZES ?? "1000,10000").split(",").map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const only = new Set((process.env.BENCH_ONLY ?? "engine,api,latency").split(","));
const measureScript = fileURLToPath(new URL("./measure.mjs", import.meta.url));
const MODES = ["floor", "scan", "fix"];

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
      for (const mode of MODES) {
        const samples = [];
        for (let i = 0; i < runs; i++) samples.push(measure(mode, repo.dir));
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
          rows.push(`| ${apps} | ${repo.files} | ${mode} | n/a | n/a | n/a | n/a |`);
          continue;
        }
        const ratio = results.floor ? (r.wallMs / results.floor.wallMs).toFixed(2) : "n/a";
        const filesPerSecond = Math.round(r.files / (r.wallMs / 1000));
        rows.push(
          `| ${apps} | ${repo.files} | ${mode} | ${(r.wallMs / 1000).toFixed(2)} | ${filesPerSecond} | ${mb(r.maxRssBytes)} | ${ratio} |`,
        );
        if (mode === "scan") notes.push(`scan at ${apps} apps: ${JSON.stringify(r.extra.byRule)} (${r.extra.reader})`);
        if (mode === "fix") notes.push(`fix at ${apps} apps: ${r.extra.changes} files changed`);
      }
    } finally {
      rmSync(repo.dir, { recursive: true, force: true });
    }
  }
  console.log("\n### Engine\n");
  console.log(`Machine: ${machine()}. Median of ${runs} runs, each in its own process (peak RSS per process).\n`);
  console.log("| apps | files | what | wall (s) | files/s | peak RSS (MB) | × floor |");
  console.log("| ---: | ---: | --- | ---: | ---: | ---: | ---: |");
  for (const row of rows) console.log(row);
  console.log("\nfloor = read every YAML file and `parseAllDocuments` it with the same `yaml` package, nothing else.");
  console.log("Goals: scan ≤ 0.6 × floor; peak RSS < 300 MB at 40,000 files.\n");
  for (const note of notes) console.log(`- ${note}`);
}

async function optional(name, file) {
  if (!only.has(name)) return;
  try {
    const part = await import(new URL(file, import.meta.url).href);
    await part.run({ machine: machine() });
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND") console.log(`\n(${name}: not available yet: ${error.message})`);
    else throw error;
  }
}

if (only.has("engine")) engineTable();
await optional("api", "./api.mjs");
await optional("latency", "./latency.mjs");
