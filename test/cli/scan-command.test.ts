// The built CLI, run as users run it: `node dist/cli/main.js`. `npm test` builds first (pretest).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/external.js";

const MAIN = join(PROJECT_ROOT, "dist/cli/main.js");

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", cwd: PROJECT_ROOT, timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const BROKEN_POLICY = `# minio may talk to vault
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: minio-to-vault
  namespace: minio
spec:
  endpointSelector: {}
  egress:
    - toServices:
        - k8sService:
            serviceName: cluster-vault
            namespace: vault
      toPorts:
        - ports:
            - port: "8200"
              protocol: TCP
`;

const CLEAN_POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: web
  namespace: web
spec:
  endpointSelector: {}
  egress:
    - toEndpoints:
        - matchLabels:
            app: db
`;

let tmp: string;
let clean: string;
let broken: string;

function write(path: string, content: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

beforeAll(() => {
  if (!existsSync(MAIN)) spawnSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
  tmp = mkdtempSync(join(tmpdir(), "cpb-cli-"));
  clean = join(tmp, "clean");
  broken = join(tmp, "broken");
  write(join(clean, "apps/web/policy.yaml"), CLEAN_POLICY);
  write(join(broken, "apps/web/policy.yaml"), CLEAN_POLICY);
  write(join(broken, "apps/minio/policy.yaml"), BROKEN_POLICY);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** One line, no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe("scan exit codes", () => {
  it("exits 0 without error findings", () => {
    const run = cli("scan", clean);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toBe("Cilium versions judged: >=1.13 (default).\nNo findings in 1 file (1 policy).\n");
  });

  it("exits 1 with error findings and reports the line of toServices", () => {
    const run = cli("scan", broken);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(
      /^error +to-services-with-to-ports +apps\/minio\/policy\.yaml:10:7 +minio\/minio-to-vault/m,
    );
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("1 error in 2 files (2 policies).");
  });

  it("follows --cilium-version: from 1.17 on the combination is only worth an info", () => {
    const run = cli("scan", broken, "--cilium-version", ">=1.17", "--format", "json");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { findings: Array<{ severity: string }> };
    expect(report.findings.map((f) => f.severity)).toEqual(["info"]);
  });

  it("exits 2 with one line for a directory that does not exist", () => {
    const run = cli("scan", join(tmp, "nope"));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expectOneLineError(run.stderr, /^error: .*nope: no such file or directory$/);
  });

  it("exits 2 with one line for an unknown format, command or option", () => {
    const format = cli("scan", clean, "--format", "xml");
    expect(format.code).toBe(2);
    expectOneLineError(format.stderr, /'xml' is invalid\. Allowed choices are table, markdown, json, sarif/);
    const command = cli("scna", clean);
    expect(command.code).toBe(2);
    expectOneLineError(command.stderr, /unknown command 'scna'/);
    const option = cli("scan", clean, "--colour");
    expect(option.code).toBe(2);
    expectOneLineError(option.stderr, /unknown option '--colour'/);
  });

  it("exits 0 for --help and --version", () => {
    expect(cli("--version")).toMatchObject({ code: 0, stdout: "0.1.0\n" });
    const help = cli("scan", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--format <format>");
  });
});

describe("scan --config", () => {
  it("exits 2 naming the key of an invalid setting in --config", () => {
    const config = join(tmp, "bad-config.yml");
    write(config, "ciliumVersion: '>=1.14'\nunresolved: maybe\n");
    const run = cli("scan", clean, "--config", config);
    expect(run.code).toBe(2);
    expectOneLineError(
      run.stderr,
      /bad-config\.yml: invalid configuration: `unresolved` must be one of "guess", "skip"/,
    );
  });

  it("exits 2 naming the key of an invalid setting in DIR/.github/cilium-policy-bot.yml", () => {
    const dir = join(tmp, "with-config");
    write(join(dir, "p.yaml"), CLEAN_POLICY);
    write(join(dir, ".github/cilium-policy-bot.yml"), "rules:\n  to-services-with-to-ports: loud\n");
    const run = cli("scan", dir);
    expect(run.code).toBe(2);
    expectOneLineError(run.stderr, /cilium-policy-bot\.yml: invalid configuration: `rules\.to-services-with-to-ports`/);
  });

  it("applies the configuration: a rule turned off no longer fails the run", () => {
    const config = join(tmp, "off.yml");
    write(config, "rules:\n  to-services-with-to-ports: 'off'\n");
    expect(cli("scan", broken, "--config", config)).toMatchObject({ code: 0 });
  });

  it("exits 2 for a --config file that does not exist and for an invalid --cilium-version", () => {
    const missing = cli("scan", clean, "--config", join(tmp, "missing.yml"));
    expect(missing.code).toBe(2);
    expectOneLineError(missing.stderr, /missing\.yml: no such file or directory/);
    const version = cli("scan", clean, "--cilium-version", "one-point-fourteen");
    expect(version.code).toBe(2);
    expectOneLineError(version.stderr, /--cilium-version: not a semver range/);
  });
});

describe("scan --format", () => {
  it("json: the contract", () => {
    const run = cli("scan", broken, "--format", "json");
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(["version", "filesScanned", "policies", "findings", "ciliumVersion"]);
    expect(report).toMatchObject({ version: 1, filesScanned: 2, policies: 2 });
    expect(report.findings).toEqual([
      expect.objectContaining({
        ruleId: "to-services-with-to-ports",
        severity: "error",
        file: "apps/minio/policy.yaml",
        line: 10,
        column: 7,
        policy: "minio/minio-to-vault",
      }),
    ]);
  });

  it("sarif: a 2.1.0 log with relative locations", () => {
    const run = cli("scan", broken, "--format", "sarif");
    expect(run.code).toBe(1);
    const log = JSON.parse(run.stdout) as { version: string; runs: Array<{ tool: { driver: { version: string } } }> };
    expect(log.version).toBe("2.1.0");
    expect(log.runs[0]?.tool.driver.version).toBe("0.1.0");
    expect(run.stdout).toContain('"uri": "apps/minio/policy.yaml"');
  });

  it("markdown: the summary and a table row linked to the rule's README anchor", () => {
    const run = cli("scan", broken, "--format", "markdown");
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^\*\*cilium-policy-bot\*\*: 1 error in 2 files \(2 policies\)\.\n/);
    expect(run.stdout).toContain(
      "| [to-services-with-to-ports](README.md#to-services-with-to-ports) | apps/minio/policy.yaml:10 |",
    );
  });

  it("table is the default", () => {
    expect(cli("scan", broken, "--format", "table").stdout).toBe(cli("scan", broken).stdout);
  });
});
