// GitOps repositories installing the shared charts (../shared/charts) through a Flux HelmRelease, an Argo CD
// Application or a kustomize helmCharts entry, each release `demo` in namespace `demo` (what services.json was
// rendered for), plus one CiliumNetworkPolicy per chart whose egress rules name every Service the chart renders
// with a selector through toServices + toPorts. Generated from services.json, so nothing here is tuned to a chart.
import type { SharedChart, SharedService } from "./shared-chart-renders.js";
import { SHARED_NAMESPACE, SHARED_RELEASE } from "./shared-chart-renders.js";

export type Installer = "flux" | "argocd" | "kustomize";

/** Which installer installs which chart: every shared chart once, each installer at least twice. */
export function installerOf(chart: SharedChart, index: number): Installer {
  return (["flux", "argocd", "kustomize"] as const)[index % 3]!;
}

/** The Services a policy names: those of the default render that select pods. */
export function namedServices(chart: SharedChart): SharedService[] {
  return (chart.renders[0]?.services ?? []).filter((s) => s.selector && Object.keys(s.selector).length > 0);
}

function release(
  installer: Installer,
  chart: SharedChart,
  repository: string,
  version: string,
): Record<string, string> {
  const dir = `${installer}/${chart.name}`;
  switch (installer) {
    case "flux":
      return {
        [`${dir}/repository.yaml`]: `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: ${chart.name}
  namespace: flux-system
spec:
  interval: 1h
  url: ${repository}
`,
        [`${dir}/release.yaml`]: `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ${chart.name}
  namespace: flux-system
spec:
  interval: 1h
  releaseName: ${SHARED_RELEASE}
  targetNamespace: ${SHARED_NAMESPACE}
  chart:
    spec:
      chart: ${chart.name}
      version: "${version}"
      sourceRef:
        kind: HelmRepository
        name: ${chart.name}
`,
      };
    case "argocd":
      return {
        [`${dir}/application.yaml`]: `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: ${chart.name}
  namespace: argocd
spec:
  project: default
  source:
    repoURL: ${repository}
    chart: ${chart.name}
    targetRevision: "${version}"
    helm:
      releaseName: ${SHARED_RELEASE}
  destination:
    server: https://kubernetes.default.svc
    namespace: ${SHARED_NAMESPACE}
`,
      };
    case "kustomize":
      return {
        [`${dir}/kustomization.yaml`]: `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
helmCharts:
  - name: ${chart.name}
    repo: ${repository}
    version: "${version}"
    releaseName: ${SHARED_RELEASE}
    namespace: ${SHARED_NAMESPACE}
`,
      };
  }
}

function policy(chart: SharedChart): string {
  const rules = namedServices(chart).map((service) => {
    const ports = service.ports.map((p) => `            - port: "${p.port}"\n              protocol: ${p.protocol}`);
    return `    - toServices:
        - k8sService:
            serviceName: ${service.name}
            namespace: ${SHARED_NAMESPACE}
      toPorts:
        - ports:
${ports.join("\n")}`;
  });
  return `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: to-${chart.name}
  namespace: apps
spec:
  endpointSelector:
    matchLabels:
      app: client
  egress:
${rules.join("\n")}
`;
}

/**
 * The repository's files. `repository(chart)` is the chart repository URL the installers name; `version(chart)` the
 * version or range they ask for (default: the chart's exact version).
 */
export function chartFixture(
  charts: readonly SharedChart[],
  repository: (chart: SharedChart) => string,
  version: (chart: SharedChart, installer: Installer) => string = (chart) => chart.version,
): Record<string, string> {
  const files: Record<string, string> = {};
  charts.forEach((chart, index) => {
    const installer = installerOf(chart, index);
    Object.assign(files, release(installer, chart, repository(chart), version(chart, installer)));
    files[`policies/${chart.name}.yaml`] = policy(chart);
  });
  return files;
}
