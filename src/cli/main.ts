#!/usr/bin/env node
// The command line: `scan` and `fix` over a directory, `import-services` from a cluster snapshot. Each command lives in its own module and registers itself.
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { exitCodeFor } from "./errors.js";
import { registerFixCommand } from "./fix-command.js";
import { registerImportServicesCommand } from "./import-services-command.js";
import { registerScanCommand } from "./scan-command.js";
import { tuneV8ForOneShotRun } from "./v8-tuning.js";

function packageVersion(): string {
  // Two levels up from both src/cli and dist/cli.
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

function createProgram(): Command {
  const program = new Command("cilium-policy-bot")
    .description("Finds and rewrites CiliumNetworkPolicy rules that Cilium rejects or enforces wrongly.")
    .version(packageVersion())
    // Usage errors are one line: no "did you mean" suggestion under them.
    .showSuggestionAfterError(false)
    .exitOverride();
  registerScanCommand(program);
  registerFixCommand(program);
  registerImportServicesCommand(program);
  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = createProgram();
  // Subcommands inherit exitOverride only when set before they are added: set it on each.
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  }
}

tuneV8ForOneShotRun();
await main(process.argv);
