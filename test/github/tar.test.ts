import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { afterAll, describe, expect, test } from "vitest";
import { readTar } from "../../src/github/tar.js";
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
