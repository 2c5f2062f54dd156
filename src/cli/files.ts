// A directory → the SourceFiles the engine reads: manifest paths only, .gitignore respected, large files not read.
import { lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import ignore from "ignore";
import type { Ignore } from "ignore";
import { isManifestPath, MAX_POLICY_FILE_BYTES } from "../policy/api.js";
import type { SourceFile } from "../policy/api.js";
import { CliError, ioError } from "./errors.js";
import type { Progress } from "./progress.js";

/** Never descended into, whatever .gitignore says. */
const ALWAYS_SKIPPED = new Set([".git", "node_modules"]);

interface IgnoreScope {
  /** Path of the directory holding the .gitignore, relative to the root, "" or ending in "/". */
  readonly base: string;
  readonly rules: Ignore;
}

function isIgnored(scopes: readonly IgnoreScope[], path: string, directory: boolean): boolean {
  let ignored = false;
  for (const scope of scopes) {
    if (!path.startsWith(scope.base)) continue;
    const relative = path.slice(scope.base.length) + (directory ? "/" : "");
    const verdict = scope.rules.test(relative);
    if (verdict.ignored) ignored = true;
    else if (verdict.unignored) ignored = false;
  }
  return ignored;
}

function readGitignore(dir: string, base: string): IgnoreScope | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, ".gitignore"), "utf8");
  } catch {
    return undefined;
  }
  return { base, rules: ignore().add(text) };
}

/** Throws a CliError unless `dir` is a readable directory. */
export function assertDirectory(dir: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    throw ioError(error, dir);
  }
  if (!isDirectory) throw new CliError(`${dir}: not a directory`);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lists and reads the manifests under `root`: paths relative to it with forward slashes, sorted. Symbolic links are
 * not followed. Files above MAX_POLICY_FILE_BYTES are listed with `content: null` (the engine reads those over MAX_FILE_BYTES only when they hold a policy).
 */
export function readSourceFiles(root: string, progress?: Progress): SourceFile[] {
  assertDirectory(root);
  const files: SourceFile[] = [];
  const walk = (dir: string, relativeDir: string, scopes: readonly IgnoreScope[]) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      throw ioError(error, dir);
    }
    // Looked up in the listing: trying to read a missing file costs an exception per directory.
    const own = entries.some((entry) => entry.name === ".gitignore") ? readGitignore(dir, relativeDir) : undefined;
    const active = own ? [...scopes, own] : scopes;
    for (const entry of entries) {
      const path = relativeDir + entry.name;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (ALWAYS_SKIPPED.has(entry.name) || isIgnored(active, path, true)) continue;
        walk(full, `${path}/`, active);
      } else if (entry.isFile()) {
        if (!isManifestPath(path) || isIgnored(active, path, false)) continue;
        files.push(readSource(full, path));
        progress?.update(`reading files: ${files.length}`);
      }
      // Symbolic links, sockets, devices: not followed, not read.
    }
  };
  walk(root, "", []);
  return files.sort((a, b) => compareStrings(a.path, b.path));
}

function readSource(full: string, path: string): SourceFile {
  try {
    const size = lstatSync(full).size;
    if (size > MAX_POLICY_FILE_BYTES) return { path, size, content: null };
    const content = readFileSync(full);
    return { path, size: content.byteLength, content };
  } catch (error) {
    throw ioError(error, full);
  }
}
