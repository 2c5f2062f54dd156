// The CLI's reads and writes of a repository it does not trust. Reads: regular files only, never through a symbolic
// link or into a FIFO or a device (a `.gitignore` linked to /dev/zero, a configuration linked to a file elsewhere),
// bounded in size. Writes (`fix`): every check first (regular file, writable by its mode, unchanged since it was
// read), then each file written whole; owners, modes and hard links kept; SIGINT and SIGTERM wait until every file
// has its old or its new content and no temporary file is left.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import type { Stats } from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { policyScanner } from "../policy/api.js";
import { CliError, ioError } from "./errors.js";

/** Why a path was not read or not written, in words. */
function kindOf(stats: Stats): string {
  if (stats.isSymbolicLink()) return "a symbolic link";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  if (stats.isDirectory()) return "a directory";
  return "not a regular file";
}

function isInside(root: string, path: string): boolean {
  const realRoot = realpathSync(root);
  const real = realpathSync(path);
  return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
}

export class NotReadError extends CliError {}

/**
 * The bytes of a regular file, or its size alone when it is over `maxBytes` (an open that fails: its own error),
 * never following a symbolic link (O_NOFOLLOW) and never blocking on a FIFO (O_NONBLOCK, then refused by its type).
 * With `root`, the file must also lie inside it once every link of its directories is resolved. One open, one fstat,
 * one read for a file that does not change meanwhile, one close: as cheap as reading it whole. With `into` (at least
 * `maxBytes + 1` bytes), the content is read into it rather than into a buffer of its own, so it is a view that the
 * next read with the same buffer overwrites: the caller decodes or copies it first (one buffer for thousands of files
 * saves an allocation per file).
 */
export function readRegularFileUpTo(
  path: string,
  options: { maxBytes: number; root?: string; scanLarger?: boolean; into?: Buffer },
): { readonly content: Buffer } | { readonly size: number; readonly holdsPolicy?: boolean } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new NotReadError(`${path}: not read: it is a symbolic link`);
    throw error; // the caller decides what a missing or unreadable file means
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotReadError(`${path}: not read: it is ${kindOf(stats)}`);
    if (options.root !== undefined && !isInside(options.root, path)) {
      throw new NotReadError(`${path}: not read: it lies outside ${options.root}`);
    }
    if (stats.size > options.maxBytes) {
      return options.scanLarger ? { size: stats.size, holdsPolicy: scanForPolicy(fd) } : { size: stats.size };
    }
    // Read to the end, but never past the limit, whatever the size said (a file may grow while it is read). Its
    // contents are written over before they are exposed, so the buffer need not be zeroed.
    const capacity = Math.min(options.maxBytes + 1, Math.max(stats.size, 0) + 1);
    const buffer =
      options.into !== undefined && options.into.length > options.maxBytes
        ? options.into.subarray(0, capacity)
        : Buffer.allocUnsafe(capacity);
    let length = 0;
    for (;;) {
      if (length === buffer.length) return { size: length };
      const wanted = buffer.length - length;
      const read = readSync(fd, buffer, length, wanted, null);
      length += read;
      // A short read at or past the size fstat gave is the end of a regular file: no further read to learn it.
      if (read === 0 || (read < wanted && length >= stats.size)) break;
    }
    return { content: buffer.subarray(0, length) };
  } finally {
    closeSync(fd);
  }
}

/** Most of a file looked through for a policy kind: past it, a file is "not read" (a warning), its content unknown. */
const MAX_SCAN_BYTES = 1024 * 1024 * 1024;

/** Whether an open file names a Cilium policy kind, read in chunks that are not kept; undefined past MAX_SCAN_BYTES. */
function scanForPolicy(fd: number): boolean | undefined {
  const scanner = policyScanner();
  const chunk = Buffer.allocUnsafe(1024 * 1024);
  let position = 0;
  for (;;) {
    const read = readSync(fd, chunk, 0, chunk.length, position);
    if (read === 0) return scanner.found;
    scanner.push(chunk.subarray(0, read));
    if (scanner.found) return true;
    position += read;
    if (position > MAX_SCAN_BYTES) return undefined;
  }
}

/** The bytes of a regular file, at most `maxBytes` (more: a NotReadError), as readRegularFileUpTo reads them. */
export function readRegularFile(path: string, options: { maxBytes: number; root?: string }): Buffer {
  const read = readRegularFileUpTo(path, options);
  if ("size" in read) throw new NotReadError(`${path}: not read: it is larger than ${options.maxBytes} bytes`);
  return read.content;
}

/** A file `fix` changes: its path under the root, the text it was read with, and its new text. */
export interface PlannedWrite {
  readonly path: string;
  readonly before: string;
  readonly after: string;
}

export interface WriteOutcome {
  readonly written: readonly string[];
  /** Files left as they were, and why (read-only, a link, changed since it was read, …). */
  readonly refused: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  /** A signal that came while writing: the caller ends the process with it once the outcome is reported. */
  readonly signal?: NodeJS.Signals;
}

