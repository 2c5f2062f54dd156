// `cilium-policy-bot import-services SNAPSHOT --config FILE`: writes the Services of a cluster snapshot (kubectl get …
// -o json, or - for stdin) into the configuration's `services:`, so that policies naming Services installed outside
// the repository are rewritten exactly. The merge is the engine's; this file only reads and writes.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { definedServiceKeys, importServices, SnapshotError } from "../policy/api.js";
import type { ImportResult } from "../policy/api.js";
import { chartOptions, chartRendererFor } from "./chart-options.js";
import type { ChartCommandOptions } from "./chart-options.js";
import { CliError, ioError } from "./errors.js";
import { readSourceFiles } from "./files.js";

/** A snapshot of thousands of pods is a few tens of MiB of JSON; more is not a snapshot of Services. */
const MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;

export interface ImportServicesOptions extends ChartCommandOptions {
  readonly config: string;
  readonly dir: string;
  readonly all?: boolean;
  readonly dryRun?: boolean;
}

function readSnapshot(path: string): string {
  try {
    const text = readFileSync(path === "-" ? 0 : path, "utf8");
    if (text.length > MAX_SNAPSHOT_BYTES) throw new CliError(`${path}: over ${MAX_SNAPSHOT_BYTES / 1024 / 1024} MiB`);
    return text;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw ioError(error, path === "-" ? "stdin" : path);
  }
}

function readConfigText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    // A configuration that does not exist yet is created.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw ioError(error, path);
  }
}

export function describeImport(result: ImportResult, configPath: string, dryRun: boolean): string {
  const lines: string[] = [];
  for (const service of result.added) lines.push(`${dryRun ? "would add" : "added"} ${service.key}`);
  for (const service of result.updated) lines.push(`${dryRun ? "would update" : "updated"} ${service.key}`);
  for (const service of [...result.added, ...result.updated]) {
    for (const note of service.notes) lines.push(`  ${service.key}: ${note}`);
  }
  for (const skipped of result.skipped) lines.push(`skipped ${skipped.key}: ${skipped.reason}`);
  lines.push(
    `${result.added.length} added, ${result.updated.length} updated, ${result.skipped.length} skipped` +
      `${dryRun ? " (dry run: " + configPath + " not written)" : ` in ${configPath}`}.`,
  );
  return `${lines.join("\n")}\n`;
}

/** Through a temporary file and a rename: a reader sees the old or the new configuration, never half of one. */
function writeFileAtomically(path: string, text: string): void {
  let mode = 0o644;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    mkdirSync(dirname(path), { recursive: true });
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, text, { encoding: "utf8", flag: "wx", mode });
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // Never created, or already renamed.
    }
    throw ioError(error, path);
  }
}

/** Runs the import and returns what to print; writes the configuration unless a dry run. */
export async function runImportServices(snapshotPath: string, options: ImportServicesOptions): Promise<string> {
  const snapshot = readSnapshot(snapshotPath);
  const configPath = resolve(options.config);
  const before = readConfigText(configPath);
  const root = resolve(options.dir);
  const defined = options.all
    ? new Set<string>()
    : await definedServiceKeys(readSourceFiles(root), chartRendererFor(root, options));
  let result: ImportResult;
  try {
    result = importServices(snapshot, before, { defined, all: options.all === true });
  } catch (error) {
    if (error instanceof SnapshotError) {
      throw new CliError(
        `${error.message.startsWith("the configuration") ? configPath : snapshotPath}: ${error.message}`,
      );
    }
    throw error;
  }
  if (options.dryRun) {
    return `${describeImport(result, configPath, true)}${result.text === before ? "" : `--- ${configPath}\n${result.text}`}`;
  }
  if (result.text !== before) writeFileAtomically(configPath, result.text);
  return describeImport(result, configPath, false);
}

export function registerImportServicesCommand(program: Command): void {
  const command = program
    .command("import-services")
    .description(
      "write the Services of a cluster snapshot (kubectl get services,endpointslices,pods,deployments,statefulsets," +
        "daemonsets -A -o json; - for stdin) into the configuration's services",
    )
    .argument("<snapshot>", "the snapshot file, or - for stdin")
    .requiredOption("--config <file>", "configuration file to write (created when missing)")
    .option("--dir <dir>", "repository whose own and chart-made Services are skipped", ".")
    .option("--all", "import Services the repository or its charts define too")
    .option("--dry-run", "print the change instead of writing it");
  // Charts are rendered to know which Services they make: the same chart options as scan and fix.
  chartOptions(command).action(async (snapshot: string, options: ImportServicesOptions) => {
    process.stdout.write(await runImportServices(snapshot, options));
  });
}
