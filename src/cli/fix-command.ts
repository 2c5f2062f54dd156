// `cilium-policy-bot fix [DIR]`: rewrites the rules `scan` reports as fixable, in place (atomically) or, with
// --dry-run, as a unified diff that `git apply` takes.
import { join, resolve } from "node:path";
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import { Option } from "commander";
import type { Command } from "commander";
import { analyse, applyFixes, resolvedFrom, REWRITE } from "../policy/api.js";
import type { FileChange, FixResult, RuleRewrite } from "../policy/api.js";
import { loadConfig } from "./config-file.js";
import { CliError, EXIT } from "./errors.js";
import { readSourceFiles } from "./files.js";
import { writeFilesSafely } from "./safe-fs.js";
import type { WriteSteps } from "./safe-fs.js";
import { Progress } from "./progress.js";
import type { ChartCommandOptions } from "./chart-options.js";
import { chartRendererFor } from "./chart-options.js";
import { configOptions } from "./scan-command.js";

export const FIX_FORMATS = ["text", "json"] as const;
export type FixFormat = (typeof FIX_FORMATS)[number];

export interface FixCommandOptions extends ChartCommandOptions {
  readonly format: FixFormat;
  readonly dryRun?: boolean;
  readonly config?: string;
  readonly ciliumVersion?: string;
}

/** A unified diff of the changes, paths prefixed a/ and b/ as git writes them. */
export function renderDiff(changes: readonly FileChange[]): string {
  return changes
    .map((change) => {
      const patch = createTwoFilesPatch(`a/${change.path}`, `b/${change.path}`, change.before, change.after, "", "", {
        headerOptions: FILE_HEADERS_ONLY,
      });
      // No timestamps after the names: drop the tab the empty headers leave.
      return `diff --git a/${change.path} b/${change.path}\n${patch.replace(/^(---|\+\+\+) (.*)\t$/gm, "$1 $2")}`;
    })
    .join("");
}

