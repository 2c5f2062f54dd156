// `import-services`: the shell reads the snapshot (a file or stdin's -), skips the repository's Services, writes the
// configuration atomically, or prints the change on --dry-run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runImportServices } from "../../src/cli/import-services-command.js";
import { parseConfig } from "../../src/policy/config.js";
import { PROJECT_ROOT } from "../helpers/external.js";

const SNAPSHOT = JSON.stringify({
  apiVersion: "v1",
  kind: "List",
  items: [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "hubble-relay", namespace: "kube-system", labels: { "k8s-app": "hubble-relay" } },
      spec: { selector: { "k8s-app": "hubble-relay" }, ports: [{ port: 80, targetPort: "grpc" }] },
    },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "hubble-relay-1", namespace: "kube-system", labels: { "k8s-app": "hubble-relay" } },
      spec: { containers: [{ name: "relay", ports: [{ name: "grpc", containerPort: 4245 }] }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "api", namespace: "apps" },
      spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] },
    },
  ],
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "import-services-"));
  mkdirSync(join(dir, "repo/apps"), { recursive: true });
  writeFileSync(
    join(dir, "repo/apps/api.yaml"),
    "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: apps}\nspec: {selector: {app: api}, ports: [{port: 80}]}\n",
  );
  writeFileSync(join(dir, "snapshot.json"), SNAPSHOT);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("import-services", () => {
  it("--dry-run prints the change and writes nothing", async () => {
    const config = join(dir, "dry.yml");
    writeFileSync(config, "# ours\nunresolved: skip\n");
    const output = await runImportServices(join(dir, "snapshot.json"), {
      config,
      dir: join(dir, "repo"),
      dryRun: true,
      offline: true,
    });
    expect(output).toContain("would add kube-system/hubble-relay");
    expect(output).toContain("skipped apps/api: the repository or its charts define it");
    expect(output).toContain("(dry run:");
    expect(output).toContain('"80": 4245');
    expect(readFileSync(config, "utf8")).toBe("# ours\nunresolved: skip\n");
  });

  it("bad chart credentials are a clear CLI error, as in scan and fix", async () => {
    const saved = process.env.CHART_CREDENTIALS;
    process.env.CHART_CREDENTIALS = "not json";
    try {
      await expect(
        runImportServices(join(dir, "snapshot.json"), { config: join(dir, "creds.yml"), dir: join(dir, "repo") }),
      ).rejects.toMatchObject({ name: "CliError", message: expect.stringMatching(/^chart credentials: not JSON/) });
    } finally {
      if (saved === undefined) delete process.env.CHART_CREDENTIALS;
      else process.env.CHART_CREDENTIALS = saved;
    }
  });

  it("writes a new configuration file, then merges into it", async () => {
    const config = join(dir, "new/.github/cilium-policy-bot.yml");
    const first = await runImportServices(join(dir, "snapshot.json"), {
      config,
      dir: join(dir, "repo"),
      offline: true,
    });
    expect(first).toContain("1 added, 0 updated, 1 skipped");
    expect(existsSync(config)).toBe(true);
    expect(Object.keys(parseConfig(readFileSync(config, "utf8")).services)).toEqual(["kube-system/hubble-relay"]);
    const again = await runImportServices(join(dir, "snapshot.json"), {
      config,
      dir: join(dir, "repo"),
      all: true,
      offline: true,
    });
    expect(again).toContain("1 added, 0 updated, 0 skipped");
    expect(Object.keys(parseConfig(readFileSync(config, "utf8")).services)).toEqual([
      "kube-system/hubble-relay",
      "apps/api",
    ]);
  });

  it("an unreadable snapshot is a one-line error naming it", async () => {
    writeFileSync(join(dir, "bad.json"), "{nope");
    await expect(
      runImportServices(join(dir, "bad.json"), { config: join(dir, "x.yml"), dir: join(dir, "repo"), offline: true }),
    ).rejects.toThrow(/bad\.json: not valid YAML or JSON/);
  });

  const main = join(PROJECT_ROOT, "dist/cli/main.js");
  it("the built CLI reads the snapshot from stdin: the README's kubectl pipe", () => {
    if (!existsSync(main)) spawnSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
    const config = join(dir, "piped.yml");
    const run = spawnSync(
      process.execPath,
      [main, "import-services", "-", "--config", config, "--dir", join(dir, "repo"), "--offline"],
      { input: SNAPSHOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("added kube-system/hubble-relay");
    expect(parseConfig(readFileSync(config, "utf8")).services["kube-system/hubble-relay"]?.ports).toEqual({
      "80": 4245,
    });
  });
});
