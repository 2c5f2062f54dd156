// A pull request naming chart repositories at loopback and private addresses: the app downloads nothing, the
// comment says why for each release, and its Services fall back to guesses. helm is not needed: the refusals come
// before any render. The app runs with its production network policy (no test-only option).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createChartService } from "../../src/charts/renderer.js";
import { hasHelm, hasSharedCharts, SHARED_CHARTS_DIR } from "../helpers/external.js";
import { generateAppKeys, startApp } from "../helpers/github-app.js";
import type { RunningApp } from "../helpers/github-app.js";
import { pullRequestEvent } from "../helpers/github-payloads.js";
import { startStandIn } from "../helpers/github-standin.js";
import type { GitHubStandIn } from "../helpers/github-standin.js";
import { BASE_FILES } from "./fixture-repo.js";

const APP_ID = 4712;
const SECRET = "chart-downloads-secret";
const keys = generateAppKeys();

describe("chart repositories at internal addresses", () => {
  let standIn: GitHubStandIn;
  let app: RunningApp;
  let internal: Server;
  let port = 0;
  let connections = 0;
  const cacheDir = mkdtempSync(join(tmpdir(), "cpb-e2e-charts-"));

  beforeAll(async () => {
    // What an attacker would like to reach: a service on the app's own host.
    internal = createServer((_req, res) => res.writeHead(200).end("entries: {}\n"));
    internal.on("connection", () => connections++);
    await new Promise<void>((resolve) => internal.listen(0, "127.0.0.1", resolve));
    port = (internal.address() as { port: number }).port;
    standIn = await startStandIn({ appId: APP_ID, publicKey: keys.publicKey }, BASE_FILES);
    app = await startApp({
      appId: APP_ID,
      keys,
      secret: SECRET,
      baseUrl: standIn.url,
      charts: createChartService({ cacheDir, downloads: true }),
    });
  });
  afterAll(async () => {
    await app?.stop();
    await standIn?.stop();
    standIn?.git.remove();
    await new Promise((resolve) => internal?.close(resolve));
    rmSync(cacheDir, { recursive: true, force: true });
  });

  test("nothing is downloaded, and the comment says why", { timeout: 60_000 }, async () => {
    const release = (name: string, url: string, type = "") => `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: ${name}, namespace: flux-system}
spec: {url: "${url}"${type}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: ${name}, namespace: flux-system}
spec:
  releaseName: ${name}
  targetNamespace: ${name}
  chart: {spec: {chart: vault, version: "0.28.1", sourceRef: {kind: HelmRepository, name: ${name}}}}
`;
    const policy = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-vault, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  egress:
    - toServices: [{k8sService: {serviceName: loop-vault, namespace: loop}}]
      toPorts: [{ports: [{port: "8200", protocol: TCP}]}]
`;
    standIn.git.commit(
      "charts-internal",
      {
        "infrastructure/loop.yaml": release("loop", `https://127.0.0.1:${port}/charts`),
        "infrastructure/private.yaml": release("private", "https://10.1.2.3/charts"),
        "infrastructure/metadata.yaml": release("metadata", "https://169.254.169.254/latest"),
        "infrastructure/oci.yaml": release("oci", `oci://127.0.0.1:${port}/charts`, ", type: oci"),
        "infrastructure/plain.yaml": release("plain", `http://charts.example.org/charts`),
        "apps/shop/to-vault.yaml": policy,
      },
      "add chart releases",
      "refs/heads/main",
    );
    const pr = standIn.openPullRequest("charts-internal", "main");
    await app.deliver("pull_request", pullRequestEvent(standIn, pr, "opened"));
    await app.queue.idle();

    expect(connections).toBe(0);
    expect(readdirSync(cacheDir)).not.toContain("downloads");
    const [comment] = standIn.commentsOn(pr.number);
    const body = comment?.body ?? "";
    expect(body).toContain("chart-not-rendered");
    expect(body).toContain("127.0.0.1 is a loopback address");
    expect(body).toContain("10.1.2.3 is a private address");
    expect(body).toContain("169.254.169.254 is a metadata address");
    // (the comment breaks autolinks and escapes parentheses: the words are what matters)
    expect(body).toMatch(/charts\.example\.org\/charts was not downloaded: http:\S* is not allowed \\\(only https:/);
    expect(body.match(/`chart-not-rendered`/g)).toHaveLength(5);
    expect(standIn.violations).toEqual([]);
  });

  test.skipIf(!(hasSharedCharts() && hasHelm()))(
    "a chart from the cache and a chart directory of the repository render: the follow-up uses their selectors",
    { timeout: 120_000 },
    async () => {
      copyFileSync(join(SHARED_CHARTS_DIR, "vault-0.28.1.tgz"), join(cacheDir, "vault-0.28.1.tgz"));
      // The grafana chart as a directory of the repository, installed by kustomize helmCharts from chartHome.
      const unpacked = mkdtempSync(join(tmpdir(), "cpb-e2e-grafana-"));
      execFileSync("tar", ["-xzf", join(SHARED_CHARTS_DIR, "grafana-8.5.2.tgz"), "-C", unpacked]);
      const chartFiles: Record<string, string> = {};
      const walk = (dir: string, prefix: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
          else chartFiles[`charts/grafana/${prefix}${entry.name}`] = readFileSync(join(dir, entry.name), "utf8");
        }
      };
      walk(join(unpacked, "grafana"), "");
      rmSync(unpacked, { recursive: true, force: true });
      const policy = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-charts, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  egress:
    - toServices: [{k8sService: {serviceName: sec-vault, namespace: sec}}]
      toPorts: [{ports: [{port: "8200", protocol: TCP}]}]
    - toServices: [{k8sService: {serviceName: mon-grafana, namespace: mon}}]
      toPorts: [{ports: [{port: "80", protocol: TCP}]}]
`;
      standIn.git.commit(
        "charts-rendered",
        {
          ...chartFiles,
          "infrastructure/vault.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: hashicorp, namespace: flux-system}
spec: {url: "https://helm.releases.hashicorp.com"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: vault, namespace: flux-system}
spec:
  releaseName: sec-vault
  targetNamespace: sec
  chart: {spec: {chart: vault, version: "0.28.x", sourceRef: {kind: HelmRepository, name: hashicorp}}}
`,
          "apps/mon/kustomization.yaml": `helmGlobals: {chartHome: ../../charts}
helmCharts:
  - name: grafana
    releaseName: mon
    namespace: mon
`,
          "apps/shop/to-charts.yaml": policy,
        },
        "add charts",
        "refs/heads/main",
      );
      const pr = standIn.openPullRequest("charts-rendered", "main");
      await app.deliver("pull_request", pullRequestEvent(standIn, pr, "opened"));
      await app.queue.idle();
      const body = standIn.commentsOn(pr.number)[0]?.body ?? "";
      expect(body).not.toContain("chart-not-rendered");
      const [followUp] = standIn.followUpsOf(pr.number);
      expect(followUp).toBeDefined();
      const rewritten = standIn.git.run(["show", `${followUp!.headSha}:apps/shop/to-charts.yaml`]);
      const services = JSON.parse(readFileSync(join(SHARED_CHARTS_DIR, "services.json"), "utf8")) as {
        charts: Record<
          string,
          { renders: Array<{ services: Array<{ name: string; selector: Record<string, string> }> }> }
        >;
      };
      const selectorOf = (archive: string, name: string, release: string) =>
        Object.entries(services.charts[archive]!.renders[0]!.services.find((s) => s.name === name)!.selector).map(
          ([key, value]) => `${key}: ${value === "demo" ? release : value}`,
        );
      for (const label of selectorOf("vault-0.28.1.tgz", "demo-vault", "sec-vault")) expect(rewritten).toContain(label);
      for (const label of selectorOf("grafana-8.5.2.tgz", "demo-grafana", "mon")) expect(rewritten).toContain(label);
      expect(rewritten).not.toContain("guessed");
      expect(standIn.violations).toEqual([]);
    },
  );
});
