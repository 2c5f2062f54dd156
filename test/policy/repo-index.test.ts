import { describe, expect, it } from "vitest";
import { parseManifestFile } from "../../src/policy/read/manifests.js";
import { buildRepoIndex } from "../../src/policy/index/repo-index.js";
import { sources } from "../helpers/sources.js";

function index(files: Record<string, string>) {
  return buildRepoIndex(sources(files).map(parseManifestFile));
}

describe("buildRepoIndex: metadata as written", () => {
  it("indexes a Service with its selector, labels and ports", () => {
    const { services } = index({
      "vault/svc.yaml": `apiVersion: v1
kind: Service
metadata:
  name: cluster-vault
  namespace: vault
  labels: {app.kubernetes.io/name: vault, tier: 2}
spec:
  selector:
    app.kubernetes.io/name: vault
    app.kubernetes.io/instance: cluster-vault
  ports:
    - name: http
      port: 8200
      targetPort: api
    - port: 8201
      targetPort: 18201
      protocol: tcp
    - port: 53
      protocol: UDP
`,
    });
    expect(services).toEqual([
      {
        name: "cluster-vault",
        namespace: "vault",
        labels: { "app.kubernetes.io/name": "vault", tier: "2" },
        selector: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "cluster-vault" },
        ports: [
          { name: "http", port: 8200, targetPort: "api", protocol: "TCP" },
          { port: 8201, targetPort: 18201, protocol: "TCP" },
          { port: 53, protocol: "UDP" },
        ],
        location: { file: "vault/svc.yaml", line: 1, column: 1 },
      },
    ]);
  });

  it("tells a selector-less Service and an ExternalName Service apart from one with a selector", () => {
    const { services } = index({
      "s.yaml": `apiVersion: v1
kind: Service
metadata: {name: ext-db}
spec: {ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: x}
spec: {type: ExternalName, externalName: api.example.com}
`,
    });
    expect(services.map((s) => [s.name, s.namespace, s.selector, s.type, s.externalName])).toEqual([
      ["ext-db", undefined, undefined, undefined, undefined],
      ["api", "x", undefined, "ExternalName", "api.example.com"],
    ]);
  });

  it("indexes the pod templates of every workload kind, init containers' ports included", () => {
    const pod = (labels: string) => `metadata: {labels: ${labels}}
      spec:
        initContainers: [{name: i, ports: [{name: init, containerPort: 9000}]}]
        containers: [{name: c, ports: [{name: http, containerPort: 8080}, {containerPort: 53, protocol: UDP}]}]`;
    const { workloads } = index({
      "w.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: n}
spec:
  selector: {matchLabels: {app: d}}
  template:
      ${pod("{app: d}")}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s}
spec:
  template:
      ${pod("{app: s}")}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  template:
      ${pod("{app: ds}")}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  template:
      ${pod("{app: rs}")}
---
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
      ${pod("{app: j}")}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: cj}}
        spec:
          initContainers: [{name: i, ports: [{name: init, containerPort: 9000}]}]
          containers: [{name: c, ports: [{name: http, containerPort: 8080}, {containerPort: 53, protocol: UDP}]}]
---
apiVersion: v1
kind: Pod
${pod("{app: p}").replace(/\n {6}/g, "\n")}
---
apiVersion: example.com/v1
kind: Deployment
metadata: {name: not-a-workload}
`.replace("kind: Pod\nmetadata: {labels: {app: p}}", "kind: Pod\nmetadata: {name: p, labels: {app: p}}"),
    });
    expect(workloads.map((w) => [w.kind, w.name, w.namespace, w.podLabels])).toEqual([
      ["Deployment", "d", "n", { app: "d" }],
      ["StatefulSet", "s", undefined, { app: "s" }],
      ["DaemonSet", "ds", undefined, { app: "ds" }],
      ["ReplicaSet", "rs", undefined, { app: "rs" }],
      ["Job", "j", undefined, { app: "j" }],
      ["CronJob", "cj", undefined, { app: "cj" }],
      ["Pod", "p", undefined, { app: "p" }],
    ]);
    for (const workload of workloads) {
      expect(workload.containerPorts).toEqual([
        { name: "http", containerPort: 8080, protocol: "TCP" },
        { containerPort: 53, protocol: "UDP" },
        { name: "init", containerPort: 9000, protocol: "TCP" },
      ]);
    }
    expect(workloads[0]?.selector).toEqual({ matchLabels: { app: "d" } });
  });

  it("indexes Endpoints per subset and EndpointSlices by their service-name label", () => {
    const { endpoints } = index({
      "e.yaml": `apiVersion: v1
kind: Endpoints
metadata: {name: ext-db, namespace: data}
subsets:
  - addresses: [{ip: 10.0.0.1}, {ip: 10.0.0.2}]
    ports: [{name: pg, port: 5432}]
  - addresses: [{ip: "fd00::1"}]
    ports: [{port: 53, protocol: UDP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ext-api-abc
  namespace: data
  labels: {kubernetes.io/service-name: ext-api}
addressType: IPv4
endpoints:
  - addresses: [192.168.1.10]
  - addresses: [192.168.1.11]
ports: [{name: https, port: 443, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: no-label}
addressType: IPv4
endpoints: [{addresses: [1.1.1.1]}]
`,
    });
    expect(endpoints.map((e) => [e.serviceName, e.namespace, e.addresses, e.ports])).toEqual([
      ["ext-db", "data", ["10.0.0.1", "10.0.0.2"], [{ name: "pg", port: 5432, protocol: "TCP" }]],
      ["ext-db", "data", ["fd00::1"], [{ port: 53, protocol: "UDP" }]],
      ["ext-api", "data", ["192.168.1.10", "192.168.1.11"], [{ name: "https", port: 443, protocol: "TCP" }]],
    ]);
  });

  it("indexes Flux HelmReleases and Argo CD Applications with Flux's default release name", () => {
    const { releases } = index({
      "r.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: vault, namespace: flux-system}
spec:
  releaseName: cluster-vault
  targetNamespace: vault
  chart: {spec: {chart: vault}}
---
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata: {name: redis, namespace: cache}
spec:
  chart: {spec: {chart: redis}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: loki, namespace: flux-system}
spec:
  targetNamespace: logs
  chart: {spec: {chart: loki}}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: grafana, namespace: argocd}
spec:
  source: {chart: grafana, helm: {releaseName: obs-grafana}}
  destination: {namespace: monitoring}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: plain, namespace: argocd}
spec:
  source: {path: apps/plain}
  destination: {namespace: plain}
`,
    });
    expect(releases.map((r) => [r.kind, r.releaseName, r.chart, r.namespace])).toEqual([
      ["HelmRelease", "cluster-vault", "vault", "vault"],
      ["HelmRelease", "redis", "redis", "cache"],
      ["HelmRelease", "logs-loki", "loki", "logs"],
      ["Application", "obs-grafana", "grafana", "monitoring"],
    ]);
  });

  it("never throws on odd values and ignores what it cannot read", () => {
    const result = index({
      "odd.yaml": `apiVersion: v1
kind: Service
metadata: {name: [x]}
---
apiVersion: v1
kind: Service
metadata: {name: ok}
spec: {selector: [a], ports: [{port: 70000}, {port: "80", targetPort: "8080"}, null, 3]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [null, {ports: "x"}]}}}
`,
    });
    expect(result.services.map((s) => [s.name, s.selector, s.ports])).toEqual([
      ["ok", undefined, [{ port: 80, targetPort: 8080, protocol: "TCP" }]],
    ]);
    expect(result.workloads.map((w) => [w.name, w.podLabels, w.containerPorts])).toEqual([["d", {}, []]]);
  });
});
