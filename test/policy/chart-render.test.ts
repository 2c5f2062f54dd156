// Rendered charts in the index: chart-made Services resolve as certainly as the repository's (source `chart`), with
// selectors and target ports from the render; without a render, today's guess says why. Expected values come from
// ../shared/charts/services.json, the data the test renderer answers with.
import { describe, expect, it } from "vitest";
import { parseSources } from "../../src/policy/engine.js";
import { analyse } from "../../src/policy/api.js";
import { chartReleasesOf, withRenderedCharts } from "../../src/policy/index/chart-index.js";
import { NO_RENDERER } from "../../src/policy/index/chart-outcomes.js";
import { buildRepoIndex } from "../../src/policy/index/repo-index.js";
import type { RepoIndex } from "../../src/policy/index/repo-index.js";
import { IndexLookups } from "../../src/policy/index/lookups.js";
import { resolveServices } from "../../src/policy/resolve/resolve.js";
import { resolveConfig } from "../../src/policy/config.js";
import type { ChartRender, ChartRenderer } from "../../src/policy/api.js";
import { hasSharedCharts } from "../helpers/external.js";
import { expectedPorts, SharedChartRenderer, sharedChartData } from "../helpers/shared-chart-renders.js";
import type { SharedChart } from "../helpers/shared-chart-renders.js";
import { sources } from "../helpers/sources.js";

const config = resolveConfig({});

function fluxRelease(chart: string, version: string, extra = ""): string {
  return `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: ${chart}, namespace: demo}
spec: {url: https://charts.example.org/${chart}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: demo, namespace: demo}
spec:
  chart: {spec: {chart: ${chart}, version: "${version}", sourceRef: {kind: HelmRepository, name: ${chart}}}}
${extra}`;
}

async function renderedIndex(files: Record<string, string>, renderer: ChartRenderer): Promise<RepoIndex> {
  const index = buildRepoIndex(parseSources(sources(files)));
  const releases = chartReleasesOf(index);
  return withRenderedCharts(index, releases.length > 0 ? await renderer.render(releases) : []);
}

function resolve(index: RepoIndex, name: string, namespace = "demo") {
  return resolveServices(
    { k8sService: { serviceName: name, namespace } },
    { policy: { namespace: "app", clusterwide: false }, lookups: new IndexLookups(index), config },
  );
}

const shared = hasSharedCharts() ? sharedChartData() : undefined;

describe.skipIf(shared === undefined)("rendered shared charts resolve as source chart", () => {
  const charts: SharedChart[] = shared ?? [];

  it.each(charts.map((chart) => [chart.archive, chart] as const))(
    "%s: every Service with a selector, its selector and target ports as rendered",
    async (_archive, chart) => {
      const renderer = new SharedChartRenderer(charts);
      const index = await renderedIndex({ "apps/release.yaml": fluxRelease(chart.name, chart.version) }, renderer);
      expect(index.charts?.map((o) => o.rendered?.version)).toEqual([chart.version]);
      const services = (chart.renders[0]?.services ?? []).filter((s) => s.selector && Object.keys(s.selector).length);
      expect(services.length).toBeGreaterThan(0);
      for (const service of services) {
        const [answer, ...rest] = resolve(index, service.name);
        expect(rest).toEqual([]);
        expect(answer?.resolution).toBe("chart");
        expect(answer?.chart).toBe(`${chart.name}@${chart.version}`);
        expect(answer?.selector).toEqual(service.selector);
        expect(answer?.ports).toEqual(expectedPorts(service));
        expect(answer?.location).toEqual({ file: "apps/release.yaml", line: 6, column: 1 });
        expect(answer?.note).toContain(
          `rendered from chart ${chart.name}@${chart.version} (https://charts.example.org/${chart.name}), HelmRelease at apps/release.yaml:6`,
        );
      }
    },
  );

  it("values reach the render: vault with ui.enabled renders the ui Service", async () => {
    const vault = charts.find((c) => c.name === "vault") as SharedChart;
    const renderer = new SharedChartRenderer(charts);
    const index = await renderedIndex(
      { "apps/release.yaml": fluxRelease(vault.name, vault.version, "  values: {ui: {enabled: true}}\n") },
      renderer,
    );
    const ui = vault.renders
      .find((r) => r.set.includes("ui.enabled=true"))
      ?.services.find((s) => s.name.endsWith("-ui"));
    expect(renderer.asked[0]?.[0]?.values).toEqual({ ui: { enabled: true } });
    expect(resolve(index, ui?.name ?? "?").map((a) => [a.resolution, a.selector])).toEqual([["chart", ui?.selector]]);
  });

  it("the repository's own Service of that name wins over the chart's", async () => {
    const traefik = charts.find((c) => c.name === "traefik") as SharedChart;
    const name = traefik.renders[0]?.services[0]?.name ?? "?";
    const index = await renderedIndex(
      {
        "apps/release.yaml": fluxRelease(traefik.name, traefik.version),
        "apps/svc.yaml": `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: demo}\nspec: {selector: {own: "yes"}, ports: [{port: 80}]}\n`,
      },
      new SharedChartRenderer(charts),
    );
    expect(resolve(index, name).map((a) => [a.resolution, a.selector])).toEqual([["repo", { own: "yes" }]]);
  });

  it("kustomize helmCharts: the kustomization's labels apply to the chart's output, selectors included", async () => {
    const grafana = charts.find((c) => c.name === "grafana") as SharedChart;
    const service = grafana.renders[0]?.services.find((s) => s.selector) ?? grafana.renders[0]?.services[0];
    const index = await renderedIndex(
      {
        "monitoring/kustomization.yaml": `namespace: demo
commonLabels: {team: observability}
helmCharts:
  - name: grafana
    repo: https://grafana.github.io/helm-charts
    version: ${grafana.version}
    releaseName: demo
    namespace: demo
`,
      },
      new SharedChartRenderer(charts),
    );
    const [answer] = resolve(index, service?.name ?? "?");
    expect(answer?.resolution).toBe("chart");
    expect(answer?.selector).toEqual({ ...service?.selector, team: "observability" });
    expect(answer?.location?.file).toBe("monitoring/kustomization.yaml");
    expect(answer?.ports).toEqual(expectedPorts(service!));
  });
});

