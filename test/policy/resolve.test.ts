import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/policy/config.js";
import { parseManifestFile } from "../../src/policy/read/manifests.js";
import { buildRepoIndex } from "../../src/policy/index/repo-index.js";
import { IndexLookups } from "../../src/policy/index/lookups.js";
import { resolveServices } from "../../src/policy/resolve/resolve.js";
import type { ResolveContext } from "../../src/policy/resolve/resolve.js";
import { PROJECT_ROOT } from "../helpers/external.js";
import { source, sources } from "../helpers/sources.js";
import { loadCase } from "./kustomize-fixtures.js";

function context(
  files: Record<string, string>,
  options: { namespace?: string; clusterwide?: boolean; config?: unknown } = {},
): ResolveContext {
  return {
    policy: { namespace: options.namespace ?? "minio", clusterwide: options.clusterwide ?? false },
    lookups: new IndexLookups(buildRepoIndex(sources(files).map(parseManifestFile))),
    config: resolveConfig(options.config ?? {}),
  };
}

const byName = (serviceName: string, namespace?: string) => ({
  k8sService: namespace === undefined ? { serviceName } : { serviceName, namespace },
});

/** What the comparison cares about (location aside, which other tests pin). */
const strip = (results: ReturnType<typeof resolveServices>) => results.map(({ location: _location, ...rest }) => rest);

const VAULT_SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: cluster-vault
  labels: {app.kubernetes.io/name: vault}
spec:
  selector:
    app.kubernetes.io/name: vault
    app.kubernetes.io/instance: cluster-vault
  ports:
    - {name: http, port: 8200, targetPort: 8200}
    - {name: cluster, port: 8201}
`;

describe("resolveServices: repo", () => {
  it("resolves the vault case through its kustomization: namespace and commonLabels in the selector", () => {
    const ctx = context({
      "vault/kustomization.yaml": "namespace: vault\ncommonLabels: {team: security}\nresources: [service.yaml]\n",
      "vault/service.yaml": VAULT_SERVICE,
    });
    const results = resolveServices(byName("cluster-vault", "vault"), ctx);
    expect(strip(results)).toEqual([
      {
        service: "vault/cluster-vault",
        name: "cluster-vault",
        namespace: "vault",
        resolution: "repo",
        selector: {
          "app.kubernetes.io/name": "vault",
          "app.kubernetes.io/instance": "cluster-vault",
          team: "security",
        },
        ports: [
          { port: 8200, protocol: "TCP", targetPort: 8200 },
          { port: 8201, protocol: "TCP", targetPort: 8201 },
        ],
      },
    ]);
    expect(results[0]?.location).toEqual({ file: "vault/service.yaml", line: 1, column: 1 });
  });

  it("k8sService without a namespace: every Service of that name, in any namespace", () => {
    const service = (namespace: string, app: string) =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: ${namespace}}\nspec: {selector: {app: ${app}}, ports: [{port: 5432}]}\n`;
    const ctx = context({ "a.yaml": service("team-a", "pg-a"), "b.yaml": service("team-b", "pg-b") });
    expect(strip(resolveServices(byName("db"), ctx)).map((r) => [r.service, r.resolution, r.selector])).toEqual([
      ["team-a/db", "repo", { app: "pg-a" }],
      ["team-b/db", "repo", { app: "pg-b" }],
    ]);
    expect(strip(resolveServices(byName("db", "team-b"), ctx)).map((r) => r.service)).toEqual(["team-b/db"]);
  });

  it("resolves a named targetPort through the workloads the selector matches in the Service's namespace", () => {
    const deployment = (name: string, namespace: string, port: number, app = "api") => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  template:
    metadata: {labels: {app: ${app}, version: v1}}
    spec: {containers: [{name: c, ports: [{name: web, containerPort: ${port}}, {name: dns, containerPort: 53, protocol: UDP}]}]}
`;
    const service = `apiVersion: v1
kind: Service
metadata: {name: api, namespace: apps}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: web}, {port: 53, protocol: UDP, targetPort: dns}, {port: 81, targetPort: missing}]
`;
    const agree = context({
      "s.yaml": service,
      "d1.yaml": deployment("api", "apps", 8080),
      "d2.yaml": deployment("api-canary", "apps", 8080),
      // Same labels, other namespace, other port: must not count.
      "d3.yaml": deployment("api", "elsewhere", 9999),
    });
    const [resolved] = resolveServices(byName("api", "apps"), agree);
    expect(resolved?.ports).toEqual([
      { port: 80, protocol: "TCP", targetPort: 8080 },
      { port: 53, protocol: "UDP", targetPort: 53 },
      { port: 81, protocol: "TCP", targetPort: "missing" },
    ]);
    expect(resolved?.resolution).toBe("repo");
    expect(resolved?.note).toBe("named targetPort missing: Deployment api has no such container port, kept the name");

    const disagree = context({
      "s.yaml": service,
      "d1.yaml": deployment("api", "apps", 8080),
      "d2.yaml": deployment("api-canary", "apps", 8081),
    });
    const [split] = resolveServices(byName("api", "apps"), disagree);
    expect(split?.ports[0]).toEqual({ port: 80, protocol: "TCP", targetPort: "web" });
    expect(split?.note).toContain("named targetPort web: the matching workloads disagree (8080, 8081), kept the name");

    const none = context({ "s.yaml": service });
    const [unknown] = resolveServices(byName("api", "apps"), none);
    expect(unknown?.ports[0]).toEqual({ port: 80, protocol: "TCP", targetPort: "web" });
    expect(unknown?.note).toContain("named targetPort web: no workload in the repository matches, kept the name");
  });

  it("a selector-less Service with Endpoints/EndpointSlices → CIDRs (/32, /128) and the Endpoints' ports", () => {
    const ctx = context({
      "s.yaml": `apiVersion: v1
