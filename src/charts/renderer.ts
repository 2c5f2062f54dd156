// The shells' ChartRenderer: each release's chart from the repository's own directory, the chart cache, or (where
// allowed) a guarded download into the cache; rendered by the real `helm template`, several at once but bounded;
// renders remembered by (helm, chart digest, values digest, release, namespace, API versions) in memory and on disk.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { parse } from "yaml";
import type { ChartRelease, ChartRender, ChartRenderer } from "../policy/api.js";
import { ChartCache } from "./chart-cache.js";
import type { ChartCredential } from "./credentials.js";
import { DownloadError, refusedUrlReason } from "./guarded-fetch.js";
import type { NetworkPolicy } from "./guarded-fetch.js";
import { findHelm, helmTemplate, invalidTemplateArguments } from "./helm.js";
import type { Helm, HelmLimits } from "./helm.js";
import { httpRepository, ociRepository } from "./remote.js";
import type { DownloadLimits, RemoteRepository } from "./remote.js";
import { CHART_DIRECTORY_LIMITS } from "./repository-charts.js";
import type { ChartFiles, RepositoryCharts } from "./repository-charts.js";
import { sha256 } from "./sha256.js";
import { exactVersion, isValidVersionOrRange, pickVersion } from "./versions.js";

export interface ChartServiceOptions {
  /** The chart cache directory (created when needed). */
  readonly cacheDir: string;
  /** Download charts that are not in the cache (false: --offline, CHART_DOWNLOADS=off). */
  readonly downloads: boolean;
  readonly credentials?: readonly ChartCredential[];
  readonly network?: NetworkPolicy;
  /** Environment to find helm in (HELM_BIN, PATH); defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly helmLimits?: Partial<HelmLimits>;
  readonly downloadLimits?: Partial<DownloadLimits>;
  /** Renders at once; default 2. */
  readonly concurrency?: number;
  /** Bytes of downloads and renders the cache keeps (default 1 GiB); the archives a person put at its top are never removed. */
  readonly cacheBytes?: number;
  /** How long a repository's index (or an OCI tag list) is trusted before it is fetched again; default 5 minutes. */
  readonly indexTtlMs?: number;
}

export interface ChartRendererOptions extends ChartServiceOptions {
  /** Chart directories of the repository being analysed. */
  readonly repositoryCharts: RepositoryCharts;
}

/** Long-lived state shared by the renderers of many analyses (the app's jobs): limits, caches, repository indexes. */
export interface ChartService {
  renderer(repositoryCharts: RepositoryCharts): ChartRenderer;
}

export function createChartRenderer(options: ChartRendererOptions): ChartRenderer {
  return createChartService(options).renderer(options.repositoryCharts);
}

export const DEFAULT_HELM_LIMITS: HelmLimits = {
  timeoutMs: 60_000,
  memoryBytes: 2 * 1024 ** 3,
  outputBytes: 16 * 1024 ** 2,
};
export const DEFAULT_DOWNLOAD_LIMITS: DownloadLimits = {
  archiveBytes: 10 * 1024 ** 2,
  indexBytes: 32 * 1024 ** 2,
  timeoutMs: 30_000,
};
/** Renders kept in memory, by their size in UTF-16 code units (the disk cache keeps the rest). */
const MEMORY_CACHE_CHARS = 64 * 1024 ** 2;
/** One analysis renders at most this many releases and keeps at most this much output: a PR cannot make it unbounded. */
export const ANALYSIS_LIMITS = { releases: 200, outputChars: 128 * 1024 ** 2 } as const;
/** Downloads at once, over all analyses. */
const DOWNLOAD_CONCURRENCY = 4;
const CHART_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** JSON with object keys sorted, so equal values have equal digests whatever order the installer merged them in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A chart ready to render: an archive on disk, or a directory's files. */
type Obtained =
  | {
      readonly ok: true;
      readonly chart: string;
      readonly version: string;
      readonly from: string;
      readonly digest: string;
      readonly archive?: string;
      readonly files?: ChartFiles;
    }
  | { readonly ok: false; readonly reason: string };

/** A `file://` dependency's directory, relative to the chart's; undefined when it leaves the repository. */
function joinChartPath(dir: string, relative: string): string | undefined {
  const joined = posix.join(dir, relative);
  return joined === "." || joined === ".." || joined.startsWith("../") || posix.isAbsolute(joined) ? undefined : joined;
}

/** Dependencies a chart directory may ask to be fetched: more is not a chart, but a pull request's way to make work. */
export const MAX_CHART_DEPENDENCIES = 32;

function chartMetadata(chartYaml: Uint8Array): { name?: unknown; version?: unknown; dependencies?: unknown } | null {
  try {
    return parse(Buffer.from(chartYaml).toString("utf8")) as {
      name?: unknown;
      version?: unknown;
      dependencies?: unknown;
    } | null;
  } catch {
    return null;
  }
}

