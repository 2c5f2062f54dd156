// The shapes real GitOps repositories use (anchors, merge keys, Flux substitution from a ConfigMap, a clusterwide DNS
// policy, Helm values with duplicate keys, tracked files under an ignored directory): the app, through the GitHub
// stand-in, and the CLI, on a git checkout of the same commit, report exactly the same findings.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runScan } from "../../src/cli/scan-command.js";
import { generateAppKeys, startApp } from "../helpers/github-app.js";
import type { RunningApp } from "../helpers/github-app.js";
import { pullRequestEvent } from "../helpers/github-payloads.js";
import { startStandIn } from "../helpers/github-standin.js";
import type { GitHubStandIn } from "../helpers/github-standin.js";
import { BASE_FILES } from "./fixture-repo.js";

const APP_ID = 4712;
const keys = generateAppKeys();
const SHAPES = fileURLToPath(new URL("../fixtures/real-shapes", import.meta.url));
const LEVEL = { error: "failure", warning: "warning", info: "notice" } as const;
let standIn: GitHubStandIn;
let app: RunningApp;
let branches = 0;

beforeAll(async () => {
  standIn = await startStandIn({ appId: APP_ID, publicKey: keys.publicKey }, BASE_FILES);
  app = await startApp({ appId: APP_ID, keys, secret: "real-shapes-secret", baseUrl: standIn.url });
});

afterAll(async () => {
  await app?.stop();
  await standIn?.stop();
  standIn?.git.remove();
});

function filesUnder(dir: string, prefix = ""): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) Object.assign(files, filesUnder(full, `${prefix}${name}/`));
    else files[`${prefix}${name}`] = readFileSync(full, "utf8");
  }
  return files;
}

