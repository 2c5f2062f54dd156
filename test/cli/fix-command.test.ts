// The built CLI's `fix`, run as users run it, on copies of the example repository.
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderDiff, writeChanges } from "../../src/cli/fix-command.js";
import { PROJECT_ROOT, available, hasShared } from "../helpers/external.js";
import { schemaErrors } from "../helpers/schema.js";

const MAIN = join(PROJECT_ROOT, "dist/cli/main.js");
const EXAMPLE = join(PROJECT_ROOT, "examples/gitops-repo");

function cli(cwd: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", cwd, timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function git(cwd: string, ...args: string[]) {
  return spawnSync("git", args, { encoding: "utf8", cwd, timeout: 60_000 });
}

/** Every file under `dir` (but .git) with its bytes, to prove that nothing was written. */
function snapshot(dir: string, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.name === ".git") continue;
    if (entry.isDirectory()) for (const [p, c] of snapshot(dir, path)) out.set(p, c);
    else out.set(path, readFileSync(join(dir, path), "latin1"));
  }
  return out;
}

let tmp: string;
function copyExample(name: string): string {
  const dir = join(tmp, name);
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

const gitPresent = available("git", spawnSync("git", ["--version"]).status === 0);

beforeAll(() => {
  if (!existsSync(MAIN)) spawnSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
  tmp = mkdtempSync(join(tmpdir(), "cpb-fix-"));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("fix --dry-run", () => {
  it("prints a diff and writes nothing", async () => {
    const dir = copyExample("dry");
    const before = snapshot(dir);
    const run = cli(PROJECT_ROOT, "fix", dir, "--dry-run");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("diff --git a/apps/minio/network-policy.yaml b/apps/minio/network-policy.yaml");
    expect(run.stdout).toContain("+            k8s:io.kubernetes.pod.namespace: vault");
    expect(run.stderr).toContain("vault/cluster-vault  [repo]");
    expect(snapshot(dir)).toEqual(before);
  });

  it.skipIf(!gitPresent)("prints a diff that `git apply` takes, giving the files `fix` writes", () => {
    const dry = copyExample("apply");
    expect(git(dry, "init", "-q").status).toBe(0);
    const patch = cli(PROJECT_ROOT, "fix", dry, "--dry-run").stdout;
    writeFileSync(join(tmp, "fix.patch"), patch);
    const check = git(dry, "apply", "--check", join(tmp, "fix.patch"));
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    expect(git(dry, "apply", join(tmp, "fix.patch")).status).toBe(0);
    const written = copyExample("written");
    expect(cli(PROJECT_ROOT, "fix", written).code).toBe(0);
    expect(snapshot(dry)).toEqual(snapshot(written));
  });

  it.skipIf(!gitPresent)("gives git a patch for CRLF files, a BOM and a missing final newline", () => {
    const dir = join(tmp, "crlf");
    cpSync(join(PROJECT_ROOT, "test/fixtures/rewrite/bom"), dir, { recursive: true });
    // The real resolver guesses payments/billing as the fixture did: the same bytes come out.
    const crlf = readFileSync(join(PROJECT_ROOT, "test/fixtures/rewrite/guessed-comment/input.yaml"), "utf8");
    writeFileSync(join(dir, "crlf.yaml"), crlf.replace(/\n/g, "\r\n"));
    expect(git(dir, "init", "-q").status).toBe(0);
    const patch = cli(PROJECT_ROOT, "fix", dir, "--dry-run").stdout;
    expect(patch).toContain("\\ No newline at end of file");
    writeFileSync(join(tmp, "crlf.patch"), patch);
    expect(git(dir, "apply", "--check", join(tmp, "crlf.patch")).stderr).toBe("");
    expect(git(dir, "apply", join(tmp, "crlf.patch")).status).toBe(0);
    expect(readFileSync(join(dir, "input.yaml"))).toEqual(
      readFileSync(join(PROJECT_ROOT, "test/fixtures/rewrite/bom/expected.yaml")),
    );
    expect(readFileSync(join(dir, "crlf.yaml"), "utf8")).toBe(
      readFileSync(join(PROJECT_ROOT, "test/fixtures/rewrite/guessed-comment/expected.yaml"), "utf8").replace(
        /\n/g,
        "\r\n",
      ),
    );
  });
});

describe("fix", () => {
  it("rewrites the example repository: the vault case and the others; a second run changes nothing", async () => {
    const dir = copyExample("write");
    const run = cli(PROJECT_ROOT, "fix", dir, "--format", "json");
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as {
      version: number;
      filesChanged: string[];
      rewrites: Array<{ file: string; line: number; policy: string; services: Array<Record<string, unknown>> }>;
    };
    expect(json.version).toBe(1);
    expect(json.filesChanged).toEqual(["apps/minio/network-policy.yaml", "apps/shop/network-policy.yaml"]);
    const vault = json.rewrites.find((r) => r.file === "apps/minio/network-policy.yaml");
    expect(vault).toMatchObject({ line: 26, policy: "minio/minio-egress" });
    expect(vault?.services).toEqual([
      {
        service: "vault/cluster-vault",
        resolution: "repo",
        selector: {
          "app.kubernetes.io/name": "vault",
          "app.kubernetes.io/instance": "cluster-vault",
          component: "server",
          "k8s:io.kubernetes.pod.namespace": "vault",
        },
      },
    ]);
    const minio = readFileSync(join(dir, "apps/minio/network-policy.yaml"), "utf8");
    expect(minio).toContain(
      [
        "    - toEndpoints:",
        "        - matchLabels:",
        "            app.kubernetes.io/name: vault",
        "            app.kubernetes.io/instance: cluster-vault",
        "            component: server",
        "            k8s:io.kubernetes.pod.namespace: vault",
        "      toPorts:",
        "        - ports:",
        '            - port: "8200" # Vault API',
      ].join("\n"),
    );
    const scan = cli(PROJECT_ROOT, "scan", dir, "--format", "json");
    expect(scan.stdout).not.toContain("to-services-with-to-ports");
    const again = cli(PROJECT_ROOT, "fix", dir, "--format", "json");
    expect(JSON.parse(again.stdout)).toMatchObject({ filesChanged: [], rewrites: [] });
  });

  it.skipIf(!hasShared())("writes policies that validate against Cilium's CRD schemas", () => {
    const dir = copyExample("schema");
    cli(PROJECT_ROOT, "fix", dir);
    for (const path of ["apps/minio/network-policy.yaml", "apps/shop/network-policy.yaml"]) {
      for (const document of parseAllDocuments(readFileSync(join(dir, path), "utf8"))) {
        expect(schemaErrors(document.toJS() as Record<string, unknown>)).toEqual([]);
      }
    }
  });

  it("prints a summary with each Service's resolution and loud warnings for guesses", async () => {
    const dir = join(tmp, "guess");
    cpSync(join(PROJECT_ROOT, "test/fixtures/rewrite/guessed-comment"), dir, { recursive: true });
    const run = cli(PROJECT_ROOT, "fix", dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("rewrote input.yaml:11 (shop/orders)");
    expect(run.stdout).toContain("payments/billing  [guessed]");
    expect(run.stdout).toContain("WARNING: the selector for payments/billing is a GUESS");
  });

  it("exits 0 when a rule stays manual, and says so", async () => {
    const dir = join(tmp, "manual");
    cpSync(join(PROJECT_ROOT, "test/fixtures/rewrite/manual-unchanged"), dir, { recursive: true });
    writeFileSync(join(dir, ".github-config.yml"), "unresolved: skip\n");
    const before = snapshot(dir);
    const run = cli(PROJECT_ROOT, "fix", dir, "--config", join(dir, ".github-config.yml"));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("MANUAL: input.yaml:11 (search/crawler) left unchanged");
    expect(snapshot(dir)).toEqual(before);
  });

  it("exits 2 on usage and I/O errors", async () => {
    expect(cli(PROJECT_ROOT, "fix", join(tmp, "does-not-exist")).code).toBe(2);
    expect(cli(PROJECT_ROOT, "fix", EXAMPLE, "--format", "yaml").code).toBe(2);
    expect(cli(PROJECT_ROOT, "fix", EXAMPLE, "--config", join(tmp, "missing.yml")).code).toBe(2);
  });

  it.skipIf(process.getuid?.() === 0)("exits 2 and leaves every file whole when a directory is not writable", () => {
    const dir = copyExample("readonly");
    const before = snapshot(dir);
    chmodSync(join(dir, "apps/shop"), 0o555);
    try {
      const run = cli(PROJECT_ROOT, "fix", dir);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: .*permission denied/m);
    } finally {
      chmodSync(join(dir, "apps/shop"), 0o755);
    }
    // minio's directory was writable, but nothing is renamed before every temporary file is written.
    expect(snapshot(dir)).toEqual(before);
  });
});

describe("writeChanges and renderDiff", () => {
  it("replaces files through a rename and keeps their mode", async () => {
    const dir = mkdtempSync(join(tmp, "atomic-"));
    writeFileSync(join(dir, "a.yaml"), "old\n", { mode: 0o640 });
    chmodSync(join(dir, "a.yaml"), 0o640);
    await writeChanges(dir, [{ path: "a.yaml", before: "old\n", after: "new\n" }]);
    expect(readFileSync(join(dir, "a.yaml"), "utf8")).toBe("new\n");
    expect(readdirSync(dir)).toEqual(["a.yaml"]);
    expect(spawnSync("stat", ["-c", "%a", join(dir, "a.yaml")], { encoding: "utf8" }).stdout.trim()).toBe("640");
  });

  it("writes no file when one of them cannot be written, and leaves no temporary file behind", async () => {
    const dir = mkdtempSync(join(tmp, "partial-"));
    writeFileSync(join(dir, "a.yaml"), "old\n");
    await expect(
      writeChanges(dir, [
        { path: "a.yaml", before: "old\n", after: "new\n" },
        { path: "gone/b.yaml", before: "old\n", after: "new\n" },
      ]),
    ).rejects.toThrow(/gone\/b\.yaml: no such file or directory/);
    expect(readFileSync(join(dir, "a.yaml"), "utf8")).toBe("old\n");
    expect(readdirSync(dir)).toEqual(["a.yaml"]);
  });

  it("renders git-style headers without timestamps", async () => {
    const diff = renderDiff([{ path: "x/p.yaml", before: "a: 1\n", after: "a: 2\n" }]);
    expect(diff).toBe(
      "diff --git a/x/p.yaml b/x/p.yaml\n--- a/x/p.yaml\n+++ b/x/p.yaml\n@@ -1,1 +1,1 @@\n-a: 1\n+a: 2\n",
    );
  });
});
