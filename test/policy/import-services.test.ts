// import-services: a cluster snapshot's Services into the configuration, comments and order kept; the imported
// entries then resolve as source config, and their labels match k8sServiceSelector entries.
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseConfig } from "../../src/policy/config.js";
import { parseSources } from "../../src/policy/engine.js";
import { buildRepoIndex } from "../../src/policy/index/repo-index.js";
import { definedServiceKeys, importServices, SnapshotError } from "../../src/policy/index/import-services.js";
import { IndexLookups } from "../../src/policy/index/lookups.js";
import { resolveServices } from "../../src/policy/resolve/resolve.js";
import { sources } from "../helpers/sources.js";

function service(namespace: string, name: string, spec: object, labels: Record<string, string> = {}) {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace, labels }, spec };
}

function pod(namespace: string, name: string, labels: Record<string, string>, ports: object[]) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: "main", image: "x", ports }] },
  };
}

/** Shaped like `kubectl get services,endpointslices,pods,deployments,statefulsets,daemonsets -A -o json`. */
const SNAPSHOT = {
  apiVersion: "v1",
  kind: "List",
  metadata: { resourceVersion: "" },
  items: [
    service(
      "default",
      "kubernetes",
      { ports: [{ name: "https", port: 443, targetPort: 6443 }] },
      { component: "apiserver" },
    ),
    service(
      "kube-system",
      "hubble-relay",
      { selector: { "k8s-app": "hubble-relay" }, ports: [{ port: 80, protocol: "TCP", targetPort: "grpc" }] },
      { "k8s-app": "hubble-relay", "app.kubernetes.io/part-of": "cilium" },
    ),
    pod("kube-system", "hubble-relay-5f7d", { "k8s-app": "hubble-relay", "pod-template-hash": "5f7d" }, [
      { name: "grpc", containerPort: 4245, protocol: "TCP" },
    ]),
    service(
      "monitoring",
      "prometheus-operated",
      {
        selector: { "app.kubernetes.io/name": "prometheus" },
        ports: [{ name: "web", port: 9090, protocol: "TCP", targetPort: "web" }],
      },
      { "operated-prometheus": "true" },
    ),
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: "prometheus-operated-x1",
        namespace: "monitoring",
        labels: { "kubernetes.io/service-name": "prometheus-operated" },
      },
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.0.3.4"] }],
      ports: [{ name: "web", port: 9090, protocol: "TCP" }],
    },
    service("apps", "api", { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] }),
  ],
};

const CONFIG = `# Cilium policy bot settings
ciliumVersion: ">=1.14 <1.17" # our clusters
services:
  # the cache, installed by hand
  cache/redis:
    selector: {app: redis}
    ports: {"6379": 6379}
  kube-system/hubble-relay:
    selector: {old: selector} # stale
    ports: {"80": 4000}
unresolved: guess
`;

