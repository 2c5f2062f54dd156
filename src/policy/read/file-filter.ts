// Which files of a repository the engine reads, the same for every shell: git's view. A file git tracks is read,
// whatever a .gitignore says (git keeps tracking it, and Flux and Argo CD apply what the commit holds); a file git
// does not track is read unless git ignores it (a working tree's new files); `.git` and `node_modules` never.
// The app reads a commit's archive, whose files are all tracked; the CLI reads a directory, and asks git for its
// files when it is a git work tree (`git ls-files --cached --others --exclude-standard`); elsewhere the .gitignore
// files found on the way stand in for git's answer.
import ignore from "ignore";
import type { Ignore } from "ignore";

/** Never read, whatever git or .gitignore say. */
export const ALWAYS_SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set([".git", "node_modules"]);

interface IgnoreScope {
  /** Directory of the .gitignore, relative to the root: "" or ending in "/". */
  readonly base: string;
  readonly rules: Ignore;
}

export class RepositoryFileFilter {
  private readonly scopes: IgnoreScope[] = [];
  /** Directories holding a tracked file (at any depth), "" included, each ending in "/". */
  private readonly trackedDirectories = new Set<string>();

  /**
   * `tracked`: the files git has (tracked, or untracked and not ignored; relative to the root, forward slashes), "all"
   * for a commit's files (an archive), undefined when unknown (a directory that is not a git work tree).
   */
  constructor(private readonly tracked?: ReadonlySet<string> | "all") {
    for (const path of tracked === "all" ? [] : (tracked ?? [])) {
      for (let slash = path.lastIndexOf("/"); slash !== -1; slash = path.lastIndexOf("/", slash - 1)) {
        const directory = path.slice(0, slash + 1);
        if (this.trackedDirectories.has(directory)) break;
        this.trackedDirectories.add(directory);
      }
    }
  }

  /** Adds the .gitignore of `directory` ("" for the root, else ending in "/"). */
  addGitignore(directory: string, text: string): void {
    this.scopes.push({ base: directory, rules: ignore().add(text) });
  }

  private ignored(path: string, directory: boolean): boolean {
    let ignored = false;
    for (const scope of this.scopes) {
      if (!path.startsWith(scope.base)) continue;
      const verdict = scope.rules.test(path.slice(scope.base.length) + (directory ? "/" : ""));
      if (verdict.ignored) ignored = true;
      else if (verdict.unignored) ignored = false;
    }
    return ignored;
  }

  private skippedByName(path: string): boolean {
    return path.split("/").some((segment) => ALWAYS_SKIPPED_DIRECTORIES.has(segment));
  }

  /** Whether to look inside a directory (`path` without a trailing slash): it may hold a file that is read. */
  includesDirectory(path: string): boolean {
    if (this.skippedByName(path)) return false;
    if (this.tracked === "all") return true;
    return this.tracked ? this.trackedDirectories.has(`${path}/`) : !this.ignored(path, true);
  }

  /** Whether a file is read (its directories included: an ignored directory ignores what is under it). */
  includesFile(path: string): boolean {
    if (this.skippedByName(path.slice(0, path.lastIndexOf("/") + 1))) return false;
    if (this.tracked === "all") return true;
    if (this.tracked) return this.tracked.has(path);
    if (this.ignored(path, false)) return false;
    for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) {
      if (this.ignored(path.slice(0, slash), true)) return false;
    }
    return true;
  }
}

/** A commit's files (an archive): every one is tracked, so only the always-skipped directories are left out. */
export function committedFileFilter(): RepositoryFileFilter {
  return new RepositoryFileFilter("all");
}