function limiter(concurrency: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export function createChartService(options: ChartServiceOptions): ChartService {
  const cache = new ChartCache(options.cacheDir, options.cacheBytes);
  const network: NetworkPolicy = options.network ?? {};
  const helmLimits: HelmLimits = { ...DEFAULT_HELM_LIMITS, ...options.helmLimits };
  const downloadLimits: DownloadLimits = { ...DEFAULT_DOWNLOAD_LIMITS, ...options.downloadLimits };
  const limit = limiter(Math.max(1, options.concurrency ?? 2));
  const downloadLimit = limiter(DOWNLOAD_CONCURRENCY);
  let memoryChars = 0;
  const remotes = new Map<string, { readonly source: RemoteRepository; readonly until: number }>();
  const rendered = new Map<string, string>();
  const inFlight = new Map<string, Promise<ChartRender>>();
  const archiveDigests = new Map<string, string>();
  let helm: Helm | { readonly missing: string } | undefined;

  const remote = (repository: string): RemoteRepository => {
    const found = remotes.get(repository);
    if (found && found.until > Date.now()) return found.source;
    const context = { network, credentials: options.credentials ?? [], limits: downloadLimits };
    const source = repository.startsWith("oci://")
      ? ociRepository(repository, context)
      : httpRepository(repository, context);
    remotes.delete(repository);
    remotes.set(repository, { source, until: Date.now() + (options.indexTtlMs ?? 5 * 60_000) });
    if (remotes.size > 256) remotes.delete(remotes.keys().next().value!);
    return source;
  };

  // Keyed by path, size and mtime: an archive replaced in the cache is digested again.
  const archiveDigest = (path: string): string => {
    const stat = statSync(path);
    const id = `${path}\0${stat.size}\0${stat.mtimeMs}`;
    let digest = archiveDigests.get(id);
    if (!digest) {
      digest = sha256(readFileSync(path));
      archiveDigests.set(id, digest);
      if (archiveDigests.size > 4096) archiveDigests.delete(archiveDigests.keys().next().value!);
    }
    return digest;
  };

  async function fromDirectory(repositoryCharts: RepositoryCharts, path: string): Promise<Obtained> {
    const files = await repositoryCharts.files(path);
    if ("error" in files) return { ok: false, reason: `chart directory ${files.error}` };
    const chartYaml = files.get("Chart.yaml");
    if (!chartYaml) return { ok: false, reason: `chart directory ${path} has no Chart.yaml` };
    const meta = chartMetadata(chartYaml);
    const chart = typeof meta?.name === "string" ? meta.name : path.split("/").pop()!;
    const version = typeof meta?.version === "string" ? meta.version : String(meta?.version ?? "");
    const digest = sha256(
      [...files.keys()]
        .sort()
        .map((name) => `${name}\0${sha256(files.get(name)!)}`)
        .join("\n"),
    );
    return { ok: true, chart, version, from: path, digest, files };
  }

  /**
   * A chart directory with the dependencies its Chart.yaml names and its charts/ does not hold, fetched as `helm
   * dependency build` would: from their repository (the chart cache, downloads as for any chart) or, for
   * `file://`, from this repository. A dependency that cannot be had makes the chart not rendered, saying which.
   */
  async function withDependencies(
    repositoryCharts: RepositoryCharts,
    path: string,
    obtained: Obtained,
  ): Promise<Obtained> {
    if (!obtained.ok || !obtained.files) return obtained;
    const meta = chartMetadata(obtained.files.get("Chart.yaml")!);
    const dependencies = Array.isArray(meta?.dependencies) ? (meta.dependencies as unknown[]) : [];
    if (dependencies.length === 0) return obtained;
    const named = `chart ${obtained.chart} ${obtained.version}`;
    if (dependencies.length > MAX_CHART_DEPENDENCIES) {
      return {
        ok: false,
        reason: `${named} names ${dependencies.length} dependencies, more than ${MAX_CHART_DEPENDENCIES}`,
      };
    }
    const files = new Map(obtained.files);
    const digests: string[] = [obtained.digest];
    // What the chart and everything it pulls in hold, together: one chart directory's bound, for all of them.
    let bytes = [...files.values()].reduce((sum, content) => sum + content.byteLength, 0);
    const tooLarge = () =>
      bytes > CHART_DIRECTORY_LIMITS.bytes
        ? {
            ok: false as const,
            reason: `${named} with its dependencies is larger than ${CHART_DIRECTORY_LIMITS.bytes} bytes`,
          }
        : undefined;
    const vendored = (name: string) =>
      [...files.keys()].some(
        (file) => file === `charts/${name}/Chart.yaml` || (file.startsWith(`charts/${name}-`) && file.endsWith(".tgz")),
      );
    for (const raw of dependencies) {
      const dependency = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
      const name = typeof dependency.name === "string" ? dependency.name : undefined;
      const version = typeof dependency.version === "string" ? dependency.version : undefined;
      const repository = typeof dependency.repository === "string" ? dependency.repository : "";
      if (name === undefined || !CHART_NAME.test(name))
        return { ok: false, reason: `${named}: a dependency has no valid name` };
      if (vendored(name)) continue;
      const dependencyOf = `${named}: dependency ${name}${version ? ` ${version}` : ""}`;
      if (repository.startsWith("file://")) {
        const local = joinChartPath(path, repository.slice("file://".length));
        const inRepository = local === undefined ? undefined : await fromDirectory(repositoryCharts, local);
        if (!inRepository?.ok || !inRepository.files) {
          return {
            ok: false,
            reason: `${dependencyOf}: ${inRepository?.ok === false ? inRepository.reason : `${repository} leaves the repository`}`,
          };
        }
        for (const [file, content] of inRepository.files) {
          files.set(`charts/${name}/${file}`, content);
          bytes += content.byteLength;
        }
        digests.push(inRepository.digest);
        const refused = tooLarge();
        if (refused) return refused;
        continue;
      }
      if (!/^(https?|oci):\/\//.test(repository)) {
        return {
          ok: false,
          reason: `${dependencyOf}: its repository ${repository === "" ? "is not given" : `"${repository.slice(0, 100)}" is not a URL (a name given to \`helm repo add\` cannot be resolved here)`}, and charts/ does not hold it`,
        };
      }
      const fetched = await fromRepository(repository, name, version);
      if (!fetched.ok || !fetched.archive) {
        return { ok: false, reason: `${dependencyOf}: ${fetched.ok ? "not an archive" : fetched.reason}` };
      }
      const archive = readFileSync(fetched.archive);
      files.set(`charts/${name}-${fetched.version}.tgz`, archive);
      bytes += archive.byteLength;
      digests.push(fetched.digest);
      const refused = tooLarge();
      if (refused) return refused;
    }
    return { ...obtained, files, digest: sha256(digests.join("\n")) };
  }

  async function fromRepository(repository: string, chart: string, wanted: string | undefined): Promise<Obtained> {
    const named = `chart ${chart}${wanted ? ` ${wanted}` : ""} from ${repository}`;
    if (!CHART_NAME.test(chart)) return { ok: false, reason: `chart name "${chart.slice(0, 100)}" is not valid` };
    if (!isValidVersionOrRange(wanted))
      return { ok: false, reason: `${named}: "${wanted}" is neither a version nor a range` };
    let url: URL;
    try {
      url = new URL(repository.replace(/^oci:\/\//, "https://"));
    } catch {
      return { ok: false, reason: `${named}: the repository is not a URL` };
    }
    const cachedExact =
      exactVersion(wanted) !== null || !options.downloads ? cache.find(chart, repository, wanted) : null;
    const found = (version: string, path: string): Obtained => ({
      ok: true,
      chart,
      version,
      from: repository,
      digest: archiveDigest(path),
      archive: path,
    });
    if (cachedExact) return found(cachedExact.version, cachedExact.path);
    if (!options.downloads) return { ok: false, reason: `${named} is not in the chart cache and downloads are off` };
    const scheme = repository.startsWith("oci://") ? null : refusedUrlReason(url, network);
    if (scheme) return { ok: false, reason: `${named} was not downloaded: ${scheme}` };
    try {
      return await downloadLimit(async () => {
        const source = remote(repository);
        const version = pickVersion(await source.versions(chart), wanted);
        if (version === null) return { ok: false, reason: `${named}: the repository offers no matching version` };
        const cached = cache.find(chart, repository, version);
        if (cached) return found(cached.version, cached.path);
        const data = await source.archive(chart, version);
        return found(version, cache.store(chart, repository, version, data));
      });
    } catch (error) {
      const message = error instanceof DownloadError ? error.message : (error as Error).message;
      // Said once, plainly: what was refused or failed. A cached match is still better than nothing.
      const fallback = exactVersion(wanted) === null ? cache.find(chart, repository, wanted) : null;
      if (fallback) return found(fallback.version, fallback.path);
      return { ok: false, reason: `${named} was not downloaded: ${message}` };
    }
  }

  async function renderOne(
    release: ChartRelease,
    obtained: Extract<Obtained, { ok: true }>,
    installed: Helm,
  ): Promise<ChartRender> {
    const values = canonicalJson(release.values);
    const apiVersions = [...new Set(release.apiVersions)].sort();
    const key = sha256(
      JSON.stringify([
        installed.identity,
        obtained.digest,
        sha256(values),
        release.releaseName,
        release.namespace,
        apiVersions,
      ]),
    );
    const answer = (manifests: string): ChartRender => ({
      key: release.key,
      ok: true,
      chart: obtained.chart,
      version: obtained.version,
      from: obtained.from,
      manifests,
    });
    const memo = rendered.get(key) ?? cache.readRender(key);
    if (memo !== null && memo !== undefined) {
      remember(key, memo);
      return answer(memo);
    }
    let pending = inFlight.get(key);
    if (!pending) {
      pending = limit(async () => {
        const workDir = mkdtempSync(join(tmpdir(), "cpb-helm-"));
        try {
          let chartPath = obtained.archive;
          if (!chartPath) {
            chartPath = join(workDir, "chart");
            for (const [name, content] of obtained.files!) {
              const target = join(chartPath, name);
              mkdirSync(dirname(target), { recursive: true });
              writeFileSync(target, content);
            }
          }
          const valuesFile = join(workDir, "values.json");
          writeFileSync(valuesFile, values);
          const result = await helmTemplate(
            installed,
            {
              chartPath,
              releaseName: release.releaseName,
              namespace: release.namespace,
              valuesFile,
              apiVersions,
              workDir,
            },
            helmLimits,
          );
          if (!result.ok)
            return {
              key: release.key,
              ok: false,
              reason: `chart ${obtained.chart} ${obtained.version}: ${result.reason}`,
            } as const;
          remember(key, result.manifests);
          cache.writeRender(key, result.manifests);
          return answer(result.manifests);
        } finally {
          rmSync(workDir, { recursive: true, force: true });
        }
      });
      inFlight.set(key, pending);
      pending.finally(() => inFlight.delete(key)).catch(() => undefined);
    }
    const result = await pending;
    return { ...result, key: release.key };
  }

  function remember(key: string, manifests: string): void {
    const previous = rendered.get(key);
    if (previous !== undefined) {
      rendered.delete(key);
      memoryChars -= previous.length;
    }
    if (manifests.length > MEMORY_CACHE_CHARS / 4) return;
    rendered.set(key, manifests);
    memoryChars += manifests.length;
    while (memoryChars > MEMORY_CACHE_CHARS) {
      const [oldest, text] = rendered.entries().next().value!;
      rendered.delete(oldest);
      memoryChars -= text.length;
    }
  }

  async function renderRelease(repositoryCharts: RepositoryCharts, release: ChartRelease): Promise<ChartRender> {
    const invalid = invalidTemplateArguments(release);
    if (invalid) return { key: release.key, ok: false, reason: invalid };
    const obtained =
      release.chart.kind === "directory"
        ? await withDependencies(
            repositoryCharts,
            release.chart.path,
            await fromDirectory(repositoryCharts, release.chart.path),
          )
        : await fromRepository(release.chart.repository, release.chart.name, release.chart.version);
    if (!obtained.ok) return { key: release.key, ok: false, reason: obtained.reason };
    helm ??= findHelm(options.env);
    const installed = helm;
    if ("missing" in installed) {
      return {
        key: release.key,
        ok: false,
        reason: `chart ${obtained.chart} ${obtained.version} was not rendered: ${installed.missing}`,
      };
    }
    return renderOne(release, obtained, installed);
  }

  return {
    renderer: (repositoryCharts) => ({
      async render(releases) {
        const directories = releases.flatMap((release) =>
          release.chart.kind === "directory" ? [release.chart.path] : [],
        );
        if (directories.length > 0) await repositoryCharts.prefetch?.(directories);
        let outputChars = 0;
        const withinBudget = (render: ChartRender): ChartRender => {
          if (!render.ok) return render;
          outputChars += render.manifests.length;
          if (outputChars <= ANALYSIS_LIMITS.outputChars) return render;
          return {
            key: render.key,
            ok: false,
            reason: `chart ${render.chart} ${render.version} was rendered, but this analysis' rendered output is over ${ANALYSIS_LIMITS.outputChars} characters`,
          };
        };
        return Promise.all(
          releases.map((release, i) =>
            i >= ANALYSIS_LIMITS.releases
              ? Promise.resolve<ChartRender>({
                  key: release.key,
                  ok: false,
                  reason: `not rendered: the repository installs more than ${ANALYSIS_LIMITS.releases} chart releases`,
                })
              : renderRelease(repositoryCharts, release)
                  .catch((error: unknown): ChartRender => ({
                    key: release.key,
                    ok: false,
                    reason: `not rendered: ${(error as Error).message}`,
                  }))
                  .then(withinBudget),
          ),
        );
      },
    }),
  };
}
