// The chart cache directory: archives `<chart>-<version>.tgz` at its top (as `helm pull` leaves them, put there by
// whoever runs the tool), archives this tool downloaded under `downloads/<repository key>/` (kept apart per
// repository URL, so a chart downloaded from one repository never stands in for a chart of the same name from
// another), and rendered output under `renders/`.
import { randomBytes } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { sha256 } from "./sha256.js";
import { pickVersion } from "./versions.js";

export interface CachedArchive {
  readonly path: string;
  readonly version: string;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Marks a file as used now: pruning removes the least recently used first. */
function touch(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // read-only cache (a mounted volume of archives): nothing to prune there either
  }
}

/** Writes `data` to `path` through a temporary name, so a reader never sees half a file. */
function writeAtomically(path: string, data: Uint8Array | string): void {
  const partial = `${path}.${randomBytes(6).toString("hex")}.partial`;
  writeFileSync(partial, data);
  renameSync(partial, path);
}

/** What this tool writes into the cache (downloads/, renders/) is kept under this size; the oldest files go first. */
export const DEFAULT_CACHE_BYTES = 1024 ** 3;
/** Writes between two looks at the cache's size. */
const PRUNE_EVERY = 32;

interface CachedFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

function filesUnder(dir: string, out: CachedFile[] = []): CachedFile[] {
  for (const name of listDir(dir)) {
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (stat.isDirectory()) filesUnder(path, out);
      else if (stat.isFile()) out.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

export class ChartCache {
  #writes = 0;

  /** `maxBytes` bounds what this tool writes (a volume with a size limit must not fill up); the top level is the user's. */
  constructor(
    readonly dir: string,
    readonly maxBytes: number = DEFAULT_CACHE_BYTES,
  ) {}

  /** Removes the oldest downloads and renders until they take at most 80 % of maxBytes. Returns the files removed. */
  prune(): number {
    const files = [...filesUnder(join(this.dir, "downloads")), ...filesUnder(join(this.dir, "renders"))];
    let total = files.reduce((sum, file) => sum + file.size, 0);
    if (total <= this.maxBytes) return 0;
    let removed = 0;
    for (const file of files.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      if (total <= this.maxBytes * 0.8) break;
      try {
        unlinkSync(file.path);
        total -= file.size;
        removed++;
      } catch {
        // another process removed it first
      }
    }
    return removed;
  }

  private wrote(): void {
    if (++this.#writes % PRUNE_EVERY === 0) this.prune();
  }

  private downloadsDir(repository: string): string {
    const url = new URL(repository.replace(/\/+$/, ""));
    return join(this.dir, "downloads", `${url.hostname}-${sha256(url.href).slice(0, 16)}`);
  }

  /** Versions of `chart` in the cache for releases of `repository`: the top level, then its downloads. */
  archives(chart: string, repository: string): CachedArchive[] {
    const found: CachedArchive[] = [];
    for (const dir of [this.dir, this.downloadsDir(repository)]) {
      for (const name of listDir(dir)) {
        if (!name.startsWith(`${chart}-`) || !name.endsWith(".tgz")) continue;
        const version = name.slice(chart.length + 1, -".tgz".length);
        if (!semver.valid(version) || found.some((archive) => archive.version === version)) continue;
        const path = join(dir, name);
        try {
          if (!statSync(path).isFile()) continue;
        } catch {
          continue;
        }
        found.push({ path, version });
      }
    }
    return found;
  }

  find(chart: string, repository: string, wanted: string | undefined): CachedArchive | null {
    const archives = this.archives(chart, repository);
    const version = pickVersion(
      archives.map((archive) => archive.version),
      wanted,
    );
    const found = archives.find((archive) => archive.version === version) ?? null;
    if (found) touch(found.path);
    return found;
  }

  store(chart: string, repository: string, version: string, data: Uint8Array): string {
    const dir = this.downloadsDir(repository);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${chart}-${version}.tgz`);
    writeAtomically(path, data);
    this.wrote();
    return path;
  }

  private renderPath(key: string): string {
    return join(this.dir, "renders", `${key}.yaml`);
  }

  readRender(key: string): string | null {
    try {
      const text = readFileSync(this.renderPath(key), "utf8");
      touch(this.renderPath(key));
      return text;
    } catch {
      return null;
    }
  }

  writeRender(key: string, manifests: string): void {
    try {
      mkdirSync(join(this.dir, "renders"), { recursive: true });
      writeAtomically(this.renderPath(key), manifests);
      this.wrote();
    } catch {
      // A cache that cannot be written costs a render next time, nothing else.
    }
  }
}