describe("importServices", () => {
  it("adds and updates entries, keeps comments, order and other keys, and skips what it cannot import", () => {
    const result = importServices(JSON.stringify(SNAPSHOT), CONFIG, { defined: new Set(["apps/api"]) });
    expect(result.added.map((s) => s.key)).toEqual(["monitoring/prometheus-operated"]);
    expect(result.updated.map((s) => s.key)).toEqual(["kube-system/hubble-relay"]);
    expect(result.skipped).toEqual([
      { key: "apps/api", reason: "the repository or its charts define it (--all imports it anyway)" },
      {
        key: "default/kubernetes",
        reason: "no selector (its endpoints are managed by hand or by a controller): not imported",
      },
    ]);
    // Every line of the old text that the import does not rewrite is still there, in order.
    const kept = CONFIG.split("\n").filter((line) => !line.includes("old: selector") && !line.includes('"80": 4000'));
    const lines = result.text.split("\n");
    let at = 0;
    for (const line of kept) {
      const found = lines.indexOf(line, at);
      expect(found, line).toBeGreaterThanOrEqual(at);
      at = found + 1;
    }
    const config = parseConfig(result.text);
    expect(config.ciliumVersion).toBe(">=1.14 <1.17");
    expect(config.services["kube-system/hubble-relay"]).toEqual({
      selector: { "k8s-app": "hubble-relay" },
      labels: { "app.kubernetes.io/part-of": "cilium", "k8s-app": "hubble-relay" },
      ports: { "80": 4245 },
    });
    // Without pods, the Service's EndpointSlices name the backend port.
    expect(config.services["monitoring/prometheus-operated"]).toEqual({
      selector: { "app.kubernetes.io/name": "prometheus" },
      labels: { "operated-prometheus": "true" },
      ports: { "9090": 9090 },
    });
    expect(config.services["cache/redis"]).toEqual({ selector: { app: "redis" }, ports: { "6379": 6379 } });
  });

  it("a second import of the same snapshot changes nothing; --all imports the repository's Services too", () => {
    const once = importServices(JSON.stringify(SNAPSHOT), CONFIG, { defined: new Set(["apps/api"]) });
    const twice = importServices(JSON.stringify(SNAPSHOT), once.text, { defined: new Set(["apps/api"]) });
    expect(twice.text).toBe(once.text);
    expect([twice.added, twice.updated]).toEqual([[], []]);
    const all = importServices(JSON.stringify(SNAPSHOT), once.text, { defined: new Set(["apps/api"]), all: true });
    expect(all.added.map((s) => s.key)).toEqual(["apps/api"]);
  });

  it("reads kubectl's -o yaml output and writes into an empty or missing configuration", () => {
    const result = importServices(stringify(SNAPSHOT), "");
    expect(Object.keys(parseConfig(result.text).services).sort()).toEqual([
      "apps/api",
      "kube-system/hubble-relay",
      "monitoring/prometheus-operated",
    ]);
    expect(() => importServices("{not json", "")).toThrow(SnapshotError);
    expect(() => importServices('{"kind": "List", "items": []}', "")).toThrow(/no Kubernetes objects/);
  });

  it("a named port that pods do not agree on keeps its name, and says so", () => {
    const snapshot = {
      kind: "List",
      items: [
        service("a", "web", { selector: { app: "web" }, ports: [{ port: 80, targetPort: "http" }] }),
        pod("a", "web-1", { app: "web" }, [{ name: "http", containerPort: 8080 }]),
        pod("a", "web-2", { app: "web" }, [{ name: "http", containerPort: 8081 }]),
      ],
    };
    const [web] = importServices(JSON.stringify(snapshot), "").added;
    expect(web?.ports).toEqual({ "80": "http" });
    expect(web?.notes).toEqual(["port 80: named target port http not resolved, kept the name"]);
  });

  it("imported Services resolve as config, by name and through their labels (k8sServiceSelector)", () => {
    const config = parseConfig(importServices(JSON.stringify(SNAPSHOT), CONFIG).text);
    const index = buildRepoIndex(parseSources([]));
    const context = { policy: { namespace: "apps", clusterwide: false }, lookups: new IndexLookups(index), config };
    const byName = resolveServices({ k8sService: { serviceName: "hubble-relay", namespace: "kube-system" } }, context);
    expect(byName.map((r) => [r.resolution, r.selector, r.ports.find((p) => p.protocol === "TCP")])).toEqual([
      ["config", { "k8s-app": "hubble-relay" }, { port: 80, protocol: "TCP", targetPort: 4245 }],
    ]);
    const bySelector = resolveServices(
      { k8sServiceSelector: { selector: { matchLabels: { "app.kubernetes.io/part-of": "cilium" } } } },
      context,
    );
    expect(bySelector.map((r) => [r.service, r.resolution, r.selector])).toEqual([
      ["kube-system/hubble-relay", "config", { "k8s-app": "hubble-relay" }],
    ]);
  });

  it("the repository's Services are the ones skipped", async () => {
    const defined = await definedServiceKeys(
      sources({
        "apps/api.yaml": stringify(service("apps", "api", { selector: { app: "api" }, ports: [{ port: 80 }] })),
      }),
    );
    expect([...defined]).toEqual(["apps/api"]);
  });
});