describe("what may change a render after helm", () => {
  const stream = `---
apiVersion: v1
kind: Service
metadata: {name: demo-web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: demo-other}
spec: {selector: {app: other}, ports: [{port: 80}]}
`;
  const renderer: ChartRenderer = {
    render: (releases) =>
      Promise.resolve(
        releases.map((r) => ({
          key: r.key,
          ok: true as const,
          chart: "web",
          version: "1.0.0",
          from: "x",
          manifests: stream,
        })),
      ),
  };

  it("a kustomization's patch targeting a chart-made Service makes that Service guessed, not the others", async () => {
    const index = await renderedIndex(
      {
        "web/kustomization.yaml": `helmCharts:
  - {name: web, repo: https://charts.example.org, version: 1.0.0, releaseName: demo, namespace: demo}
patches:
  - target: {kind: Service, name: demo-web}
    patch: '[{"op": "replace", "path": "/spec/selector", "value": {"app": "patched"}}]'
`,
      },
      renderer,
    );
    const [web] = resolve(index, "demo-web");
    expect(web?.resolution).toBe("guessed");
    expect(web?.note).toContain(
      "kustomize fields not applied here may change this Service (web/kustomization.yaml: patches)",
    );
    expect(resolve(index, "demo-other")[0]?.resolution).toBe("chart");
  });

  it("Flux post-renderers make the release's render uncertain", async () => {
    const index = await renderedIndex(
      {
        "r.yaml": fluxRelease(
          "web",
          "1.0.0",
          "  postRenderers:\n    - kustomize: {patches: [{target: {kind: Service}, patch: x}]}\n",
        ),
      },
      renderer,
    );
    expect(index.charts?.[0]?.installed.uncertain).toEqual(["spec.postRenderers are not applied"]);
    expect(resolve(index, "demo-web")[0]?.resolution).toBe("guessed");
  });
});