/** The app's annotations on a pull request adding `files`, and the CLI's findings on a checkout of its head. */
async function bothShells(files: Record<string, string>) {
  const branch = `shapes-${++branches}`;
  standIn.git.commit(branch, files, "real shapes", "refs/heads/main");
  const pr = standIn.openPullRequest(branch, "main");
  await app.deliver("pull_request", pullRequestEvent(standIn, pr, "opened"));
  await app.queue.idle();
  const [run, ...others] = standIn.checkRuns.filter((candidate) => candidate.headSha === pr.headSha);
  expect(others).toEqual([]);
  const fromApp = (run?.annotations ?? []).map((a) => `${a.path}:${a.start_line} ${a.annotation_level}`).sort();

  const checkout = mkdtempSync(join(tmpdir(), "cpb-shapes-"));
  try {
    execFileSync("git", ["clone", "-q", "--branch", branch, standIn.git.dir, checkout], { stdio: "ignore" });
    const { output } = await runScan(checkout, { format: "json" }, "0.0.0");
    const report = JSON.parse(output) as { findings: Array<{ file: string; line: number; severity: "error" }> };
    const changed = new Set(Object.keys(files));
    const fromCli = report.findings
      .filter((finding) => changed.has(finding.file))
      .map((finding) => `${finding.file}:${finding.line} ${LEVEL[finding.severity]}`)
      .sort();
    return { fromApp, fromCli, conclusion: run?.conclusion };
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
}

describe("the app and the CLI on real repository shapes", () => {
  test.each([
    ["anchors on whole selectors and ports", { "shop/anchors.yaml": "anchors.yaml" }],
    ["<<: merges of rule lists and expressions", { "shop/merges.yaml": "merges.yaml" }],
  ])("%s: no error from either", async (_name, mapping) => {
    const files = Object.fromEntries(
      Object.entries(mapping).map(([path, name]) => [path, readFileSync(join(SHAPES, name), "utf8")]),
    );
    const { fromApp, fromCli } = await bothShells(files);
    expect(fromApp).toEqual(fromCli);
    expect(fromApp.filter((line) => line.endsWith("failure"))).toEqual([]);
  });

  test("Flux variables substituted from a ConfigMap (a patch on every Flux Kustomization): no error from either", async () => {
    const { fromApp, fromCli } = await bothShells(filesUnder(join(SHAPES, "flux")));
    expect(fromApp).toEqual(fromCli);
    expect(fromApp.filter((line) => line.startsWith("apps/shop/policy.yaml"))).toEqual([]);
  });

  test("the Flux cluster templates' layout (patches chosen by a label selector on the Flux Kustomizations): the same in both", async () => {
    const { fromApp, fromCli } = await bothShells(filesUnder(join(SHAPES, "flux-template")));
    expect(fromApp).toEqual(fromCli);
    expect(fromApp).toEqual(["kubernetes/apps/kube-system/legacy/app/networkpolicy.yaml:12 notice"]);
  });

  test("a clusterwide DNS policy selecting every pod by the cluster's name: no to-fqdns warning from either", async () => {
    const { fromApp, fromCli } = await bothShells(filesUnder(join(SHAPES, "dns-cluster-label")));
    expect(fromApp).toEqual(fromCli);
    expect(fromApp).toEqual([]);
  });

  test.each([
    [
      "an overlay's patch replacing a base's rule",
      "overlay-patch",
      ["base/policy.yaml:10 warning", "base/policy.yaml:27 failure", "overlays/prod/kustomization.yaml:1 notice"],
    ],
    [
      "a policy file its directory's kustomization does not list",
      "unlisted",
      ["network/traefik/networkpolicy.yaml:11 warning"],
    ],
    ["egress to the Service Cilium makes for its Gateway", "cilium-gateway", ["front.yaml:26 failure"]],
    [
      "Cilium installed by an umbrella chart of the repository (its dependency 1.17.2, not its own 1.0.0)",
      "umbrella-chart",
      ["apps/cilium.yaml:4 notice", "infrastructure/network-policies/sonarr.yaml:11 notice"],
    ],
    [
      "egress left default-allow with private ranges denied, the name read through an anchor",
      "egress-deny-only",
      ["kubernetes/apps/actions-runner-system/runners/home-ops/kustomization.yaml:1 notice"],
    ],
    [
      "an ApplicationSet deploying each directory of apps/ (an umbrella chart pinning Cilium 1.17, plain manifests)",
      "appset-git-directories",
      ["apps/web/networkpolicy.yaml:10 notice", "bootstrap/apps.yaml:5 notice"],
    ],
    [
      "Argo CD directories of manifests, namespaced by their Applications' destinations",
      "argo-directory",
      ["manifests/argo/netpol-workflows-server.yaml:13 warning"],
    ],
    [
      "toEndpoints without a namespace, for pods another Flux Kustomization puts in another namespace",
      "cross-namespace-endpoints",
      ["kubernetes/apps/network/cloudflared/app/networkpolicy.yaml:12 warning"],
    ],
  ])("%s: the same annotations from both", async (_name, dir, expected) => {
    const { fromApp, fromCli } = await bothShells(filesUnder(join(SHAPES, dir)));
    expect(fromApp).toEqual(fromCli);
    expect(fromApp).toEqual(expected);
  });

  test("a clusterwide DNS policy for all pods: no to-fqdns warning from either", async () => {
    const { fromApp, fromCli } = await bothShells(filesUnder(join(SHAPES, "dns")));
    expect(fromApp).toEqual(fromCli);
    expect(fromApp).toEqual([]);
  });

  test("Helm values, yamllint and CI files with duplicate keys: only the broken manifest, in both", async () => {
    const { fromApp, fromCli } = await bothShells(filesUnder(join(SHAPES, "other-yaml")));
    expect(fromApp).toEqual(fromCli);
    expect(fromApp).toEqual(["apps/broken-policy.yaml:6 failure"]);
  });

  test("a tracked file under an ignored directory is read by both", async () => {
    const policy = readFileSync(join(SHAPES, "shared-rule.yaml"), "utf8");
    const { fromApp, fromCli } = await bothShells({
      ".gitignore": "rendered/\n",
      "rendered/shop/policy.yaml": policy,
    });
    expect(fromApp).toEqual(fromCli);
    expect(fromApp).toContain("rendered/shop/policy.yaml:20 failure");
  });
});
