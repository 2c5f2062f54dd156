// A real git repository on disk, driven with plumbing commands only (no work tree): what the GitHub stand-in
// serves its Git Data API, tarballs and diffs from.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const IDENTITY = {
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_COMMITTER_NAME: "Test Author",
  GIT_COMMITTER_EMAIL: "author@example.com",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
};

export class GitRepo {
  readonly dir: string;

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), "cpb-git-"));
    this.run(["init", "-q", "--bare", "--initial-branch=main"]);
  }

  run(args: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): string {
    return this.runBuffer(args, options).toString("utf8");
  }

  runBuffer(args: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): Buffer {
    return execFileSync("git", args, {
      cwd: this.dir,
      input: options.input,
      env: { ...process.env, ...IDENTITY, ...options.env },
      maxBuffer: 512 * 1024 * 1024,
      stdio: ["pipe", "pipe", "pipe"],
    });
  }

  /** The commit a ref or sha names, or null. */
  resolve(ref: string): string | null {
    try {
      return this.run(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).trim() || null;
    } catch {
      return null;
    }
  }

  objectType(sha: string): string | null {
    try {
      return this.run(["cat-file", "-t", sha]).trim();
    } catch {
      return null;
    }
  }

  hashBlob(content: string | Buffer): string {
    return this.run(["hash-object", "-w", "--stdin"], { input: content }).trim();
  }

  /** Writes blobs for many contents with two processes, whatever their number. Returns their shas in order. */
  hashBlobs(contents: ReadonlyArray<string | Buffer>): string[] {
    if (contents.length === 0) return [];
    const dir = mkdtempSync(join(tmpdir(), "cpb-blobs-"));
    try {
      const paths = contents.map((content, i) => {
        const path = join(dir, String(i));
        writeFileSync(path, content);
        return path;
      });
      return this.run(["hash-object", "-w", "--stdin-paths", "--no-filters"], { input: paths.join("\n") + "\n" })
        .trim()
        .split("\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** A tree: `base` (a tree-ish, or null for empty) with `entries` written (content) or removed (null). */
  writeTree(base: string | null, entries: ReadonlyArray<{ path: string; mode: string; sha: string | null }>): string {
    const index = join(this.dir, `index-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const env = { GIT_INDEX_FILE: index };
    try {
      if (base) this.run(["read-tree", base], { env });
      else this.run(["read-tree", "--empty"], { env });
      // mode 0 removes an entry (--force-remove would need a work tree)
      const info = entries.map((e) =>
        e.sha === null ? `0 ${"0".repeat(40)}\t${e.path}` : `${e.mode} ${e.sha}\t${e.path}`,
      );
      if (info.length > 0) this.run(["update-index", "--index-info"], { env, input: info.join("\n") + "\n" });
      return this.run(["write-tree"], { env }).trim();
    } finally {
      rmSync(index, { force: true });
    }
  }

  /** `identity` overrides the test author (e.g. GIT_AUTHOR_NAME) for this commit. */
  commitTree(tree: string, parents: readonly string[], message: string, identity: Record<string, string> = {}): string {
    return this.run(["commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-F", "-"], {
      input: message,
      env: identity,
    }).trim();
  }

  /** Commits `files` (path → text, or null to delete) on top of `branch` (created from `from` when missing). */
  commit(branch: string, files: Record<string, string | Buffer | null>, message = "change", from?: string): string {
    const parent = this.resolve(`refs/heads/${branch}`) ?? (from ? this.resolve(from) : null);
    const list = Object.entries(files);
    const written = this.hashBlobs(list.flatMap(([, content]) => (content === null ? [] : [content])));
    const entries = list.map(([path, content]) => ({
      path,
      mode: "100644",
      sha: content === null ? null : written.shift()!,
    }));
    const tree = this.writeTree(parent ? `${parent}^{tree}` : null, entries);
    const sha = this.commitTree(tree, parent ? [parent] : [], message);
    this.run(["update-ref", `refs/heads/${branch}`, sha]);
    return sha;
  }

  /** Whether `commit` is `descendant` or one of its ancestors. */
  isAncestor(commit: string, descendant: string): boolean {
    try {
      this.run(["merge-base", "--is-ancestor", commit, descendant]);
      return true;
    } catch {
      return false;
    }
  }

  treeOf(commit: string): string {
    return this.run(["rev-parse", `${commit}^{tree}`]).trim();
  }

  parentsOf(commit: string): string[] {
    const line = this.run(["rev-list", "--parents", "-n", "1", commit]).trim();
    return line.split(" ").slice(1);
  }

  /** Every file at `ref`: path → bytes. */
  files(ref: string): Map<string, Buffer> {
    const listing = this.run(["ls-tree", "-r", "-z", ref]).split("\0").filter(Boolean);
    const entries = listing.map((line) => {
      const [meta, path] = line.split("\t") as [string, string];
      return { sha: meta.split(" ")[2]!, path };
    });
    const files = new Map<string, Buffer>();
    if (entries.length === 0) return files;
    const out = this.runBuffer(["cat-file", "--batch"], { input: entries.map((e) => e.sha).join("\n") + "\n" });
    let offset = 0;
    for (const entry of entries) {
      const newline = out.indexOf(0x0a, offset);
      const size = Number(out.subarray(offset, newline).toString().split(" ")[2]);
      files.set(entry.path, out.subarray(newline + 1, newline + 1 + size));
      offset = newline + 1 + size + 1;
    }
    return files;
  }

  branches(): string[] {
    return this.run(["for-each-ref", "--format=%(refname:short)", "refs/heads/"]).split("\n").filter(Boolean);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