kind: Service
metadata: {name: ext-db, namespace: data}
spec: {ports: [{name: pg, port: 5432, targetPort: 6432}, {name: metrics, port: 9187}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: ext-db, namespace: data}
subsets:
  - addresses: [{ip: 10.0.0.1}, {ip: "fd00::1"}]
    ports: [{name: pg, port: 6543}, {name: metrics, port: 9187}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ext-db-x, namespace: data, labels: {kubernetes.io/service-name: ext-db}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.2, 10.0.0.1]}]
ports: [{name: metrics, port: 9187}, {name: pg, port: 6543}]
`,
    });
    expect(strip(resolveServices(byName("ext-db", "data"), ctx))).toEqual([
      {
        service: "data/ext-db",
        name: "ext-db",
        namespace: "data",
        resolution: "repo",
        cidrs: ["10.0.0.1/32", "fd00::1/128", "10.0.0.2/32"],
        ports: [
          { port: 5432, protocol: "TCP", targetPort: 6543 },
          { port: 9187, protocol: "TCP", targetPort: 9187 },
        ],
      },
    ]);
  });

  it("a selector-less Service without Endpoints, an ExternalName Service, a Service without namespace → manual", () => {
    const ctx = context({
      "s.yaml": `apiVersion: v1
kind: Service
metadata: {name: ext-db, namespace: data}
spec: {ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: data}
spec: {type: ExternalName, externalName: api.example.com}
---
apiVersion: v1
kind: Service
metadata: {name: floating}
spec: {selector: {app: floating}}
`,
    });
    expect(strip(resolveServices(byName("ext-db", "data"), ctx))).toEqual([
      {
        service: "data/ext-db",
        name: "ext-db",
        namespace: "data",
        resolution: "manual",
        ports: [],
        note: "selector-less Service at s.yaml:1 without Endpoints or EndpointSlices in the repository",
      },
    ]);
    const [external] = resolveServices(byName("api", "data"), ctx);
    expect([external?.resolution, external?.note]).toEqual([
      "manual",
      "ExternalName Service (api.example.com) at s.yaml:6: it has no pods or addresses to select; consider toFQDNs",
    ]);
    const [floating] = resolveServices(byName("floating"), ctx);
    expect([floating?.service, floating?.resolution, floating?.note]).toEqual([
      "floating",
      "manual",
      "the Service at s.yaml:11 has no namespace, neither in its manifest nor from a kustomization",
    ]);
  });

  it("k8sServiceSelector matches the Services' own labels, not their pod selectors; none → manual", () => {
    const ctx = context({
      "s.yaml": `apiVersion: v1
