#!/usr/bin/env node
// The demo `npm run demo` runs after building: scan the example repository, then show the diff `fix` would make.
// Findings are expected there, so the demo succeeds when the CLI ran and reported, whatever its exit code 1 says.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "dist/cli/main.js");
const example = "examples/gitops-repo";

function heading(text) {
  process.stdout.write(`\n=== ${text} ===\n\n`);
}

/** Runs the CLI with inherited output; fails the demo only on a usage or I/O error (exit code 2) or a crash. */
function run(args) {
  process.stdout.write(`$ cilium-policy-bot ${args.join(" ")}\n`);
  const result = spawnSync(process.execPath, [main, ...args], { cwd: root, stdio: "inherit" });
  if (result.error) throw result.error;
  if (result.status !== 0 && result.status !== 1) {
    process.stderr.write(`demo: cilium-policy-bot ${args[0]} exited with ${result.status ?? result.signal}\n`);
    process.exit(1);
  }
}

if (!existsSync(main)) {
  process.stderr.write("demo: dist/cli/main.js is missing: run `npm run build` first (npm run demo does)\n");
  process.exit(1);
}

heading(`Scan of ${example}`);
run(["scan", example]);

heading(`What the follow-up pull request would change (fix --dry-run)`);
run(["fix", example, "--dry-run"]);
