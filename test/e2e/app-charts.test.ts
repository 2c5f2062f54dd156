// The app renders the Helm charts a repository installs from its own directories, read from the same commit
// through the host port, and rewrites a policy with the selector of the Service the chart makes (needs helm).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createChartService } from "../../src/charts/renderer.js";
import { available, hasHelm } from "../helpers/external.js";
import { generateAppKeys, startApp } from "../helpers/github-app.js";
import { pullRequestEvent } from "../helpers/github-payloads.js";
import { startStandIn } from "../helpers/github-standin.js";
import { badPolicy } from "./fixture-repo.js";

const ready = available("helm (HELM_BIN or on PATH)", hasHelm());

const CHART = {
  "charts/backend/Chart.yaml": "apiVersion: v2\nname: backend\nversion: 0.1.0\n",
  "charts/backend/values.yaml": "port: 9090\n",
  "charts/backend/templates/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
spec:
  selector:
    app.kubernetes.io/name: backend
    app.kubernetes.io/instance: {{ .Release.Name }}
    tier: api
  ports:
    - name: http
      port: 80
      targetPort: {{ .Values.port }}
`,
  "apps/payments/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: payments
  namespace: shop
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/backend
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
`,
};

describe.skipIf(!ready)("charts in the app", () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "cpb-app-chart-cache-"));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  test("a chart of the repository is rendered from the PR's commit: the follow-up selects its Service's pods", async () => {
    const keys = generateAppKeys();
    const standIn = await startStandIn({ appId: 5, publicKey: keys.publicKey }, { "README.md": "# x\n", ...CHART });
    const app = await startApp({
      appId: 5,
      keys,
      secret: "s",
      baseUrl: standIn.url,
      charts: createChartService({ cacheDir, downloads: false }),
    });
    try {
      const policy = badPolicy("shop").replace("serviceName: api", "serviceName: payments");
      standIn.git.commit("feature", { "apps/shop/policy.yaml": policy }, "policy", "refs/heads/main");
      const pr = standIn.openPullRequest("feature");
      await app.deliver("pull_request", pullRequestEvent(standIn, pr, "opened"));
      await app.queue.idle();
      expect(standIn.violations).toEqual([]);
      const [followUp] = standIn.followUpsOf(pr.number);
      expect(followUp).toMatchObject({ state: "open", draft: false });
      const rewritten = standIn.git.files(`refs/heads/${followUp!.headRef}`).get("apps/shop/policy.yaml")!.toString();
      expect(rewritten).toContain("app.kubernetes.io/instance: payments");
      expect(rewritten).toContain("tier: api");
      expect(rewritten).toContain('port: "9090"');
      // The repository's chart directory was read from the same commit, in one more archive request.
      const tarballs = standIn.requests.filter((r) => r.route === "GET /repos/{owner}/{repo}/tarball/{ref}");
      expect(tarballs.map((r) => r.path.split("/").pop())).toEqual([pr.headSha, pr.headSha]);
    } finally {
      await app.stop();
      await standIn.stop();
      standIn.git.remove();
    }
  }, 60_000);
});
