// The CLI on a directory it does not trust: it reads only regular files inside it (configuration and .gitignore
// included), and `fix` writes only what it should, keeping owners, modes and hard links, and leaves every file with
// its old or its new text and no temporary file, whatever fails or interrupts the run.
import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/cli/config-file.js";
import { writeChanges } from "../../src/cli/fix-command.js";
import { readSourceFiles } from "../../src/cli/files.js";
import { MAX_POLICY_FILE_BYTES, resolveConfig, analyse } from "../../src/policy/api.js";
import { PROJECT_ROOT } from "../helpers/external.js";
import { hasDist } from "../helpers/memory.js";

const tmp = mkdtempSync(join(tmpdir(), "cpb-untrusted-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function repo(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, "apps"), { recursive: true });
  writeFileSync(join(dir, "apps/a.yaml"), "a: 1\n");
  return dir;
}

describe("reads only regular files inside the directory", () => {
  it("a .gitignore linked to /dev/zero is reported, not read", async () => {
    const dir = repo("gitignore-zero");
    symlinkSync("/dev/zero", join(dir, ".gitignore"));
    const files = readSourceFiles(dir);
    expect(files.map((f) => f.path)).toEqual(["apps/a.yaml"]);
  });

  it("a manifest that is a link or a FIFO is said on stderr, not read", async () => {
    const dir = repo("manifest-links");
    symlinkSync("/dev/zero", join(dir, "apps/zero.yaml"));
    execFileSync("mkfifo", [join(dir, "apps/fifo.yaml")]);
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(readSourceFiles(dir).map((f) => f.path)).toEqual(["apps/a.yaml"]);
    } finally {
      spy.mockRestore();
    }
    expect(written.join("")).toMatch(/zero\.yaml: not read: it is a symbolic link/);
    expect(written.join("")).toMatch(/fifo\.yaml: not read: it is a FIFO/);
  });

  it("a .gitignore that is a FIFO does not hang the scan", async () => {
    const dir = repo("gitignore-fifo");
    execFileSync("mkfifo", [join(dir, "apps/.gitignore")]);
    expect(readSourceFiles(dir).map((f) => f.path)).toEqual(["apps/a.yaml"]);
  });

  it("a configuration linked to a file outside the directory is refused without printing its content", async () => {
    const dir = repo("config-link");
    const secret = join(tmp, "secret.yaml");
    writeFileSync(secret, "topSecretKey: hunter2\n");
    mkdirSync(join(dir, ".github"));
    symlinkSync(secret, join(dir, ".github/cilium-policy-bot.yml"));
    expect(() => loadConfig(dir)).toThrow(/not read: it is a symbolic link/);
    try {
      loadConfig(dir);
    } catch (error) {
      expect((error as Error).message).not.toMatch(/topSecretKey|hunter2/);
    }
  });

  it("a configuration that is a FIFO is refused, not waited on", async () => {
    const dir = repo("config-fifo");
    mkdirSync(join(dir, ".github"));
    execFileSync("mkfifo", [join(dir, ".github/cilium-policy-bot.yml")]);
    expect(() => loadConfig(dir)).toThrow(/not read: it is a FIFO/);
  });
});

describe("a manifest over the size the CLI reads", () => {
  it("is looked through: a policy in it is reported as not checked (an error), not as a file without policies", async () => {
    const dir = repo("huge");
    const padding = "#".repeat(MAX_POLICY_FILE_BYTES + 1024);
    writeFileSync(join(dir, "apps/policy.yaml"), `${padding}\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n`);
    writeFileSync(join(dir, "apps/data.yaml"), `${padding}\nkind: ConfigMap\n`);
    const sources = readSourceFiles(dir);
    expect(sources.map((s) => [s.path, s.content === null, s.holdsPolicy])).toEqual([
      ["apps/a.yaml", false, undefined],
      ["apps/data.yaml", true, false],
      ["apps/policy.yaml", true, true],
    ]);
    const skipped = (await analyse(sources, { config: resolveConfig({}) })).findings.filter(
      (f) => f.ruleId === "skipped-file",
    );
    expect(skipped.map((f) => [f.file, f.severity])).toEqual([
      ["apps/data.yaml", "info"],
      ["apps/policy.yaml", "error"],
    ]);
  });
});

