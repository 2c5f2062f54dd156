// What the app reads of a repository: the PR's changed files, every manifest at the head commit, and the chart
// directories the repository installs.
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { committedFileFilter, isManifestPath, MAX_POLICY_FILE_BYTES } from "../policy/api.js";
import type { SourceFile } from "../policy/api.js";
import { readTar } from "./tar.js";
import type { GitHub, PullRequestInfo, RepoRef } from "./types.js";

/** GitHub lists at most this many files of a pull request. */
export const PR_FILES_CAP = 3000;

export interface ChangedFile {
  readonly path: string;
  readonly status: string;
  /** The unified diff GitHub shows; absent for binary or very large changes. */
  readonly patch?: string;
}

export interface ChangedFiles {
  readonly files: readonly ChangedFile[];
  /** true when the PR changes more files than GitHub lists: the caller must not trust `files` to be complete. */
  readonly truncated: boolean;
}

const KEPT_STATUSES = new Set(["added", "modified", "renamed", "copied", "changed"]);

/** The PR's changed manifest files that still exist at its head (added, modified, renamed). */
export async function listChangedFiles(octokit: GitHub, repo: RepoRef, pr: PullRequestInfo): Promise<ChangedFiles> {
  const all = await octokit.paginate(octokit.rest.pulls.listFiles, {
    ...repo,
    pull_number: pr.number,
    per_page: 100,
  });
  const files = all
    .filter((file) => KEPT_STATUSES.has(file.status) && isManifestPath(file.filename))
    .map((file) => ({ path: file.filename, status: file.status, ...(file.patch ? { patch: file.patch } : {}) }));
  return { files, truncated: pr.changedFiles > all.length || all.length >= PR_FILES_CAP };
}

/**
 * What one job may hold of a repository's manifests, in bytes of file content (SNAPSHOT_BUDGET_MIB, default 64 MiB).
 * The engine needs about five times a manifest's size while it analyses it (measured: 200 files of 1 MiB, 375 MiB
 * peak RSS with this budget, 711 MiB without): this stays inside the deployment's container limit together with
 * the process itself and `helm template`. The budget is per job: jobs running at once each have theirs.
 */
export const DEFAULT_SNAPSHOT_BUDGET_BYTES = 64 * 1024 * 1024;

export function snapshotBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mib = Number(env.SNAPSHOT_BUDGET_MIB);
  return Number.isFinite(mib) && mib > 0 ? Math.floor(mib * 1024 * 1024) : DEFAULT_SNAPSHOT_BUDGET_BYTES;
}

/**
 * Every manifest of the repository at `sha`, from one tarball request however large the repository: the archive
 * streams through a tar reader that keeps only manifest paths, and only the contents of those under
 * MAX_POLICY_FILE_BYTES and within the job's memory budget. Files past either are handed to the engine without
 * content, which reports them as not checked; `unreadFiles` counts them.
 */
export function readSnapshot(
  octokit: GitHub,
  repo: RepoRef,
  sha: string,
  budgetBytes = snapshotBudgetBytes(),
): Promise<SourceFile[]> {
  let used = 0;
  // The engine's file filter, as the CLI uses it: an archive's files are all tracked, so .gitignore leaves them in.
  const filter = committedFileFilter();
  return readArchive(octokit, repo, sha, (path, size) => {
    if (!isManifestPath(path) || !filter.includesFile(path)) return "skip";
    // Not kept, but looked through as it streams past: a policy in it is reported as unchecked, an error.
    if (size > MAX_POLICY_FILE_BYTES || used + size > budgetBytes) return "scan";
    used += size;
    return "read";
  });
}

/** Manifests of a snapshot that were not read (over the per-file size or past the memory budget). */
export function unreadFiles(sources: readonly SourceFile[]): number {
  return sources.filter((source) => source.content === null).length;
}

/**
 * Every regular file under the given repository-relative directories at `sha` (Helm chart directories the
 * repository installs: templates, helpers, values, not only manifests), read once for all of them. Bounded by the
 * renderer's chart limits: reading stops being worth it above them, and the renderer refuses such a chart anyway.
 */
export function readDirectories(
  octokit: GitHub,
  repo: RepoRef,
  sha: string,
  directories: readonly string[],
  limits: { readonly files: number; readonly bytes: number },
): Promise<SourceFile[]> {
  const prefixes = directories.map((directory) => `${directory.replace(/\/+$/, "")}/`);
  let files = 0;
  let bytes = 0;
  return readArchive(octokit, repo, sha, (path, size) => {
    if (!prefixes.some((prefix) => path.startsWith(prefix))) return "skip";
    files += 1;
    bytes += size;
    return files > limits.files * directories.length || bytes > limits.bytes * directories.length ? "size" : "read";
  });
}

async function readArchive(
  octokit: GitHub,
  repo: RepoRef,
  sha: string,
  keep: (path: string, size: number) => "read" | "size" | "scan" | "skip",
): Promise<SourceFile[]> {
  const response = await octokit.request("GET /repos/{owner}/{repo}/tarball/{ref}", {
    ...repo,
    ref: sha,
    request: { parseSuccessResponseBody: false },
  });
  const body = response.data as unknown;
  const stream =
    body instanceof Readable
      ? body
      : body instanceof ArrayBuffer || ArrayBuffer.isView(body)
        ? Readable.from([Buffer.from(body as ArrayBuffer)])
        : Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  let root: string | null = null;
  const { files } = await readTar(stream, (entry) => {
    if (entry.type !== "file") return "skip";
    // Everything of a GitHub archive is under one root: an entry elsewhere could pose as a second copy of a file.
    const entryRoot = entry.path.split("/")[0]!;
    root ??= entryRoot;
    if (entryRoot !== root) throw new Error(`tarball: entry outside the archive's root directory: ${entry.path}`);
    const path = stripArchiveRoot(entry.path);
    return path === null ? "skip" : keep(path, entry.size);
  });
  const sources: SourceFile[] = [];
  for (const file of files) {
    const path = stripArchiveRoot(file.path);
    if (path !== null) {
      const seen = file.holdsPolicy === undefined ? {} : { holdsPolicy: file.holdsPolicy };
      sources.push({ path, size: file.size, content: file.content, ...seen });
    }
  }
  return sources; // in archive order: the engine puts files in its own (code-unit) order, the same for every shell
}

/** GitHub's archives put everything under one "<owner>-<repo>-<sha>/" directory. */
function stripArchiveRoot(path: string): string | null {
  const slash = path.indexOf("/");
  if (slash === -1) return null;
  const rest = path.slice(slash + 1);
  return rest === "" ? null : rest;
}
