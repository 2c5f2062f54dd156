// `cilium-policy-bot fix [DIR]`: rewrites the rules `scan` reports as fixable, in place (atomically) or, with
// --dry-run, as a unified diff that `git apply` takes.
import { chmodSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import { Option } from "commander";
import type { Command } from "commander";
import { analyse, applyFixes, resolvedFrom } from "../policy/api.js";
import type { FileChange, FixResult, RuleRewrite } from "../policy/api.js";
import { loadConfig } from "./config-file.js";
import { EXIT, ioError } from "./errors.js";
import { readSourceFiles } from "./files.js";
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
 * Writes every changed file through a temporary file in its directory and a rename: a reader sees the old or the new
 * file, never a half-written one. All temporary files are written before the first rename, so a failure while
 * writing leaves every file untouched.
 */
export function writeChanges(root: string, changes: readonly FileChange[]): void {
  const staged: Array<{ temp: string; target: string }> = [];
  try {
    for (const change of changes) {
      const target = join(root, change.path);
      const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
      let mode: number;
      try {
        mode = statSync(target).mode & 0o7777;
      } catch (error) {
        throw ioError(error, target);
      }
      staged.push({ temp, target });
      try {
        writeFileSync(temp, change.after, { encoding: "utf8", flag: "wx", mode });
        chmodSync(temp, mode);
      } catch (error) {
        throw ioError(error, temp);
      }
    }
  } catch (error) {
    for (const { temp } of staged) {
      try {
        unlinkSync(temp);
      } catch {
        // Never created: nothing to clean up.
      }
    }
    throw error;
  }
  for (const { temp, target } of staged) {
    try {
      renameSync(temp, target);
    } catch (error) {
      throw ioError(error, target);
    }
  }
}

/** Runs the fix of `dir`: writes the files (unless dry-run) and returns what to print and the exit code. */
export async function runFix(
  dir: string,
  options: FixCommandOptions,
): Promise<{ output: string; diagnostics: string; exitCode: number }> {
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
  if (!dryRun) writeChanges(root, result.changes);
  if (options.format === "json") {
    const extra = {
      ...(dryRun ? { dryRun: true, diff: renderDiff(result.changes) } : { dryRun: false }),
      ciliumVersion: analysis.cilium,
    };
    return { output: renderFixJson(result, extra), diagnostics: "", exitCode: EXIT.ok };
  }
  const summary = renderFixText(result, dryRun) + cilium;
  // With --dry-run, stdout is the patch alone (pipe it into `git apply`); the summary goes to stderr.
  return dryRun
    ? { output: renderDiff(result.changes), diagnostics: summary, exitCode: EXIT.ok }
    : { output: summary, diagnostics: "", exitCode: EXIT.ok };
}

export function registerFixCommand(program: Command): void {
  const command = program
    .command("fix")
    .description("rewrite toServices + toPorts rules under DIR into toEndpoints (byte-preserving)")
    .argument("[dir]", "directory to fix", ".")
    .option("--dry-run", "print a unified diff instead of writing files")
    .addOption(new Option("--format <format>", "summary format").choices(FIX_FORMATS).default("text"));
  configOptions(command).action(async (dir: string, options: FixCommandOptions) => {
    const { output, diagnostics, exitCode } = await runFix(dir, options);
    if (diagnostics) process.stderr.write(diagnostics);
    process.stdout.write(output);
    process.exitCode = exitCode;
  });
}
