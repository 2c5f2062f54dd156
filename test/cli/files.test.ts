import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/cli/config-file.js";
import { CliError } from "../../src/cli/errors.js";
import { readSourceFiles } from "../../src/cli/files.js";
import { DEFAULT_CONFIG } from "../../src/policy/config.js";
import { MAX_POLICY_FILE_BYTES, parseManifestFile } from "../../src/policy/read/manifests.js";
import { textOf } from "../helpers/sources.js";

let root: string;

function write(path: string, content: string | Buffer = "a: 1\n") {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "cpb-files-"));
  write(".gitignore", "build/\n*.generated.yaml\n!keep.generated.yaml\n");
  write("apps/a.yaml");
  write("apps/b.yml");
  write("apps/README.md", "# not a manifest");
  write("apps/x.generated.yaml");
  write("apps/keep.generated.yaml");
  write("apps/chart/templates/p.tpl", "{{ x }}");
  write("build/out.yaml");
  write("nested/.gitignore", "local.yaml\n/only-here.yaml\n");
  write("nested/local.yaml");
  write("nested/only-here.yaml");
  write("nested/deeper/only-here.yaml");
  write("nested/deeper/local.yaml");
  write("other/local.yaml");
  write(".git/config.yaml");
  write("sub/node_modules/pkg/x.yaml");
  write("node_modules/y.yaml");
  write("big.yaml", Buffer.alloc(MAX_POLICY_FILE_BYTES + 1, 0x61));
  write("Z.yaml");
  symlinkSync(join(root, "apps"), join(root, "linked-dir"));
  symlinkSync(join(root, "apps/a.yaml"), join(root, "linked.yaml"));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("readSourceFiles", () => {
  it("lists manifests only, respecting nested .gitignore files, skipping .git, node_modules and symlinks", () => {
    expect(readSourceFiles(root).map((file) => file.path)).toEqual([
      "Z.yaml",
      "apps/a.yaml",
      "apps/b.yml",
      "apps/chart/templates/p.tpl",
      "apps/keep.generated.yaml",
      "big.yaml",
      "nested/deeper/only-here.yaml",
      "other/local.yaml",
    ]);
  });

  it("reads contents, but not of files above the size limit", () => {
    const files = readSourceFiles(root);
    const a = files.find((file) => file.path === "apps/a.yaml")!;
    expect(textOf(a)).toBe("a: 1\n");
    expect(a.size).toBe(5);
    const big = files.find((file) => file.path === "big.yaml")!;
    expect(big).toEqual({ path: "big.yaml", size: MAX_POLICY_FILE_BYTES + 1, content: null, holdsPolicy: false });
  });

  it("hands the engine text for UTF-8 files, keeping the byte-order mark, and the bytes of others", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpb-decode-"));
    try {
      writeFileSync(join(dir, "bom.yaml"), "\uFEFFa: 1\n");
      writeFileSync(join(dir, "latin1.yaml"), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
      const [bom, latin1] = readSourceFiles(dir);
      expect(bom!.content).toBe("\uFEFFa: 1\n");
      expect(bom!.size).toBe(8); // the three bytes of the mark and five of text
      expect(Buffer.from(latin1!.content as Uint8Array).equals(Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]))).toBe(true);
      const analysed = parseManifestFile(latin1!);
      expect(analysed.skipped).toBe("not-utf8");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps each non-UTF-8 file's own bytes, though every file is read into one buffer", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpb-decode-"));
    try {
      // Two files of the same length: were the bytes not copied, both would show the one read last.
      const first = Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]);
      const second = Buffer.from([0x62, 0x3a, 0x20, 0xff, 0x0a]);
      writeFileSync(join(dir, "one.yaml"), first);
      writeFileSync(join(dir, "two.yaml"), second);
      writeFileSync(join(dir, "three.yaml"), "c: 3\n");
      const [one, three, two] = readSourceFiles(dir);
      expect(Buffer.from(one!.content as Uint8Array).equals(first)).toBe(true);
      expect(Buffer.from(two!.content as Uint8Array).equals(second)).toBe(true);
      expect(three!.content).toBe("c: 3\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails with a CliError naming the path for a missing directory or a file", () => {
    expect(() => readSourceFiles(join(root, "missing"))).toThrow(CliError);
    expect(() => readSourceFiles(join(root, "missing"))).toThrow(/missing: no such file or directory/);
    expect(() => readSourceFiles(join(root, "Z.yaml"))).toThrow(/Z\.yaml: not a directory/);
  });
});

describe("loadConfig", () => {
  it("uses the defaults when the repository has no configuration", () => {
    expect(loadConfig(root)).toEqual(DEFAULT_CONFIG);
    expect(loadConfig(root, { ciliumVersion: ">=1.15" }).ciliumVersion).toBe(">=1.15");
  });

  it("reads DIR/.github/cilium-policy-bot.yml, and --config instead when given", () => {
    write(".github/cilium-policy-bot.yml", "ciliumVersion: '>=1.14'\nunresolved: skip\n");
    write("elsewhere.yml", "followUp: false\n");
    try {
      expect(loadConfig(root)).toMatchObject({ ciliumVersion: ">=1.14", unresolved: "skip" });
      expect(loadConfig(root, { ciliumVersion: "1.16.x" }).ciliumVersion).toBe("1.16.x");
      const explicit = loadConfig(root, { config: join(root, "elsewhere.yml") });
      // The app's settings are valid in the file and not part of the engine's configuration.
      expect(explicit).toEqual(DEFAULT_CONFIG);
    } finally {
      rmSync(join(root, ".github"), { recursive: true });
      rmSync(join(root, "elsewhere.yml"));
    }
  });

  it("names the file and the key of an invalid setting", () => {
    write("bad.yml", "services:\n  vault/cluster-vault:\n    selector: {app: vault}\n    prots: {}\n");
    expect(() => loadConfig(root, { config: join(root, "bad.yml") })).toThrow(
      /bad\.yml: invalid configuration: `services\.vault\/cluster-vault\.prots` is not a known setting/,
    );
    write("bad.yml", "ciliumVersion: banana\n");
    expect(() => loadConfig(root, { config: join(root, "bad.yml") })).toThrow(/`ciliumVersion`/);
    expect(() => loadConfig(root, { ciliumVersion: "banana" })).toThrow(/--cilium-version: not a semver range/);
    expect(() => loadConfig(root, { config: join(root, "none.yml") })).toThrow(/none\.yml: no such file/);
  });
});
