// One file filter for both shells (src/policy/read/file-filter.ts): git's view of which files a repository holds.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSourceFiles } from "../../src/cli/files.js";
import { committedFileFilter, RepositoryFileFilter } from "../../src/policy/read/file-filter.js";
import { available, hasCommand } from "../helpers/external.js";

describe("RepositoryFileFilter", () => {
  it("with git's answer: a tracked file under an ignored directory is read, an untracked one is not", () => {
    // git's answer: tracked files, and untracked ones it does not ignore.
    const filter = new RepositoryFileFilter(new Set(["rendered/a.yaml", "apps/b.yaml", "apps/new.yaml"]));
    filter.addGitignore("", "rendered/\n*.local.yaml\n");
    expect(filter.includesDirectory("rendered")).toBe(true);
    expect(filter.includesDirectory("other")).toBe(false);
    expect(filter.includesFile("rendered/a.yaml")).toBe(true);
    expect(filter.includesFile("rendered/new.yaml")).toBe(false);
    expect(filter.includesFile("apps/x.local.yaml")).toBe(false);
    expect(filter.includesFile("apps/new.yaml")).toBe(true);
  });

  it("without git's answer, .gitignore stands in for untracked; .git and node_modules are never read", () => {
    const filter = new RepositoryFileFilter();
    filter.addGitignore("", "rendered/\n");
    filter.addGitignore("nested/", "/only-here.yaml\n");
    expect(filter.includesDirectory("rendered")).toBe(false);
    expect(filter.includesFile("rendered/a.yaml")).toBe(false);
    expect(filter.includesFile("nested/only-here.yaml")).toBe(false);
    expect(filter.includesFile("only-here.yaml")).toBe(true);
    expect(filter.includesDirectory("node_modules")).toBe(false);
    expect(filter.includesFile("x/node_modules/a.yaml")).toBe(false);
  });

  it("a commit's archive: every file is tracked, so .gitignore leaves it in", () => {
    const filter = committedFileFilter();
    filter.addGitignore("", "rendered/\n");
    expect(filter.includesFile("rendered/a.yaml")).toBe(true);
    expect(filter.includesFile(".git/config.yaml")).toBe(false);
  });
});

describe.skipIf(!available("git", hasCommand("git", ["--version"])))("the CLI in a git work tree", () => {
  it("reads what git tracks under an ignored directory, and skips what it does not", () => {
    const root = mkdtempSync(join(tmpdir(), "cpb-filter-"));
    const write = (path: string, text = "a: 1\n") => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@t", ...args], { stdio: "ignore" });
    try {
      git("init", "-q");
      write(".gitignore", "rendered/\n");
      write("rendered/tracked.yaml");
      write("apps/app.yaml");
      git("add", "-f", ".gitignore", "rendered/tracked.yaml", "apps/app.yaml");
      git("commit", "-q", "-m", "init");
      write("rendered/untracked.yaml");
      write("apps/new.yaml");
      expect(readSourceFiles(root).map((file) => file.path)).toEqual([
        "apps/app.yaml",
        "apps/new.yaml",
        "rendered/tracked.yaml",
      ]);
      // From a subdirectory of the work tree, paths stay relative to it.
      expect(readSourceFiles(join(root, "rendered")).map((file) => file.path)).toEqual(["tracked.yaml"]);
      // A directory git ignores as a whole is scanned for itself (rendered output a user wants checked).
      write(".gitignore", "rendered/\nout/\n");
      write("out/policy.yaml");
      expect(readSourceFiles(join(root, "out")).map((file) => file.path)).toEqual(["policy.yaml"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
