// Charts through the whole analysis: fixtures installing the shared charts (a Flux HelmRelease, an Argo CD
// Application, kustomize helmCharts) get every rule naming one of their Services rewritten with the rendered selector
// and target ports (source chart). Expected values are computed from ../shared/charts/services.json, the data the
// test renderer answers with; the real helm is the charts-shell tests' business.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { analyse, applyFixes, resolveConfig } from "../../src/policy/api.js";
import { hasSharedCharts } from "../helpers/external.js";
import {
  expectedPorts,
  SHARED_NAMESPACE,
  SHARED_RELEASE,
  SharedChartRenderer,
  sharedChartData,
} from "../helpers/shared-chart-renders.js";
import type { SharedChart, SharedService } from "../helpers/shared-chart-renders.js";
import { sources } from "../helpers/sources.js";
import { renderFixJson, renderFixText } from "../../src/cli/fix-command.js";
import { followUpBody } from "../../src/github/render.js";

const config = resolveConfig({});

type Installer = "flux" | "argo" | "kustomize";

function installerFiles(kind: Installer, chart: SharedChart): Record<string, string> {
  const repo = `https://charts.example.org/${chart.name}`;
  switch (kind) {
    case "flux":
      return {
        "infra/sources.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: ${chart.name}, namespace: flux-system}
spec: {url: ${repo}}
`,
        "infra/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: ${SHARED_RELEASE}, namespace: ${SHARED_NAMESPACE}}
spec:
  chart:
    spec: {chart: ${chart.name}, version: "${chart.version}", sourceRef: {kind: HelmRepository, name: ${chart.name}, namespace: flux-system}}
`,
      };
    case "argo":
      return {
        "argo/app.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ${chart.name}, namespace: argocd}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: ${SHARED_NAMESPACE}}
  source:
    repoURL: ${repo}
    chart: ${chart.name}
    targetRevision: ${chart.version}
    helm: {releaseName: ${SHARED_RELEASE}}
`,
      };
    case "kustomize":
      return {
        "platform/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
helmCharts:
  - name: ${chart.name}
    repo: ${repo}
    version: ${chart.version}
    releaseName: ${SHARED_RELEASE}
    namespace: ${SHARED_NAMESPACE}
`,
      };
  }
}

/** One policy with one egress rule per Service: toServices + toPorts on the Service's first port. */
function policyOf(services: readonly SharedService[]): string {
  const egress = services.map((service) => {
    const port = service.ports[0] as SharedService["ports"][number];
    return {
      toServices: [{ k8sService: { serviceName: service.name, namespace: SHARED_NAMESPACE } }],
      toPorts: [{ ports: [{ port: String(port.port), protocol: port.protocol }] }],
    };
  });
  return `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-charts, namespace: app}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: ${JSON.stringify(egress)}
`;
}

const shared = hasSharedCharts() ? sharedChartData() : undefined;

describe.skipIf(shared === undefined)("fix with the shared charts rendered", () => {
  const charts: SharedChart[] = shared ?? [];
  const cases = (["flux", "argo", "kustomize"] as const).flatMap((kind) =>
    charts.map((chart) => [kind, chart.archive, chart] as const),
  );

  it.each(cases)("%s, %s: every rule naming one of its Services rewritten from the render", async (kind, _a, chart) => {
    const services = (chart.renders[0]?.services ?? []).filter(
      (service) => service.selector !== null && Object.keys(service.selector).length > 0 && service.ports.length > 0,
    );
    const files = { ...installerFiles(kind, chart), "app/policy.yaml": policyOf(services) };
    const analysis = await analyse(sources(files), { config, charts: new SharedChartRenderer(charts) });
    expect(analysis.findings.filter((f) => f.ruleId === "chart-not-rendered")).toEqual([]);
    const result = applyFixes(analysis);
    expect(result.rewrites).toHaveLength(services.length);
    const after = parse(result.changes[0]?.after ?? "") as {
      spec: { egress: Array<{ toEndpoints?: unknown; toPorts?: Array<{ ports: Array<{ port: string }> }> }> };
    };
    services.forEach((service, i) => {
      const rewrite = result.rewrites[i];
      expect(rewrite?.status, service.name).toBe("rewritten");
      const [answer] = rewrite?.services ?? [];
      expect(answer?.resolution).toBe("chart");
      expect(answer?.chart).toBe(`${chart.name}@${chart.version}`);
      const selector = { ...service.selector, "k8s:io.kubernetes.pod.namespace": SHARED_NAMESPACE };
      expect(answer?.selector).toEqual(selector);
      const target = expectedPorts(service)[0]?.targetPort;
      expect(after.spec.egress[i]?.toEndpoints).toEqual([{ matchLabels: selector }]);
      expect(after.spec.egress[i]?.toPorts?.[0]?.ports[0]?.port).toBe(String(target));
    });
  });
});

