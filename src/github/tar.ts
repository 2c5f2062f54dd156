// A small streaming reader of (gzipped) tar archives: what GitHub's tarball endpoint returns. It keeps only the
// entries a caller wants and never holds more than one wanted file in memory, so a large repository streams through.
// An archive may name a path twice: as tar and git do when extracting, the last entry wins (a later entry of any
// type replaces an earlier file), so a file is never analysed or sent twice.
import { createGunzip } from "node:zlib";
import { pipeline } from "node:stream";
import type { Readable } from "node:stream";
import { policyScanner } from "../policy/api.js";
import type { PolicyScanner } from "../policy/api.js";

export interface TarEntry {
  /** Path inside the archive, pax/GNU long names applied. */
  readonly path: string;
  readonly size: number;
  /** "file" for regular files; everything else (directories, links, devices) is "other". */
  readonly type: "file" | "other";
}

/**
 * Decides per entry: "read" to receive its content, "size" to receive it with content null, "scan" to receive it
 * with content null and whether it names a Cilium policy kind (looked for as it streams past), "skip" to drop it.
 */
export type TarFilter = (entry: TarEntry) => "read" | "size" | "scan" | "skip";

export interface TarFile {
  readonly path: string;
  readonly size: number;
  readonly content: Uint8Array | null;
  /** For "scan": whether the bytes name a Cilium policy kind. */
  readonly holdsPolicy?: boolean;
}

const BLOCK = 512;

function cString(buffer: Buffer, start: number, length: number): string {
  const slice = buffer.subarray(start, start + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? slice.length : end).toString("utf8");
}

function octal(buffer: Buffer, start: number, length: number): number {
  const field = buffer.subarray(start, start + length);
  if ((field[0]! & 0x80) !== 0) {
    // GNU base-256 encoding for sizes above 8 GiB
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = cString(buffer, start, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

/** Parses pax extended header records ("<len> key=value\n"). */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = parseInt(data.subarray(offset, space).toString("ascii"), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, offset + length - 1).toString("utf8");
    const equals = record.indexOf("=");
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    offset += length;
  }
  return records;
}

interface Pending {
  readonly header: TarEntry;
  readonly kind: "file" | "pax" | "pax-global" | "gnu-longname" | "other";
  readonly keep: boolean;
  readonly scanner: PolicyScanner | null;
  remaining: number;
  padding: number;
  chunks: Buffer[];
}

/**
 * Reads a tar stream (gzipped when `gzip` is true) and returns the wanted files. `maxMetaBytes` bounds pax and GNU
 * long-name headers, the only other data ever buffered.
 */
export async function readTar(
  stream: Readable | AsyncIterable<Uint8Array>,
  filter: TarFilter,
  options: { gzip?: boolean; maxMetaBytes?: number } = {},
): Promise<{ files: TarFile[]; globalPax: Map<string, string> }> {
  const maxMetaBytes = options.maxMetaBytes ?? 1024 * 1024;
  // pipeline, not pipe: a failing download (a timeout, a reset) must fail the read, not leave it waiting forever.
  const input: AsyncIterable<Uint8Array> =
    options.gzip === false ? stream : pipeline(stream as Readable, createGunzip(), () => {});
  const files = new Map<string, TarFile>();
  const globalPax = new Map<string, string>();
  let nextPax = new Map<string, string>();
  let nextLongName: string | null = null;
  let buffered = Buffer.alloc(0);
  let pending: Pending | null = null;
  let ended = false;

  const startEntry = (header: Buffer): Pending | null => {
    if (header.every((byte) => byte === 0)) {
      ended = true;
      return null;
    }
    const typeFlag = String.fromCharCode(header[156]!);
    const size = octal(header, 124, 12);
    const name = cString(header, 0, 100);
    const prefix = header.subarray(257, 262).toString("ascii") === "ustar" ? cString(header, 345, 155) : "";
    let path = prefix ? `${prefix}/${name}` : name;
    if (nextLongName !== null) path = nextLongName;
    if (nextPax.has("path")) path = nextPax.get("path")!;
    const realSize = nextPax.has("size") ? Number(nextPax.get("size")) : size;
    const padding = (BLOCK - (realSize % BLOCK)) % BLOCK;
    let kind: Pending["kind"];
    if (typeFlag === "x") kind = "pax";
    else if (typeFlag === "g") kind = "pax-global";
    else if (typeFlag === "L") kind = "gnu-longname";
    else if (typeFlag === "0" || typeFlag === "\0" || typeFlag === "7") kind = "file";
    else kind = "other";
    const entry: TarEntry = { path, size: realSize, type: kind === "file" ? "file" : "other" };
    let keep: boolean;
    if (kind === "pax" || kind === "pax-global" || kind === "gnu-longname") {
      if (realSize > maxMetaBytes) throw new Error(`tar: metadata header of ${realSize} bytes is too large`);
      keep = true;
    } else {
      nextPax = new Map();
      nextLongName = null;
      files.delete(path); // an earlier entry of the same path is replaced, whatever this one is
      const decision = kind === "file" ? filter(entry) : "skip";
      if (decision === "size") files.set(path, { path, size: realSize, content: null });
      keep = decision === "read";
      if (decision === "scan") {
        return { header: entry, kind, keep, scanner: policyScanner(), remaining: realSize, padding, chunks: [] };
      }
    }
    return { header: entry, kind, keep, scanner: null, remaining: realSize, padding, chunks: [] };
  };

  const finishEntry = (entry: Pending) => {
    if (entry.scanner) {
      const { path, size } = entry.header;
      files.set(path, { path, size, content: null, holdsPolicy: entry.scanner.found });
    }
    if (!entry.keep) return;
    const data = Buffer.concat(entry.chunks);
    if (entry.kind === "pax") nextPax = paxRecords(data);
    else if (entry.kind === "pax-global") for (const [key, value] of paxRecords(data)) globalPax.set(key, value);
    else if (entry.kind === "gnu-longname") nextLongName = cString(data, 0, data.length);
    else
      files.set(entry.header.path, { path: entry.header.path, size: entry.header.size, content: new Uint8Array(data) });
  };

  for await (const chunk of input) {
    if (ended) continue; // drain the rest (trailing zero blocks)
    buffered = buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffered, chunk]);
    let offset = 0;
    while (!ended) {
      if (pending === null) {
        if (buffered.length - offset < BLOCK) break;
        pending = startEntry(buffered.subarray(offset, offset + BLOCK));
        offset += BLOCK;
        continue;
      }
      if (pending.remaining > 0) {
        const take = Math.min(pending.remaining, buffered.length - offset);
        if (take === 0) break;
        if (pending.keep) pending.chunks.push(Buffer.from(buffered.subarray(offset, offset + take)));
        pending.scanner?.push(buffered.subarray(offset, offset + take));
        pending.remaining -= take;
        offset += take;
        continue;
      }
      if (pending.padding > 0) {
        const take = Math.min(pending.padding, buffered.length - offset);
        if (take === 0) break;
        pending.padding -= take;
        offset += take;
        continue;
      }
      finishEntry(pending);
      pending = null;
    }
    buffered = buffered.subarray(offset);
  }
  if (pending !== null && (pending.remaining > 0 || pending.padding > 0)) throw new Error("tar: archive is truncated");
  if (pending !== null) finishEntry(pending);
  // Every tar ends with zero blocks: a stream that stops before them lost entries, and a partial snapshot would
  // make files look deleted.
  if (!ended) throw new Error("tar: archive is truncated (no end-of-archive marker)");
  return { files: [...files.values()], globalPax };
}
