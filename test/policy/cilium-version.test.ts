// ciliumVersion defaults to what the repository installs; the configuration still wins; the source is always said.
import { describe, expect, it } from "vitest";
import { parseSources } from "../../src/policy/engine.js";
import { resolveConfig } from "../../src/policy/config.js";
import { buildRepoIndex } from "../../src/policy/index/repo-index.js";
import { ciliumRangeOf } from "../../src/policy/index/cilium-version.js";
import { sources } from "../helpers/sources.js";

const CILIUM_RELEASE = `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: cilium, namespace: kube-system}
spec: {url: https://helm.cilium.io/}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: cilium, namespace: kube-system}
spec:
  chart:
    spec: {chart: cilium, version: 1.17.2, sourceRef: {kind: HelmRepository, name: cilium}}
`;

function charts(files: Record<string, string>) {
  return buildRepoIndex(parseSources(sources(files))).charts ?? [];
}

describe("ciliumVersion from what the repository installs", () => {
  it("a HelmRelease of chart cilium 1.17.2: the range is 1.17.2, from that HelmRelease", () => {
    expect(ciliumRangeOf(resolveConfig({}), charts({ "infra/cilium.yaml": CILIUM_RELEASE }))).toEqual({
      range: "1.17.2",
      source: "the repository installs Cilium 1.17.2 (HelmRelease at infra/cilium.yaml:6)",
    });
  });

  it("one HelmRelease installed twice (two Flux Kustomizations apply its file): its place is said once", () => {
    const once = charts({ "infra/cilium.yaml": CILIUM_RELEASE });
    expect(ciliumRangeOf(resolveConfig({}), [...once, ...once]).source).toBe(
      "the repository installs Cilium 1.17.2 (HelmRelease at infra/cilium.yaml:6)",
    );
  });

  it("an Argo CD Application and kustomize helmCharts naming ranges: their union", () => {
    const range = ciliumRangeOf(
      resolveConfig({}),
      charts({
        "argo/cilium.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: cilium, namespace: argocd}
spec:
  destination: {namespace: kube-system}
  source: {repoURL: https://helm.cilium.io/, chart: cilium, targetRevision: 1.16.x}
`,
        "edge/kustomization.yaml": "helmCharts:\n  - {name: cilium, repo: https://helm.cilium.io/, version: 1.17.1}\n",
      }),
    );
    expect(range).toEqual({
      range: "1.16.x || 1.17.1",
      source:
        "the repository installs Cilium 1.16.x (Application at argo/cilium.yaml:1) and 1.17.1 (kustomize helmCharts at edge/kustomization.yaml:2)",
    });
  });

  it("the configuration wins, even when it says the default range; nothing installed: the default", () => {
    const installed = charts({ "infra/cilium.yaml": CILIUM_RELEASE });
    expect(ciliumRangeOf(resolveConfig({ ciliumVersion: ">=1.13" }), installed)).toEqual({
      range: ">=1.13",
      source: "configuration (ciliumVersion)",
    });
    expect(ciliumRangeOf(resolveConfig({}, { ciliumVersion: "~1.15" }), installed).source).toBe(
      "configuration (ciliumVersion)",
    );
    expect(
      ciliumRangeOf(resolveConfig({}), charts({ "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n" })),
    ).toEqual({
      range: ">=1.13",
      source: "default",
    });
  });

  // Seen in FlorisFeddema/homelab (apps/cilium/Chart.yaml) and rogerrum/k8s-gitops (infrastructure/cilium/Chart.yaml):
  // an Argo CD Application installs a chart of the repository, named cilium at its own version 1.0.0, that pulls the
  // real cilium chart in as a dependency. Reconstructed, not copied.
  const UMBRELLA_APPLICATION = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: cilium, namespace: argocd}
spec:
  destination: {namespace: kube-system}
  source: {repoURL: https://github.com/example/homelab, targetRevision: HEAD, path: infrastructure/cilium}
`;
  const umbrellaChart = (name: string, dependency: string) =>
    `apiVersion: v2\nname: ${name}\nversion: 1.0.0\ndependencies:\n  - name: ${dependency}\n    version: "1.17.2"\n    repository: https://helm.cilium.io\n`;

  it("a chart of the repository depending on the cilium chart: the dependency's version, not the chart's own", () => {
    const installed = charts({
      "apps/cilium.yaml": UMBRELLA_APPLICATION,
      "infrastructure/cilium/Chart.yaml": umbrellaChart("cilium", "cilium"),
    });
    const expected = {
      range: "1.17.2",
      source:
        "the repository installs Cilium 1.17.2 (Application at apps/cilium.yaml:1, through the dependency in infrastructure/cilium/Chart.yaml)",
    };
    expect(ciliumRangeOf(resolveConfig({}), installed)).toEqual(expected);
    // Rendered, helm reports the umbrella's own version: still the dependency's.
    const rendered = installed.map((outcome) => ({
      ...outcome,
      rendered: { chart: "cilium", version: "1.0.0", from: "infrastructure/cilium", installer: "Application" as const },
    }));
    expect(ciliumRangeOf(resolveConfig({}), rendered)).toEqual(expected);
    // An umbrella of another name installs Cilium just the same; one without a cilium dependency installs none.
    const networking = charts({
      "apps/cilium.yaml": UMBRELLA_APPLICATION,
      "infrastructure/cilium/Chart.yaml": umbrellaChart("networking", "cilium"),
    });
    expect(ciliumRangeOf(resolveConfig({}), networking).range).toBe("1.17.2");
    const other = charts({
      "apps/cilium.yaml": UMBRELLA_APPLICATION,
      "infrastructure/cilium/Chart.yaml": umbrellaChart("networking", "metallb"),
    });
    expect(ciliumRangeOf(resolveConfig({}), other)).toEqual({ range: ">=1.13", source: "default" });
  });
});
