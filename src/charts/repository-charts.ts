// Chart directories inside the repository being analysed: the CLI reads them from disk, the app from the snapshot
// it fetched. Either way the renderer receives plain files (no links, bounded in count and size) and writes them into
// its own temporary directory, so helm never reads outside the chart.
import { lstatSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join, sep } from "node:path";
import type { SourceFile } from "../policy/api.js";

export type ChartFiles = ReadonlyMap<string, Uint8Array>;

export interface RepositoryCharts {
  /** The files under the repository-relative directory `path`, keyed by path relative to it; or why not. */
  files(path: string): Promise<ChartFiles | { readonly error: string }>;
  /** Told every directory an analysis will ask for, first: a source that fetches (the app) fetches them at once. */
  prefetch?(paths: readonly string[]): Promise<void>;
}

export const CHART_DIRECTORY_LIMITS = { files: 5000, bytes: 20 * 1024 * 1024 } as const;

/** Why a repository-relative chart path from the repository must not be used, or null. */
export function invalidChartPath(path: string): string | null {
  if (path === "" || path.startsWith("/") || path.includes("\\") || path.includes("\0"))
    return `"${path}" is not a relative path`;
  if (path.split("/").some((segment) => segment === ".." || segment === ".")) return `"${path}" leaves the repository`;
  return null;
}

const normalise = (path: string) => path.replace(/^\.\/+/, "").replace(/\/+$/, "");

/** Where `relative` really is under `root`, or null when a symbolic link on the way leads out of it (or it is not there). */
function directoryInside(root: string, relative: string): string | null {
  try {
    const realRoot = realpathSync(root);
    const real = realpathSync(join(root, relative));
    return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : `${realRoot}${sep}`) ? real : null;
  } catch {
    return null;
  }
}

/**
 * The chart directories of a checkout on disk. Symbolic links are not followed inside a chart, and a chart path
 * through a link that leaves the repository is refused (a link could lead anywhere on the machine).
 */
export function diskRepositoryCharts(root: string): RepositoryCharts {
  return {
    async files(path) {
      const relative = normalise(path);
      const invalid = invalidChartPath(relative);
      if (invalid) return { error: invalid };
      const files = new Map<string, Uint8Array>();
      let bytes = 0;
      const walk = (dir: string, prefix: string): string | null => {
        let entries;
        try {
          entries = readdirSync(dir, { withFileTypes: true });
        } catch {
          return `${relative}: no such directory in the repository`;
        }
        for (const entry of entries) {
          const full = join(dir, entry.name);
          if (entry.isDirectory()) {
            const problem = walk(full, `${prefix}${entry.name}/`);
            if (problem) return problem;
          } else if (entry.isFile()) {
            if (files.size >= CHART_DIRECTORY_LIMITS.files)
              return `${relative}: more than ${CHART_DIRECTORY_LIMITS.files} files`;
            bytes += lstatSync(full).size;
            if (bytes > CHART_DIRECTORY_LIMITS.bytes)
              return `${relative}: more than ${CHART_DIRECTORY_LIMITS.bytes} bytes`;
            files.set(`${prefix}${entry.name}`, readFileSync(full));
          }
        }
        return null;
      };
      const directory = directoryInside(root, relative);
      if (directory === null) return { error: `${relative}: no such directory in the repository` };
      const problem = walk(directory, "");
      return problem ? { error: problem } : files;
    },
  };
}

type LoadedFile = Pick<SourceFile, "path" | "content">;

/**
 * Chart directories from files fetched on demand (the app: from the repository's archive at the analysed commit).
 * `load` receives every directory asked for at once and returns the files under them; it runs once per prefetch.
 */
export function filesRepositoryCharts(
  load: (directories: readonly string[]) => Promise<readonly LoadedFile[]>,
): RepositoryCharts {
  let loaded: Promise<readonly LoadedFile[]> | undefined;
  let loadedFor: readonly string[] = [];
  const valid = (paths: readonly string[]) =>
    [...new Set(paths.map(normalise).filter((path) => invalidChartPath(path) === null))].sort();
  return {
    async prefetch(paths) {
      loadedFor = valid(paths);
      loaded = load(loadedFor);
      await loaded.catch(() => undefined);
    },
    async files(path) {
      const relative = normalise(path);
      const invalid = invalidChartPath(relative);
      if (invalid) return { error: invalid };
      if (!loaded || !loadedFor.includes(relative)) {
        loadedFor = valid([...loadedFor, relative]);
        loaded = load(loadedFor);
      }
      let all: readonly LoadedFile[];
      try {
        all = await loaded;
      } catch (error) {
        return { error: `${relative}: could not be read (${(error as Error).message})` };
      }
      const prefix = `${relative}/`;
      const files = new Map<string, Uint8Array>();
      let bytes = 0;
      for (const file of all) {
        if (!file.path.startsWith(prefix)) continue;
        const inner = file.path.slice(prefix.length);
        if (invalidChartPath(inner)) continue;
        const content = typeof file.content === "string" ? Buffer.from(file.content) : file.content;
        bytes += content?.length ?? Infinity;
        if (content === null || files.size >= CHART_DIRECTORY_LIMITS.files || bytes > CHART_DIRECTORY_LIMITS.bytes) {
          return {
            error: `${relative}: more than ${CHART_DIRECTORY_LIMITS.files} files or ${CHART_DIRECTORY_LIMITS.bytes} bytes`,
          };
        }
        files.set(inner, content);
      }
      return files.size === 0 ? { error: `${relative}: no such directory in the repository` } : files;
    },
  };
}