describe("fix writes only what it should", () => {
  it("a read-only file is reported and no file is written", async () => {
    const dir = repo("read-only");
    writeFileSync(join(dir, "apps/b.yaml"), "b: 1\n");
    chmodSync(join(dir, "apps/b.yaml"), 0o444);
    await expect(
      writeChanges(dir, [
        { path: "apps/a.yaml", before: "a: 1\n", after: "a: 2\n" },
        { path: "apps/b.yaml", before: "b: 1\n", after: "b: 2\n" },
      ]),
    ).rejects.toThrow(/apps\/b\.yaml: it is read-only/);
    expect(readFileSync(join(dir, "apps/a.yaml"), "utf8")).toBe("a: 1\n");
    expect(readFileSync(join(dir, "apps/b.yaml"), "utf8")).toBe("b: 1\n");
  });

  it("a file changed since it was read, or replaced by a link, is not written", async () => {
    const dir = repo("changed");
    symlinkSync(join(dir, "apps/a.yaml"), join(dir, "apps/link.yaml"));
    await expect(writeChanges(dir, [{ path: "apps/a.yaml", before: "a: 0\n", after: "a: 2\n" }])).rejects.toThrow(
      /changed since it was read/,
    );
    await expect(writeChanges(dir, [{ path: "apps/link.yaml", before: "a: 1\n", after: "a: 2\n" }])).rejects.toThrow(
      /symbolic link/,
    );
    expect(readFileSync(join(dir, "apps/a.yaml"), "utf8")).toBe("a: 1\n");
  });

  it("keeps hard links, modes and (as root) owners", async () => {
    const dir = repo("links");
    linkSync(join(dir, "apps/a.yaml"), join(dir, "other-name.yaml"));
    writeFileSync(join(dir, "apps/c.yaml"), "c: 1\n");
    chmodSync(join(dir, "apps/c.yaml"), 0o640);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(join(dir, "apps/c.yaml"), 1234, 5678);
    await writeChanges(dir, [
      { path: "apps/a.yaml", before: "a: 1\n", after: "a: 2\n" },
      { path: "apps/c.yaml", before: "c: 1\n", after: "c: 2\n" },
    ]);
    expect(readFileSync(join(dir, "other-name.yaml"), "utf8")).toBe("a: 2\n"); // the link still shares the file
    expect(statSync(join(dir, "apps/a.yaml")).nlink).toBe(2);
    const c = statSync(join(dir, "apps/c.yaml"));
    expect(c.mode & 0o7777).toBe(0o640);
    if (asRoot) expect([c.uid, c.gid]).toEqual([1234, 5678]);
    expect(readdirSync(join(dir, "apps")).sort()).toEqual(["a.yaml", "c.yaml"]);
  });

  it("a rename failing half-way leaves each file old or new and no temporary file", async () => {
    const dir = repo("rename-fails");
    for (const name of ["b", "c", "d"]) writeFileSync(join(dir, `apps/${name}.yaml`), `${name}: 1\n`);
    let renames = 0;
    const rename = (from: string, to: string) => {
      if (++renames === 2) throw new Error("EIO: simulated");
      execFileSync("mv", [from, to]);
    };
    const changes = ["a", "b", "c", "d"].map((n) => ({
      path: `apps/${n}.yaml`,
      before: `${n}: 1\n`,
      after: `${n}: 2\n`,
    }));
    await expect(writeChanges(dir, changes, { rename })).rejects.toThrow(/apps\/b\.yaml: not written: EIO: simulated/);
    expect(["a", "b", "c", "d"].map((n) => readFileSync(join(dir, `apps/${n}.yaml`), "utf8"))).toEqual([
      "a: 2\n",
      "b: 1\n",
      "c: 2\n",
      "d: 2\n",
    ]);
    expect(readdirSync(join(dir, "apps")).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});

describe.runIf(hasDist())("fix interrupted by SIGINT or SIGTERM", () => {
  it.each(["SIGINT", "SIGTERM"] as const)(
    "%s: every file old or new, no temporary file, the signal's exit",
    async (signal) => {
      const dir = repo(`interrupt-${signal}`);
      const changes = Array.from({ length: 200 }, (_, i) => ({
        path: `apps/f${i}.yaml`,
        before: `x: ${i}\n`,
        after: `x: ${i}0\n`,
      }));
      for (const change of changes) writeFileSync(join(dir, change.path), change.before);
      const script = `
      import { writeChanges } from "./dist/cli/fix-command.js";
      const changes = ${JSON.stringify(changes)};
      const { signal } = await writeChanges(${JSON.stringify(dir)}, changes, {
        afterEach: (path) => { if (path === "apps/f10.yaml") process.kill(process.pid, ${JSON.stringify(signal)}); },
      });
      process.stdout.write("finished " + signal + "\\n");
      if (signal) process.kill(process.pid, signal);
    `;
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: PROJECT_ROOT });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const exit = await new Promise<NodeJS.Signals | null>((resolve) =>
        child.on("exit", (_code, sig) => resolve(sig)),
      );
      // Either the writer saw the signal in time and ended with it after reporting, or it ended at once when Node
      // handed the signal over late; both only once every file was written (checked below).
      expect(["", `finished ${signal}\n`]).toContain(output);
      expect(exit).toBe(signal);
      for (const change of changes) {
        expect([change.before, change.after]).toContain(readFileSync(join(dir, change.path), "utf8"));
      }
      expect(readdirSync(join(dir, "apps")).filter((name) => name.endsWith(".tmp"))).toEqual([]);
      expect(existsSync(join(dir, "apps/f199.yaml"))).toBe(true);
    },
  );
});