/** The JSON contract (`"version": 1`). */
export function renderFixJson(result: FixResult, extra: Record<string, unknown> = {}): string {
  const json = {
    version: 1,
    filesChanged: result.changes.map((change) => change.path),
    rewrites: result.rewrites.map((rewrite) => ({
      file: rewrite.file,
      line: rewrite.line,
      policy: rewrite.policy,
      status: rewrite.status,
      rulesAdded: rewrite.rulesAdded,
      ...(rewrite.message ? { message: rewrite.message } : {}),
      services: rewrite.services.map((service) => ({
        service: service.service,
        resolution: service.resolution,
        ...(service.chart !== undefined ? { chart: service.chart } : {}),
        selector: service.selector,
        ...(service.entities ? { entities: service.entities } : {}),
        ...(service.cidrs ? { cidrs: service.cidrs } : {}),
        ...(service.note ? { note: service.note } : {}),
      })),
    })),
    ...extra,
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

function describeTarget(service: RuleRewrite["services"][number]): string {
  if (service.selector) {
    return Object.entries(service.selector)
      .map(([key, value]) => `${key}=${value}`)
      .join(",");
  }
  if (service.entities) return `entities ${service.entities.join(", ")}`;
  if (service.cidrs) return `CIDRs ${service.cidrs.join(", ")}`;
  return "-";
}

/** A summary per rewrite, with the resolution of each Service and loud warnings for guesses and manual work. */
export function renderFixText(result: FixResult, dryRun: boolean): string {
  const lines: string[] = [];
  for (const rewrite of result.rewrites) {
    const where = `${rewrite.file}:${rewrite.line}${rewrite.policy ? ` (${rewrite.policy})` : ""}`;
    if (rewrite.status === "rewritten") {
      const added = rewrite.rulesAdded > 0 ? `, ${rewrite.rulesAdded} rule(s) appended` : "";
      lines.push(`${dryRun ? "would rewrite" : "rewrote"} ${where}${added}`);
    } else if (rewrite.status === "manual") {
      lines.push(`MANUAL: ${where} left unchanged: ${rewrite.message ?? "a Service could not be resolved"}`);
    } else {
      lines.push(`ERROR: ${where} not rewritten: ${rewrite.message ?? "unknown error"}`);
    }
    for (const service of rewrite.services) {
      lines.push(`  ${service.service}  [${resolvedFrom(service)}]  ${describeTarget(service)}`);
      if (service.resolution === "guessed" && rewrite.status === "rewritten") {
        lines.push(`  WARNING: the selector for ${service.service} is a GUESS: verify it before merging`);
      }
      if (service.note && service.resolution !== "repo") lines.push(`    note: ${service.note}`);
    }
  }
  const count = (status: RuleRewrite["status"]) => result.rewrites.filter((r) => r.status === status).length;
  const bySource = new Map<string, number>();
  for (const rewrite of result.rewrites) {
    for (const service of rewrite.services)
      bySource.set(service.resolution, (bySource.get(service.resolution) ?? 0) + 1);
  }
  const sources = [...bySource].map(([source, n]) => `${source} ${n}`).join(", ");
  lines.push(
    `${count("rewritten")} rule(s) ${dryRun ? "to rewrite" : "rewritten"} in ${result.changes.length} file(s), ` +
      `${count("manual")} left for manual review, ${count("error")} error(s)${sources ? `; services: ${sources}` : ""}.`,
  );
  return `${lines.join("\n")}\n`;
}

/**
 * Writes the changed files (src/cli/safe-fs.ts): every file checked first (a regular file inside the directory,
 * writable by its mode, unchanged since it was read), none written when one fails; owners, modes and hard links
 * kept; each file ends with its old or its new text, and no temporary file is left, whatever fails or interrupts.
 * Returns a signal that came while writing, for the caller to end with once it has reported.
 */
export async function writeChanges(
  root: string,
  changes: readonly FileChange[],
  steps?: WriteSteps,
): Promise<{ written: readonly string[]; signal?: NodeJS.Signals }> {
  const outcome = await writeFilesSafely(root, changes, steps);
  if (outcome.refused.length > 0) {
    const list = outcome.refused.map(({ path, reason }) => `${join(root, path)}: ${reason}`).join("; ");
    const none = outcome.written.length === 0 ? "no file was changed" : `${outcome.written.length} file(s) written`;
    throw new CliError(`fix: not written (${none}): ${list}`);
  }
  return { written: outcome.written, ...(outcome.signal ? { signal: outcome.signal } : {}) };
}

/** Runs the fix of `dir`: writes the files (unless dry-run) and returns what to print and the exit code. */
export async function runFix(
  dir: string,
  options: FixCommandOptions,
): Promise<{ output: string; diagnostics: string; exitCode: number; signal?: NodeJS.Signals }> {
  const root = resolve(dir);
  const config = loadConfig(root, options);
  const progress = new Progress();
  const sources = readSourceFiles(root, progress);
  progress.update(`fixing ${sources.length} files…`);
  const analysis = await analyse(sources, { config, charts: chartRendererFor(root, options) });
  const result = applyFixes(analysis);
  const cilium = `Cilium versions judged: ${analysis.cilium.range} (${analysis.cilium.source}).\n`;
  progress.done();
  const dryRun = options.dryRun === true;
  const signal = dryRun ? undefined : (await writeChanges(root, result.changes)).signal;
  if (options.format === "json") {
    const extra = {
      ...(dryRun ? { dryRun: true, diff: renderDiff(result.changes) } : { dryRun: false }),
      ciliumVersion: analysis.cilium,
    };
    return { output: renderFixJson(result, extra), diagnostics: "", exitCode: EXIT.ok, ...(signal ? { signal } : {}) };
  }
  const summary = renderFixText(result, dryRun) + cilium;
  // With --dry-run, stdout is the patch alone (pipe it into `git apply`); the summary goes to stderr.
  return dryRun
    ? { output: renderDiff(result.changes), diagnostics: summary, exitCode: EXIT.ok }
    : { output: summary, diagnostics: "", exitCode: EXIT.ok, ...(signal ? { signal } : {}) };
}

export function registerFixCommand(program: Command): void {
  const command = program
    .command("fix")
    .description(`${REWRITE.title} in the policies under DIR (byte-preserving)`)
    .argument("[dir]", "directory to fix", ".")
    .option("--dry-run", "print a unified diff instead of writing files")
    .addOption(new Option("--format <format>", "summary format").choices(FIX_FORMATS).default("text"));
  configOptions(command).action(async (dir: string, options: FixCommandOptions) => {
    const { output, diagnostics, exitCode, signal } = await runFix(dir, options);
    if (diagnostics) process.stderr.write(diagnostics);
    process.stdout.write(output);
    process.exitCode = exitCode;
    // Interrupted while writing: every file was finished first; now end as the signal asked.
    if (signal) process.kill(process.pid, signal);
  });
}