kind: Service
metadata: {name: a, namespace: x, labels: {expose: "true"}}
spec: {selector: {app: a}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: y, labels: {expose: "true"}}
spec: {selector: {app: b}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: x}
spec: {selector: {expose: "true"}, ports: [{port: 80}]}
`,
    });
    const entry = (namespace?: string) => ({
      k8sServiceSelector: { selector: { matchLabels: { expose: "true" } }, ...(namespace ? { namespace } : {}) },
    });
    expect(resolveServices(entry(), ctx).map((r) => [r.service, r.resolution, r.selector])).toEqual([
      ["x/a", "repo", { app: "a" }],
      ["y/b", "repo", { app: "b" }],
    ]);
    expect(resolveServices(entry("y"), ctx).map((r) => r.service)).toEqual(["y/b"]);
    expect(strip(resolveServices(entry("z"), ctx))).toEqual([
      {
        service: "z/(Services labelled expose=true in z)",
        name: "(Services labelled expose=true in z)",
        namespace: "z",
        resolution: "manual",
        ports: [],
        note: "no Service labelled expose=true in z in the repository",
      },
    ]);
  });

  it("a Service renamed by namePrefix is found by its written name, as a guess with a note", () => {
    const ctx = context({
      "app/kustomization.yaml": "namespace: web\nnamePrefix: prod-\nresources: [s.yaml]\n",
      "app/s.yaml":
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n",
    });
    const [result] = resolveServices(byName("web", "web"), ctx);
    expect([result?.service, result?.resolution, result?.selector]).toEqual([
      "web/prod-web",
      "guessed",
      { app: "web" },
    ]);
    expect(result?.note).toContain("kustomize renamed web to prod-web (namePrefix/nameSuffix)");
  });

  it("a Service an unapplied kustomize patch may change is only a guess, with a note", () => {
    const ctx = context({
      "app/kustomization.yaml": "namespace: web\nresources: [s.yaml]\npatchesStrategicMerge: [patch.yaml]\n",
      "app/s.yaml":
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n",
      "app/patch.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {tier: api}}\n",
    });
    expect(strip(resolveServices(byName("web", "web"), ctx))).toEqual([
      {
        service: "web/web",
        name: "web",
        namespace: "web",
        resolution: "guessed",
        selector: { app: "web" },
        ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
        note: "kustomize fields not applied here may change this Service (app/kustomization.yaml: patchesStrategicMerge): verify",
      },
    ]);
  });

  it("a base rendered into two namespaces gives one answer per namespace; the same name rendered differently → manual", () => {
    const base = {
      "base/kustomization.yaml": "resources: [s.yaml]\n",
      "base/s.yaml":
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n",
    };
    const twoNamespaces = context({
      ...base,
      "dev/kustomization.yaml": "namespace: dev\nresources: [../base]\n",
      "prod/kustomization.yaml": "namespace: prod\nresources: [../base]\n",
    });
    expect(resolveServices(byName("web"), twoNamespaces).map((r) => [r.service, r.resolution])).toEqual([
      ["dev/web", "repo"],
      ["prod/web", "repo"],
    ]);
    const conflicting = context({
      ...base,
      "blue/kustomization.yaml": "namespace: web\ncommonLabels: {slot: blue}\nresources: [../base]\n",
      "green/kustomization.yaml": "namespace: web\ncommonLabels: {slot: green}\nresources: [../base]\n",
    });
    expect(strip(resolveServices(byName("web", "web"), conflicting))).toEqual([
      {
        service: "web/web",
        name: "web",
        namespace: "web",
        resolution: "manual",
        ports: [],
        note: "rendered differently by several kustomizations (base/s.yaml:1)",
      },
    ]);
  });
});

describe("resolveServices: config, builtin, guessed, manual", () => {
  it("config: services keyed namespace/name with a selector and a port map", () => {
    const ctx = context(
      {},
      {
        config: {
          services: {
            "vault/cluster-vault": { selector: { app: "vault" }, ports: { "8200": 8300 } },
            "cache/redis": { selector: { app: "redis" } },
          },
        },
      },
    );
    expect(strip(resolveServices(byName("cluster-vault", "vault"), ctx))).toEqual([
      {
        service: "vault/cluster-vault",
        name: "cluster-vault",
        namespace: "vault",
        resolution: "config",
        selector: { app: "vault" },
        ports: [
          { port: 8200, protocol: "TCP", targetPort: 8300 },
          { port: 8200, protocol: "UDP", targetPort: 8300 },
          { port: 8200, protocol: "SCTP", targetPort: 8300 },
        ],
      },
    ]);
    const [redis] = resolveServices(byName("redis"), ctx);
    expect([redis?.service, redis?.resolution, redis?.ports, redis?.note]).toEqual([
      "cache/redis",
      "config",
      [],
      "no ports in the configuration: toPorts kept as written",
    ]);
  });

  it("builtin: kube-dns by its pods' label, the API server as an entity", () => {
    const ctx = context({});
    const [dns] = resolveServices(byName("kube-dns", "kube-system"), ctx);
    expect([dns?.resolution, dns?.selector, dns?.namespace]).toEqual([
      "builtin",
      { "k8s-app": "kube-dns" },
      "kube-system",
    ]);
    const [api] = resolveServices(byName("kubernetes", "default"), ctx);
    expect([api?.resolution, api?.entities, api?.selector, api?.ports]).toEqual([
      "builtin",
      ["kube-apiserver"],
      undefined,
      [{ port: 443, protocol: "TCP", targetPort: 443 }],
    ]);
    expect(api?.note).toContain("6443");
    // Without a namespace, the builtin of that name in any namespace.
    expect(resolveServices(byName("kube-dns"), ctx).map((r) => r.service)).toEqual(["kube-system/kube-dns"]);
    // A repository Service of that name wins over the builtin.
    const own = context({
      "dns.yaml":
        "apiVersion: v1\nkind: Service\nmetadata: {name: kube-dns, namespace: kube-system}\nspec: {selector: {app: coredns}, ports: [{port: 53, protocol: UDP}]}\n",
    });
    expect(resolveServices(byName("kube-dns", "kube-system"), own).map((r) => [r.resolution, r.selector])).toEqual([
      ["repo", { app: "coredns" }],
    ]);
  });

  it("guessed: a Helm release explains the name (release name and name-suffix), else app.kubernetes.io/name", () => {
    const ctx = context({
      "vault/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: cluster-vault, namespace: vault}
spec:
  chart: {spec: {chart: vault, sourceRef: {kind: HelmRepository, name: hashicorp}}}
`,
    });
    const [release] = resolveServices(byName("cluster-vault", "vault"), ctx);
    expect(strip([release!])).toEqual([
      {
        service: "vault/cluster-vault",
        name: "cluster-vault",
        namespace: "vault",
        resolution: "guessed",
        selector: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "cluster-vault" },
        ports: [],
        note:
          "no Service vault/cluster-vault in the repository; guessed from the Helm release cluster-vault (chart vault, " +
          "HelmRelease at vault/release.yaml:1) using the chart's conventional labels; not rendered: chart vault: the " +
          "HelmRepository vault/hashicorp is not in the repository; target ports unknown, toPorts kept as written: verify",
      },
    ]);
    const [suffixed] = resolveServices(byName("cluster-vault-ui", "vault"), ctx);
    expect(suffixed?.selector).toEqual({
      "app.kubernetes.io/name": "vault",
      "app.kubernetes.io/instance": "cluster-vault",
    });
    // Another namespace: the release does not explain it.
    const [plain] = resolveServices(byName("cluster-vault", "other"), ctx);
    expect([plain?.resolution, plain?.selector]).toEqual(["guessed", { "app.kubernetes.io/name": "cluster-vault" }]);
    expect(plain?.note).toContain("guessed the conventional label app.kubernetes.io/name");
  });

  // A shape of the public home labs reconstructed in round 3: `k8sService: {serviceName: x}` without a namespace
  // (an ingress controller's metrics Service, a VPN gateway), which Cilium matches in every namespace; the guess can
  // only assume the policy's.
  it("guessed for an entry without a namespace: the note says the namespace itself is assumed", () => {
    const [guessed] = resolveServices(byName("redis"), context({}, { namespace: "web" }));
    expect([guessed?.resolution, guessed?.namespace, guessed?.selector]).toEqual([
      "guessed",
      "web",
      { "app.kubernetes.io/name": "redis" },
    ]);
    expect(guessed?.note).toMatch(
      /^the entry names no namespace, so Cilium matches a Service redis in any namespace; assumed the policy's namespace web: /,
    );
    // Named, the namespace is the entry's: nothing assumed about it.
    const [named] = resolveServices(byName("redis", "web"), context({}, { namespace: "web" }));
    expect(named?.note).not.toContain("names no namespace");
  });

  it("guessed: a Flux release naming its chart through chartRef explains the name as one naming it in spec.chart", () => {
    const ctx = context({
      "media/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: jellyfin, namespace: media}
spec:
  chartRef: {kind: OCIRepository, name: app-template}
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata: {name: app-template, namespace: media}
spec:
  url: oci://ghcr.io/bjw-s/helm/app-template
  ref: {tag: 3.5.1}
`,
    });
    const [resolved] = resolveServices(byName("jellyfin", "media"), ctx);
    expect([resolved?.resolution, resolved?.selector]).toEqual([
      "guessed",
      { "app.kubernetes.io/name": "app-template", "app.kubernetes.io/instance": "jellyfin" },
    ]);
    expect(resolved?.note).toContain("guessed from the Helm release jellyfin (chart app-template, HelmRelease at");
    expect(resolved?.note).toContain("verify");
    // An OCIRepository that is not in the repository names no chart: the Service's own name is guessed, as before.
    const [unknown] = resolveServices(
      byName("jellyfin", "media"),
      context({
        "media/release.yaml":
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: jellyfin, namespace: media}\nspec:\n  chartRef: {kind: OCIRepository, name: app-template}\n",
      }),
    );
    expect(unknown?.selector).toEqual({ "app.kubernetes.io/name": "jellyfin" });
  });

  it("guessed: the Applications an ApplicationSet's list generator makes explain names as an Application does", () => {
    const ctx = context({
      "argo/echo.yaml": `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: echo, namespace: argocd}
spec:
  goTemplate: true
  generators:
    - list:
        elements:
          - {env: prod}
          - {env: staging}
  template:
    metadata: {name: "echo-{{.env}}"}
    spec:
      source: {repoURL: https://charts.example.com, chart: echo-server, targetRevision: 1.2.3}
      destination: {namespace: "{{.env}}"}
`,
    });
    for (const env of ["prod", "staging"]) {
      const [resolved] = resolveServices(byName(`echo-${env}`, env), ctx);
      expect([resolved?.resolution, resolved?.selector]).toEqual([
        "guessed",
        { "app.kubernetes.io/name": "echo-server", "app.kubernetes.io/instance": `echo-${env}` },
      ]);
      expect(resolved?.note).toContain(`guessed from the Helm release echo-${env} (chart echo-server, Application at`);
    }
    // A namespace no generated Application deploys to is not explained by them.
    const [other] = resolveServices(byName("echo-prod", "dev"), ctx);
    expect(other?.selector).toEqual({ "app.kubernetes.io/name": "echo-prod" });
  });

  it("never guesses pods for the Services Cilium makes for the Gateways and Ingresses it implements: manual", () => {
    // Shape of a home-lab plan found in public GitHub code: egress to cilium-gateway-<gateway> with toPorts 80/443.
    for (const name of ["cilium-gateway-homelab-gateway", "cilium-ingress-shop", "cilium-ingress"]) {
      const [resolved] = resolveServices(byName(name, "default"), context({}));
      expect([resolved?.service, resolved?.resolution, resolved?.selector]).toEqual([
        `default/${name}`,
        "manual",
        undefined,
      ]);
      expect(resolved?.note).toContain("made by Cilium");
    }
    // A Service of the repository with such a name is read like any other.
    const own = `apiVersion: v1
kind: Service
metadata: {name: cilium-gateway-mine, namespace: default}
spec: {selector: {app: mine}, ports: [{port: 80}]}
`;
    const [repo] = resolveServices(byName("cilium-gateway-mine", "default"), context({ "s.yaml": own }));
    expect([repo?.resolution, repo?.selector]).toEqual(["repo", { app: "mine" }]);
  });

  it("guesses in the policy's namespace when the entry names none, never in a clusterwide policy", () => {
    const [namespaced] = resolveServices(byName("minio"), context({}, { namespace: "storage" }));
    expect([namespaced?.service, namespaced?.resolution]).toEqual(["storage/minio", "guessed"]);
    const [clusterwide] = resolveServices(byName("minio"), context({}, { clusterwide: true }));
    expect([clusterwide?.service, clusterwide?.namespace, clusterwide?.resolution, clusterwide?.selector]).toEqual([
      "minio",
      undefined,
      "manual",
      undefined,
    ]);
    expect(clusterwide?.note).toContain("its namespace is unknown");
  });

  it("a Service whose namespace nothing sets is assumed to be in the entry's namespace, as a guess", () => {
    const ctx = context({
      "s.yaml": `apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
`,
    });
    expect(strip(resolveServices(byName("api", "backend"), ctx))).toEqual([
      {
        service: "backend/api",
        name: "api",
        namespace: "backend",
        resolution: "guessed",
        selector: { app: "api" },
        ports: [{ port: 80, protocol: "TCP", targetPort: 8080 }],
        note: "the Service api at s.yaml:1 has no namespace in the repository; assumed to be backend: verify",
      },
    ]);
    const skip = context(
      { "s.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec: {selector: {app: api}}\n" },
      { config: { unresolved: "skip" } },
    );
    expect(resolveServices(byName("api", "backend"), skip).map((r) => r.resolution)).toEqual(["manual"]);
  });

  it("unresolved: skip → manual instead of a guess", () => {
    const ctx = context({}, { config: { unresolved: "skip" } });
    expect(strip(resolveServices(byName("cluster-vault", "vault"), ctx))).toEqual([
      {
        service: "vault/cluster-vault",
        name: "cluster-vault",
        namespace: "vault",
        resolution: "manual",
        ports: [],
        note: "not found in the repository, the configuration or the builtins (unresolved: skip)",
      },
    ]);
  });

  it("an unreadable entry → manual, never a throw", () => {
    for (const entry of [null, 3, {}, { k8sService: {} }, { k8sServiceSelector: { selector: "x" } }]) {
      const results = resolveServices(entry, context({}));
      expect(results.map((r) => r.resolution)).toEqual(["manual"]);
    }
  });
});

describe("resolveServices on a kustomize fixture", () => {
  it("a reference to a Service renamed by the kustomization: guessed, with its named targetPort resolved", () => {
    const ctx: ResolveContext = {
      policy: { namespace: "kinds", clusterwide: false },
      lookups: new IndexLookups(buildRepoIndex(loadCase("workload-kinds"))),
      config: resolveConfig({}),
    };
    const [db] = resolveServices(byName("db"), ctx);
    expect([db?.service, db?.resolution, db?.selector, db?.ports]).toEqual([
      "kinds/base-db-blue",
      "guessed",
      { app: "db", "app.kubernetes.io/part-of": "kinds", slot: "blue" },
      [{ port: 5432, protocol: "TCP", targetPort: 5432 }],
    ]);
    expect(db?.note).toContain("kustomize renamed db to base-db-blue");
    const [external] = resolveServices(byName("base-external-blue", "kinds"), ctx);
    expect(external?.resolution).toBe("manual");
  });
});

describe("resolveServices on the example repository", () => {
  it("resolves the vault case: the Service's full selector, its namespace from the kustomization, port 8200", () => {
    const root = join(PROJECT_ROOT, "examples/gitops-repo");
    const files = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
      .map((entry) => {
        const full = join(entry.parentPath, entry.name);
        return parseManifestFile(
          source(
            full
              .slice(root.length + 1)
              .split("\\")
              .join("/"),
            readFileSync(full),
          ),
        );
      });
    const ctx: ResolveContext = {
      policy: { namespace: "minio", clusterwide: false },
      lookups: new IndexLookups(buildRepoIndex(files)),
      config: resolveConfig({}),
    };
    const [vault] = resolveServices(byName("cluster-vault", "vault"), ctx);
    expect([vault?.resolution, vault?.namespace, vault?.selector, vault?.ports[0]]).toEqual([
      "repo",
      "vault",
      { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "cluster-vault", component: "server" },
      { port: 8200, protocol: "TCP", targetPort: 8200 },
    ]);
  });
});
