// One measurement in a process of its own, so that peak RSS belongs to it alone:
//   node bench/measure.mjs floor|quick|scan|fix <repository dir>
// prints one JSON line: { mode, files, wallMs, maxRssBytes, ... }. Module loading is not timed; reading the files is.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const [mode, dir] = process.argv.slice(2);
if (!mode || !dir) {
  process.stderr.write("usage: node bench/measure.mjs floor|quick|scan|fix <dir>\n");
  process.exit(2);
}
const dist = new URL("../dist/", import.meta.url);
const YAML_PATH = /\.ya?ml$/i;

/** The CLI's own reader when it exists, so the benchmark measures what users run; else a minimal equivalent. */
async function loadReader() {
  try {
    const files = await import(new URL("cli/files.js", dist).href);
    for (const name of ["readSources", "readSourceFiles", "readDirectory", "readRepository"]) {
      if (typeof files[name] === "function") return { name: `dist/cli/files.js ${name}`, read: files[name] };
    }
  } catch {
    // not built yet: fall through
  }
  return { name: "bench minimal reader", read: readMinimal };
}

function walk(root, at, out) {
  for (const entry of readdirSync(at, { withFileTypes: true })) {
    if (entry.name === ".git" || entry.name === "node_modules") continue;
    const full = join(at, entry.name);
    if (entry.isDirectory()) walk(root, full, out);
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function readMinimal(root) {
  return walk(root, root, [])
    .filter((full) => YAML_PATH.test(full))
    .map((full) => {
      const content = readFileSync(full);
      return { path: relative(root, full).split(sep).join("/"), size: content.byteLength, content };
    });
}

/**
 * The floor: read every YAML file and parse it with the yaml package. With `quick`, the same with the engine's quick
 * reader building the same nodes (yaml for the files it declines): what the reader alone saves.
 */
async function floor(quick) {
  const { parseAllDocuments } = await import("yaml");
  const { quickParse } = quick ? await import(new URL("policy/read/quick-yaml.js", dist).href) : {};
  const decoder = new TextDecoder();
  const started = performance.now();
  let files = 0;
  let documents = 0;
  let declined = 0;
  for (const full of walk(dir, dir, [])) {
    if (!YAML_PATH.test(full)) continue;
    const text = decoder.decode(readFileSync(full));
    const read = quick ? quickParse(text)?.documents : undefined;
    if (quick && !read) declined += 1;
    documents += (read ?? parseAllDocuments(text)).length;
    files += 1;
  }
  return { wallMs: performance.now() - started, files, documents, ...(quick ? { declined } : {}) };
}

async function engine(which) {
  // The V8 flags the CLI runs with (src/cli/v8-tuning.ts): the floor keeps node's defaults.
  const tuning = await import(new URL("cli/v8-tuning.js", dist).href).catch(() => undefined);
  tuning?.tuneV8ForOneShotRun();
  const { DEFAULT_CONFIG } = await import(new URL("policy/config.js", dist).href);
  const { analyse, applyFixes } = await import(new URL("policy/api.js", dist).href);
  const reader = await loadReader();
  const started = performance.now();
  const sources = await reader.read(dir);
  if (which === "scan") {
    const result = await analyse(sources, { config: DEFAULT_CONFIG });
    const wallMs = performance.now() - started;
    const byRule = {};
    for (const finding of result.findings) byRule[finding.ruleId] = (byRule[finding.ruleId] ?? 0) + 1;
    return { wallMs, files: sources.length, reader: reader.name, findings: result.findings.length, byRule };
  }
  try {
    const result = applyFixes(await analyse(sources, { config: DEFAULT_CONFIG }));
    const wallMs = performance.now() - started;
    return { wallMs, files: sources.length, reader: reader.name, changes: result.changes.length };
  } catch (error) {
    return { wallMs: NaN, files: sources.length, reader: reader.name, error: String(error?.message ?? error) };
  }
}

const result = mode === "floor" || mode === "quick" ? await floor(mode === "quick") : await engine(mode);
const usage = process.resourceUsage();
process.stdout.write(`${JSON.stringify({ mode, ...result, maxRssBytes: usage.maxRSS * 1024 })}\n`);
