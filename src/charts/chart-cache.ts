// The chart cache directory: archives `<chart>-<version>.tgz` at its top (as `helm pull` leaves them, put there by
// whoever runs the tool), archives this tool downloaded under `downloads/<repository key>/` (kept apart per
// repository URL, so a chart downloaded from one repository never stands in for a chart of the same name from
// another), and rendered output under `renders/`.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { pickVersion } from "./versions.js";

export interface CachedArchive {
  readonly path: string;
  readonly version: string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Writes `data` to `path` through a temporary name, so a reader never sees half a file. */
function writeAtomically(path: string, data: Uint8Array | string): void {
  const partial = `${path}.${randomBytes(6).toString("hex")}.partial`;
  writeFileSync(partial, data);
  renameSync(partial, path);
}

export class ChartCache {
  constructor(readonly dir: string) {}

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
    return archives.find((archive) => archive.version === version) ?? null;
  }

  store(chart: string, repository: string, version: string, data: Uint8Array): string {
    const dir = this.downloadsDir(repository);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${chart}-${version}.tgz`);
    writeAtomically(path, data);
    return path;
  }

  private renderPath(key: string): string {
    return join(this.dir, "renders", `${key}.yaml`);
  }

  readRender(key: string): string | null {
    try {
      return readFileSync(this.renderPath(key), "utf8");
    } catch {
      return null;
    }
  }

  writeRender(key: string, manifests: string): void {
    try {
      mkdirSync(join(this.dir, "renders"), { recursive: true });
      writeAtomically(this.renderPath(key), manifests);
    } catch {
      // A cache that cannot be written costs a render next time, nothing else.
    }
  }
}