describe("rendered Services without a selector, and what cannot be rendered", () => {
  const stream = `---
# Source: external/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: demo-external}
spec: {ports: [{name: pg, port: 5432}]}
---
# Source: external/templates/endpoints.yaml
apiVersion: v1
kind: Endpoints
metadata: {name: demo-external}
subsets: [{addresses: [{ip: 10.1.2.3}], ports: [{name: pg, port: 15432}]}]
---
# Source: external/templates/hook.yaml
apiVersion: v1
kind: Service
metadata: {name: demo-hook, annotations: {"helm.sh/hook": pre-install}}
spec: {selector: {a: b}, ports: [{port: 1}]}
`;
  const fixed = (answer: (key: string) => ChartRender): ChartRenderer => ({
    render: (releases) => Promise.resolve(releases.map((release) => answer(release.key))),
  });
  const files = { "apps/release.yaml": fluxRelease("external", "1.0.0") };

  it("a selector-less chart Service resolves to its rendered Endpoints; hooks are not indexed", async () => {
    const index = await renderedIndex(
      files,
      fixed((key) => ({ key, ok: true, chart: "external", version: "1.0.0", from: "https://x", manifests: stream })),
    );
    expect(resolve(index, "demo-external").map((a) => [a.resolution, a.cidrs, a.ports])).toEqual([
      ["chart", ["10.1.2.3/32"], [{ port: 5432, protocol: "TCP", targetPort: 15432 }]],
    ]);
    expect(resolve(index, "demo-hook")[0]?.resolution).toBe("guessed");
  });

  it("a failed render: the guess, its note giving the renderer's reason, and one info finding at the release", async () => {
    const reason =
      "chart external 1.0.0 from https://charts.example.org/external is not in the chart cache and downloads are off";
    const index = await renderedIndex(
      files,
      fixed((key) => ({ key, ok: false, reason })),
    );
    const [answer] = resolve(index, "demo-external");
    expect(answer?.resolution).toBe("guessed");
    expect(answer?.note).toContain(`not rendered: ${reason}`);
    expect(index.charts?.map((o) => o.reason)).toEqual([reason]);
  });

  it("without a renderer: the scan reports each release that was not rendered, once, at its line", async () => {
    const result = await analyse(
      sources({
        ...files,
        "apps/other.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: lost, namespace: demo}
spec: {chart: {spec: {chart: lost, sourceRef: {kind: HelmRepository, name: nowhere}}}}
`,
      }),
      { config },
    );
    const findings = result.findings.filter((f) => f.ruleId === "chart-not-rendered");
    expect(findings.map((f) => [f.file, f.line, f.severity])).toEqual([
      ["apps/other.yaml", 1, "info"],
      ["apps/release.yaml", 6, "info"],
    ]);
    expect(findings[0]?.message).toContain("the HelmRepository demo/nowhere is not in the repository");
    expect(findings[1]?.message).toContain(NO_RENDERER);
    expect(findings[1]?.message).toContain(
      "Release demo/demo (chart external 1.0.0 from https://charts.example.org/external)",
    );
  });

  it("Flux variables nothing defines: uncertain only for the Services whose selector or ports they reach", async () => {
    const withVariables = {
      "clusters/prod/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  path: ./apps
  sourceRef: {kind: GitRepository, name: flux-system}
  postBuild: {substitute: {KNOWN: "yes"}}
`,
      "apps/release.yaml": fluxRelease("external", "1.0.0", '  values: {cluster: "${CLUSTER}", known: "${KNOWN}"}\n'),
    };
    const output = `---
apiVersion: v1
kind: Service
metadata: {name: demo-a}
spec: {selector: {app: a, cluster: "\${CLUSTER}"}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: demo-b}
spec: {selector: {app: b}, ports: [{port: 80}]}
`;
    const index = await renderedIndex(
      withVariables,
      fixed((key) => ({ key, ok: true, chart: "external", version: "1.0.0", from: "x", manifests: output })),
    );
    const [a] = resolve(index, "demo-a");
    expect(a?.resolution).toBe("guessed");
    expect(a?.note).toContain("its selector or ports hold Flux variables nothing here defines (${CLUSTER}): verify");
    expect(resolve(index, "demo-b").map((answer) => [answer.resolution, answer.selector])).toEqual([
      ["chart", { app: "b" }],
    ]);
  });

  it("an output over the size bound is not read, and says so", async () => {
    const index = await renderedIndex(
      files,
      fixed((key) => ({
        key,
        ok: true,
        chart: "external",
        version: "1.0.0",
        from: "x",
        manifests: " ".repeat(33 * 1024 * 1024),
      })),
    );
    expect(index.charts?.[0]?.reason).toMatch(/over 32 MiB/);
  });

  it("an output with more objects than the bound is not read, and says so", async () => {
    const many = "---\nkind: Service\napiVersion: v1\nmetadata: {name: s}\n".repeat(5_001);
    const index = await renderedIndex(
      files,
      fixed((key) => ({ key, ok: true, chart: "external", version: "1.0.0", from: "x", manifests: many })),
    );
    expect(index.charts?.[0]?.reason).toMatch(/holds 5001 Services and workloads, over 5000: not read/);
    expect(index.services).toEqual([]);
  });
});

describe("Cilium policies a chart makes", () => {
  // A chart that installs the cluster's clusterwide DNS policy (values' extraObjects and a chart of the repository's
  // own policies both do this in public home-lab repositories): Cilium unions it with the repository's policies.
  const stream = `---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: dns-for-all}
spec:
  endpointSelector: {}
  egress:
    - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
      toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}]
`;
  /** A renderer giving every release the chart "policies" 1.0.0 with these manifests. */
  const rendering = (manifests: string): ChartRenderer => ({
    render: (releases) =>
      Promise.resolve(
        releases.map((r) => ({
          key: r.key,
          ok: true as const,
          chart: "policies",
          version: "1.0.0",
          from: "x",
          manifests,
        })),
      ),
  });
  const renderer = rendering(stream);
  const files = {
    "apps/release.yaml": fluxRelease("policies", "1.0.0"),
    "apps/fqdn.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fqdn, namespace: app}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
    - toFQDNs: [{matchName: api.example.com}]
      toPorts: [{ports: [{port: "443", protocol: TCP}]}]
`,
  };
  const fqdnWarnings = async (charts?: ChartRenderer) =>
    (await analyse(sources(files), { config, ...(charts ? { charts } : {}) })).findings.filter(
      (f) => f.ruleId === "to-fqdns-without-dns-rule",
    );

  it("a chart's DNS policy serves the repository's toFQDNs rules: no to-fqdns warning once it is rendered", async () => {
    expect(await fqdnWarnings()).toHaveLength(1);
    expect(await fqdnWarnings(renderer)).toEqual([]);
  });

  it("are not reported on: no repository text holds them", async () => {
    const broken = stream.replace(
      "- toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]",
      "- toServices: [{k8sService: {serviceName: kube-dns, namespace: kube-system}}]",
    );
    const result = await analyse(sources(files), { config, charts: rendering(broken) });
    expect(result.findings.filter((f) => f.ruleId === "to-services-with-to-ports")).toEqual([]);
  });
});
