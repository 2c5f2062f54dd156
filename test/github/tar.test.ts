import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, test } from "vitest";
import { readSnapshot } from "../../src/github/snapshot.js";
import { readTar } from "../../src/github/tar.js";
import type { GitHub } from "../../src/github/types.js";
import { policyScanner, resolveConfig, analyse } from "../../src/policy/api.js";
import { GitRepo } from "../helpers/github-git.js";

describe("readTar on archives made by git archive (what GitHub's tarball endpoint serves)", () => {
  const git = new GitRepo();
  afterAll(() => git.remove());
  const longDir = `deep/${"very-long-directory-name-".repeat(8)}`;
  const files: Record<string, string> = {
    "a.yaml": "kind: A\n",
    [`${longDir}/policy.yaml`]: "kind: Long\n", // > 100 bytes: needs a pax or GNU long name
    "big.yaml": "x".repeat(70_000),
    "notes.txt": "skip me\n",
    "empty.yml": "",
  };
  const sha = git.commit("main", files, "files");
  const archive = git.runBuffer(["archive", "--format=tar.gz", "--prefix=acme-gitops-abc1234/", sha]);

  test("keeps the wanted files with exact contents, long paths included, and reads the pax global header", async () => {
    const { files: read, globalPax } = await readTar(Readable.from([archive]), (entry) =>
      entry.type === "file" && /\.ya?ml$/.test(entry.path) ? (entry.size > 65_536 ? "size" : "read") : "skip",
    );
    const byPath = new Map(read.map((f) => [f.path, f]));
    expect([...byPath.keys()].sort()).toEqual(
      ["a.yaml", "big.yaml", "empty.yml", `${longDir}/policy.yaml`].map((p) => `acme-gitops-abc1234/${p}`).sort(),
    );
    expect(Buffer.from(byPath.get("acme-gitops-abc1234/a.yaml")!.content!).toString()).toBe("kind: A\n");
    expect(Buffer.from(byPath.get(`acme-gitops-abc1234/${longDir}/policy.yaml`)!.content!).toString()).toBe(
      "kind: Long\n",
    );
    expect(byPath.get("acme-gitops-abc1234/big.yaml")).toMatchObject({ size: 70_000, content: null });
    expect(byPath.get("acme-gitops-abc1234/empty.yml")!.content!.byteLength).toBe(0);
    expect(globalPax.get("comment")).toBe(sha);
  });

  test("works whatever the chunking of the stream", async () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < archive.length; i += 7) chunks.push(archive.subarray(i, i + 7));
    const { files: read } = await readTar(Readable.from(chunks), () => "read");
    expect(read.map((f) => f.path)).toContain("acme-gitops-abc1234/notes.txt");
  });

  test("a truncated archive is an error, not a partial snapshot", async () => {
    const tar = execFileSync("gzip", ["-dc"], { input: archive });
    await expect(readTar(Readable.from([tar.subarray(0, 1024 + 300)]), () => "read", { gzip: false })).rejects.toThrow(
      /truncated/,
    );
  });
});

describe("duplicate entries (an archive may name a path twice)", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpb-tar-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const root = "acme-gitops-abc1234";
  mkdirSync(join(dir, root));
  const write = (content: string) => writeFileSync(join(dir, root, "policy.yaml"), content);
  write("kind: First\n");
  execFileSync("tar", ["-cf", "dup.tar", `${root}/policy.yaml`], { cwd: dir });
  write("kind: Second\n");
  execFileSync("tar", ["-rf", "dup.tar", `${root}/policy.yaml`], { cwd: dir }); // appended: the same name again
  const archive = execFileSync("gzip", ["-c", join(dir, "dup.tar")]);

  test("the last one wins, as when tar or git extracts the archive", async () => {
    const listed = execFileSync("tar", ["-tf", "dup.tar"], { cwd: dir, encoding: "utf8" });
    expect(listed.trim().split("\n")).toEqual([`${root}/policy.yaml`, `${root}/policy.yaml`]);
    const { files } = await readTar(Readable.from([archive]), () => "read");
    expect(files.map((f) => [f.path, Buffer.from(f.content!).toString()])).toEqual([
      [`${root}/policy.yaml`, "kind: Second\n"],
    ]);
  });

  test("the snapshot holds the file once", async () => {
    const octokit = { request: async () => ({ data: archive }) } as unknown as GitHub;
    const sources = await readSnapshot(octokit, { owner: "acme", repo: "gitops" }, "abc1234");
    expect(sources.map((s) => [s.path, Buffer.from(s.content!).toString()])).toEqual([
      ["policy.yaml", "kind: Second\n"],
    ]);
  });

  test("an entry outside the archive's one root directory refuses the archive", async () => {
    mkdirSync(join(dir, "other-root"));
    writeFileSync(join(dir, "other-root", "policy.yaml"), "kind: Third\n");
    execFileSync("tar", ["-cf", "two-roots.tar", `${root}/policy.yaml`, "other-root/policy.yaml"], { cwd: dir });
    const twoRoots = execFileSync("gzip", ["-c", join(dir, "two-roots.tar")]);
    const octokit = { request: async () => ({ data: twoRoots }) } as unknown as GitHub;
    await expect(readSnapshot(octokit, { owner: "acme", repo: "gitops" }, "abc1234")).rejects.toThrow(/root/);
  });
});

describe("files not kept are still looked through for a policy", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpb-scan-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const root = "acme-gitops-abc1234";
  mkdirSync(join(dir, root));
  const policy = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec: {}\n";
  writeFileSync(join(dir, root, "a-padding.yaml"), `kind: ConfigMap\ndata: {x: "${"x".repeat(200_000)}"}\n`);
  writeFileSync(join(dir, root, "b-policy.yaml"), `# ${"y".repeat(200_000)}\n${policy}`);
  execFileSync("tar", ["-cf", "repo.tar", `${root}/a-padding.yaml`, `${root}/b-policy.yaml`], { cwd: dir });
  const archive = execFileSync("gzip", ["-c", join(dir, "repo.tar")]);

  test("past the memory budget, a policy file is an error 'could not be checked', a file without one an info", async () => {
    const octokit = { request: async () => ({ data: archive }) } as unknown as GitHub;
    const sources = await readSnapshot(octokit, { owner: "acme", repo: "gitops" }, "abc1234", 1_000);
    expect(sources.map((s) => [s.path, s.content, s.holdsPolicy])).toEqual([
      ["a-padding.yaml", null, false],
      ["b-policy.yaml", null, true],
    ]);
    const skipped = (await analyse(sources, { config: resolveConfig({}) })).findings.filter(
      (f) => f.ruleId === "skipped-file",
    );
    expect(skipped.map((f) => [f.file, f.severity])).toEqual([
      ["a-padding.yaml", "info"],
      ["b-policy.yaml", "error"],
    ]);
    expect(skipped[1]!.message).toMatch(/could not be checked/);
  });

  test("a policy kind split across chunks is still seen", () => {
    for (let cut = 1; cut < 30; cut++) {
      const scanner = policyScanner();
      const bytes = new TextEncoder().encode("kind: CiliumClusterwideNetworkPolicy\n");
      scanner.push(bytes.subarray(0, cut));
      scanner.push(bytes.subarray(cut));
      expect(scanner.found, String(cut)).toBe(true);
    }
    const none = policyScanner();
    none.push(new TextEncoder().encode("kind: NetworkPolicy\n"));
    expect(none.found).toBe(false);
  });
});