/** For tests: steps of the write that can be made to fail. */
export interface WriteSteps {
  readonly rename?: (from: string, to: string) => void;
  /** Called after each file is committed (a test sends itself a signal here). */
  readonly afterEach?: (path: string) => void;
}

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Runs `work` with SIGINT, SIGTERM and SIGHUP held: a signal arriving meanwhile does not kill the process half-way
 * but is returned once `work` is done. Node hands a signal to its listeners on a later turn of the event loop, so
 * one that came during `work` may only be seen after it: the listeners wait a moment for it, and one seen later
 * still ends the process at once (the files are complete by then), so no signal is ever lost.
 */
async function holdingSignals<T>(work: () => T): Promise<{ result: T; signal?: NodeJS.Signals }> {
  let received: NodeJS.Signals | undefined;
  let holding = true;
  const listener = (signal: NodeJS.Signals) => {
    if (holding) {
      received ??= signal;
      return;
    }
    for (const s of SIGNALS) process.off(s, listener);
    process.kill(process.pid, signal);
  };
  for (const signal of SIGNALS) process.on(signal, listener);
  let result: T;
  try {
    result = work();
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    holding = false;
  }
  const remove = () => {
    for (const signal of SIGNALS) process.off(signal, listener);
  };
  // A signal seen during `work` is the caller's to act on; one still on its way arrives well within a second.
  if (received) remove();
  else setTimeout(remove, 1_000).unref();
  return { result, ...(received ? { signal: received } : {}) };
}

/** The check of one file before anything is written: undefined when it may be written, else why not. */
function refusal(root: string, write: PlannedWrite): { reason: string } | { stats: Stats; target: string } {
  const target = join(root, write.path);
  let stats: Stats;
  try {
    stats = lstatSync(target);
  } catch (error) {
    return { reason: ioError(error, target).message.slice(target.length + 2) };
  }
  if (!stats.isFile()) return { reason: `it is ${kindOf(stats)}` };
  if (!isInside(root, target)) return { reason: `it lies outside ${root}` };
  // Read-only by its mode: a person marked it so (root could write it anyway; fix does not).
  if ((stats.mode & 0o222) === 0) return { reason: "it is read-only" };
  let current: Buffer;
  try {
    current = readRegularFile(target, { maxBytes: Buffer.byteLength(write.before) + 1 });
  } catch (error) {
    const message = error instanceof NotReadError ? error.message : ioError(error, target).message;
    return { reason: message.slice(target.length + 2) };
  }
  if (current.toString("utf8") !== write.before) return { reason: "it changed since it was read" };
  return { stats, target };
}

/**
 * Writes each file whole once every file passed its checks (none is written when one fails them). A file with one link is written to a temporary file
 * beside it (its owner and mode copied) and renamed over it: an interrupted run leaves the old or the new file. A
 * file with several hard links is written in place, so every link sees the new text. A temporary file whose rename
 * fails is removed, and the file keeps its old text.
 */
export async function writeFilesSafely(
  root: string,
  writes: readonly PlannedWrite[],
  steps: WriteSteps = {},
): Promise<WriteOutcome> {
  const rename = steps.rename ?? renameSync;
  const { result, signal } = await holdingSignals(() => {
    const checked: Array<{ write: PlannedWrite; stats: Stats; target: string }> = [];
    const refused: Array<{ path: string; reason: string }> = [];
    for (const write of writes) {
      const check = refusal(root, write);
      if ("reason" in check) refused.push({ path: write.path, reason: check.reason });
      else checked.push({ write, ...check });
    }
    const written: string[] = [];
    // One file that may not be written stops the fix before any is: a repository's rewrite is applied whole.
    if (refused.length > 0) return { written, refused };
    for (const { write, stats, target } of checked) {
      try {
        if (stats.nlink > 1) writeInPlace(target, write.after);
        else replaceThroughTemp(target, write.after, stats, rename);
        written.push(write.path);
      } catch (error) {
        refused.push({ path: write.path, reason: `not written: ${(error as Error).message}` });
      }
      steps.afterEach?.(write.path);
    }
    return { written, refused };
  });
  return { ...result, ...(signal ? { signal } : {}) };
}

function replaceThroughTemp(target: string, text: string, stats: Stats, rename: WriteSteps["rename"] & {}): void {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      writeSync(fd, text);
      if (process.getuid?.() === 0) fchownSync(fd, stats.uid, stats.gid);
      fchmodSync(fd, stats.mode & 0o7777);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    rename(temp, target);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // Already renamed.
    }
    throw error;
  }
}

function writeInPlace(target: string, text: string): void {
  const fd = openSync(target, constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    const bytes = Buffer.from(text, "utf8");
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset, offset);
    ftruncateSync(fd, bytes.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
