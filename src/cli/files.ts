// A directory → the SourceFiles the engine reads: manifest paths only, .gitignore respected, large files not read.
// Each file is read once, through one descriptor (open, fstat, read, close): as cheap as reading it whole.
import { readdirSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { spawnSync } from "node:child_process";
import { isManifestPath, MAX_POLICY_FILE_BYTES, RepositoryFileFilter } from "../policy/api.js";
import type { SourceFile } from "../policy/api.js";
import { CliError, ioError } from "./errors.js";
import { NotReadError, readRegularFile, readRegularFileUpTo } from "./safe-fs.js";
import type { Progress } from "./progress.js";

/**
 * The files git has under `root` (tracked, or untracked and not ignored; paths relative to it), or undefined when
 * `root` is not in a git work tree, git is not installed, or git ignores `root` itself: the engine's file filter then
 * reads the .gitignore files under it.
 */
function trackedFiles(root: string): ReadonlySet<string> | undefined {
  // Asked first: outside a work tree (or without git) this one call is all it costs.
  const prefix = spawnSync("git", ["-C", root, "rev-parse", "--show-prefix"], { encoding: "utf8", timeout: 10_000 });
  if (prefix.status !== 0 || typeof prefix.stdout !== "string") return undefined;
  // A directory git ignores as a whole (rendered output, say) is scanned for itself, its own .gitignore files applying.
  const ignored = spawnSync("git", ["-C", root, "check-ignore", "-q", "."], { stdio: "ignore", timeout: 10_000 });
  if (ignored.status === 0) return undefined;
  const run = spawnSync(
    "git",
    ["-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name", "--", "."],
    {
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      timeout: 60_000,
    },
  );
  if (run.status !== 0 || typeof run.stdout !== "string") return undefined;
  const base = prefix.stdout.trim();
  return new Set(
    run.stdout
      .split("\0")
      .filter((path) => path !== "" && path.startsWith(base))
      .map((path) => path.slice(base.length)),
  );
}

/** A .gitignore is read only when it is a regular file of the directory (never /dev/zero, a FIFO or a link). */
const MAX_GITIGNORE_BYTES = 1024 * 1024;

function readGitignore(dir: string, root: string): string | undefined {
  try {
    return readRegularFile(join(dir, ".gitignore"), { maxBytes: MAX_GITIGNORE_BYTES, root }).toString("utf8");
  } catch (error) {
    if (error instanceof NotReadError) process.stderr.write(`warning: ${error.message}\n`);
    return undefined;
  }
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
  // Git's view, the same as the app's (src/policy/read/file-filter.ts): tracked files are read even when ignored.
  const filter = new RepositoryFileFilter(trackedFiles(root));
  // Every file is read into this buffer and decoded from it (readSource copies what it keeps).
  const buffer = Buffer.allocUnsafe(MAX_POLICY_FILE_BYTES + 1);
  const walk = (dir: string, relativeDir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      throw ioError(error, dir);
    }
    // Looked up in the listing: trying to read a missing file costs an exception per directory.
    const gitignore = entries.some((entry) => entry.name === ".gitignore") ? readGitignore(dir, root) : undefined;
    if (gitignore !== undefined) filter.addGitignore(relativeDir, gitignore);
    const prefix = dir + sep;
    for (const entry of entries) {
      const path = relativeDir + entry.name;
      if (entry.isDirectory()) {
        if (!filter.includesDirectory(path)) continue;
        walk(prefix + entry.name, `${path}/`);
      } else if (entry.isFile()) {
        if (!isManifestPath(path) || !filter.includesFile(path)) continue;
        files.push(readSource(prefix + entry.name, path, buffer));
        progress?.update(`reading files: ${files.length}`);
      } else if (isManifestPath(path) && filter.includesFile(path)) {
        // Symbolic links, FIFOs, sockets, devices: not followed, not read, but said (a policy there is unchecked).
        const what = entry.isSymbolicLink() ? "a symbolic link" : entry.isFIFO() ? "a FIFO" : "not a regular file";
        process.stderr.write(`warning: ${prefix + entry.name}: not read: it is ${what}\n`);
      }
    }
  };
  walk(root, "");
  return files.sort((a, b) => compareStrings(a.path, b.path));
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The text of bytes that are UTF-8 (the engine then holds one copy, not the bytes too); else a copy of the bytes, for
 * it to say why (`bytes` is a view of the buffer the next file is read into).
 */
function textOf(bytes: Uint8Array): Uint8Array | string {
  try {
    return utf8.decode(bytes);
  } catch {
    return Uint8Array.from(bytes);
  }
}

function readSource(full: string, path: string, buffer: Buffer): SourceFile {
  // Listed as a regular file; opened so that a file swapped for a link or a FIFO meanwhile is still not followed. The
  // size comes from the open file: no separate stat.
  try {
    const read = readRegularFileUpTo(full, { maxBytes: MAX_POLICY_FILE_BYTES, scanLarger: true, into: buffer });
    if ("size" in read) {
      return {
        path,
        size: read.size,
        content: null,
        ...(read.holdsPolicy === undefined ? {} : { holdsPolicy: read.holdsPolicy }),
      };
    }
    return { path, size: read.content.byteLength, content: textOf(read.content) };
  } catch (error) {
    throw error instanceof CliError ? error : ioError(error, full);
  }
}