describe.skipIf(shared === undefined)("source chart in every output of fix", () => {
  it("the fix text, the fix JSON and the follow-up pull request's Resolved from column name the chart", async () => {
    const charts: SharedChart[] = shared ?? [];
    const grafana = charts.find((c) => c.name === "grafana") as SharedChart;
    const services = (grafana.renders[0]?.services ?? []).filter((s) => s.selector && s.ports.length > 0);
    const files = { ...installerFiles("flux", grafana), "app/policy.yaml": policyOf(services) };
    const result = applyFixes(await analyse(sources(files), { config, charts: new SharedChartRenderer(charts) }));
    const origin = `chart grafana@${grafana.version}`;
    expect(renderFixText(result, false)).toContain(`[${origin}]`);
    const json = JSON.parse(renderFixJson(result)) as { rewrites: Array<{ services: Array<Record<string, unknown>> }> };
    expect(json.rewrites[0]?.services[0]).toMatchObject({ resolution: "chart", chart: `grafana@${grafana.version}` });
    // As displayed: the body breaks "@" mentions with an invisible &#8203;.
    const body = followUpBody(7, result).replaceAll("&#8203;", "");
    expect(body).toContain(`| ${origin} |`);
  });
});

describe("ciliumVersion from what the repository installs, through the analysis", () => {
  const policy = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: app}
spec:
  endpointSelector: {}
  egress:
    - toServices: [{k8sService: {serviceName: api, namespace: app}}]
      toPorts: [{ports: [{port: "80"}]}]
`;
  const cilium = `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: cilium, namespace: kube-system}
spec: {url: https://helm.cilium.io/}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: cilium, namespace: kube-system}
spec:
  chart: {spec: {chart: cilium, version: 1.17.2, sourceRef: {kind: HelmRepository, name: cilium}}}
`;

  it("a repository installing Cilium 1.17.2 is judged for 1.17.2: no error for toServices + toPorts", async () => {
    const installs = await analyse(sources({ "app/policy.yaml": policy, "infra/cilium.yaml": cilium }), { config });
    expect(installs.cilium).toEqual({
      range: "1.17.2",
      source: "the repository installs Cilium 1.17.2 (HelmRelease at infra/cilium.yaml:6)",
    });
    const rule = installs.findings.filter((f) => f.ruleId === "to-services-with-to-ports");
    expect(rule.map((f) => f.severity)).toEqual(["info"]);
    const without = await analyse(sources({ "app/policy.yaml": policy }), { config });
    expect(without.cilium).toEqual({ range: ">=1.13", source: "default" });
    expect(without.findings.filter((f) => f.ruleId === "to-services-with-to-ports").map((f) => f.severity)).toEqual([
      "error",
    ]);
    const configured = await analyse(sources({ "app/policy.yaml": policy, "infra/cilium.yaml": cilium }), {
      config: resolveConfig({ ciliumVersion: ">=1.14 <1.17" }),
    });
    expect(configured.cilium?.source).toBe("configuration (ciliumVersion)");
    expect(configured.findings.filter((f) => f.ruleId === "to-services-with-to-ports").map((f) => f.severity)).toEqual([
      "error",
    ]);
  });
});
