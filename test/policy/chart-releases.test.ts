// Chart references read from the repository: per installer kind, values merged in its order, what stays uncertain.
import { describe, expect, it } from "vitest";
import { parseSources } from "../../src/policy/engine.js";
import { buildRepoIndex } from "../../src/policy/index/repo-index.js";
import { chartReleasesOf } from "../../src/policy/index/chart-index.js";
import { MAX_GENERATED_APPLICATIONS, pathMatch } from "../../src/policy/render/application-set.js";
import { fluxReleaseName } from "../../src/policy/render/chart-releases.js";
import { parse } from "yaml";
import { mergeLayers, mergeValues, parseValuePath, setValueAt } from "../../src/policy/render/helm-values.js";
import { sources } from "../helpers/sources.js";

function index(files: Record<string, string>) {
  return buildRepoIndex(parseSources(sources(files)));
}

function installed(files: Record<string, string>) {
  return (index(files).charts ?? []).map((outcome) => outcome.installed);
}

/** `echo -n some-front-appended-namespace-release-with-a-very-long-name | sha256sum` */
const SHA_OF_LONG = "b9152014cc9c93fa69bdaa18189fa457647e724989c193407a377bf2b5a04a35";

const HELM_REPOSITORY = `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: traefik, namespace: flux-system}
spec: {url: https://traefik.github.io/charts, interval: 1h}
`;

describe("Helm values", () => {
  it("merges maps key by key, replaces lists and scalars, and a null removes the key (Helm's coalescing)", () => {
    expect(
      mergeValues(
        { a: { b: 1, c: [1, 2], d: "x" }, keep: true, drop: 1 },
        { a: { c: [3], e: 2, d: { now: "map" } }, drop: null },
      ),
    ).toEqual({ a: { b: 1, c: [3], d: { now: "map" }, e: 2 }, keep: true });
  });

  it("reads --set paths with escaped dots and list indexes", () => {
    expect(parseValuePath("a.b\\.c[1].d")).toEqual(["a", "b.c", 1, "d"]);
    expect(setValueAt({ a: { x: 1 } }, "a.list[1].name", "n")).toEqual({ a: { x: 1, list: [null, { name: "n" }] } });
  });

  it("a key named __proto__ is a values key like any other, never the prototype of what is merged or set", () => {
    const merged = mergeLayers([parse("__proto__: {a: 1}\nx: 1\n"), parse("__proto__: {b: 2}\n")]);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(["__proto__", "x"]);
    expect(JSON.stringify(merged)).toBe('{"__proto__":{"a":1,"b":2},"x":1}');
    const set = setValueAt({}, "__proto__.polluted", "yes");
    expect(Object.getPrototypeOf(set)).toBe(Object.prototype);
    expect(JSON.stringify(set)).toBe('{"__proto__":{"polluted":"yes"}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("Flux HelmRelease", () => {
  it("shortens release names over 53 characters as helm-controller does", () => {
    const long = "some-front-appended-namespace-release-with-a-very-long-name";
    expect(fluxReleaseName("short")).toBe("short");
    // sha256 of the name, computed independently: echo -n NAME | sha256sum
    expect(fluxReleaseName(long)).toBe(`some-front-appended-namespace-release-wi-${SHA_OF_LONG.slice(0, 12)}`);
    expect(fluxReleaseName(long)).toHaveLength(53);
  });

  it("reads chart, version range, HelmRepository, defaults for release name and namespace, values in Flux's order", () => {
    const charts = installed({
      "infra/sources.yaml": HELM_REPOSITORY,
      "infra/values.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: traefik-values, namespace: ingress}
data:
  values.yaml: |
    service: {type: ClusterIP}
    ports: {web: {port: 8000}, websecure: {port: 8443}}
  extra.yaml: |
    ports: {web: {port: 8001}}
`,
      "infra/secret.yaml": `apiVersion: v1
kind: Secret
metadata: {name: traefik-secret, namespace: ingress}
stringData:
  token: s3cret
`,
      "infra/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: traefik, namespace: ingress}
spec:
  targetNamespace: edge
  chart:
    spec:
      chart: traefik
      version: ">=33.0.0 <34.0.0"
      sourceRef: {kind: HelmRepository, name: traefik, namespace: flux-system}
  valuesFrom:
    - {kind: ConfigMap, name: traefik-values}
    - {kind: ConfigMap, name: traefik-values, valuesKey: extra.yaml}
    - {kind: Secret, name: traefik-secret, valuesKey: token, targetPath: auth.token}
    - {kind: Secret, name: sealed-elsewhere}
  values:
    ports: {websecure: {port: 9443}}
`,
    });
    expect(charts).toHaveLength(1);
    const [traefik] = charts;
    expect(traefik?.releaseName).toBe("edge-traefik");
    expect(traefik?.namespace).toBe("edge");
    expect(traefik?.release?.chart).toEqual({
      kind: "repository",
      repository: "https://traefik.github.io/charts",
      name: "traefik",
      version: ">=33.0.0 <34.0.0",
    });
    expect(traefik?.release?.values).toEqual({
      service: { type: "ClusterIP" },
      ports: { web: { port: 8001 }, websecure: { port: 9443 } },
      auth: { token: "s3cret" },
    });
    expect(traefik?.release?.location).toEqual({ file: "infra/release.yaml", line: 1, column: 1 });
    expect(traefik?.uncertain).toEqual(["valuesFrom Secret sealed-elsewhere is not in the repository"]);
  });

  describe("valuesFrom a Secret's data, read as the API server does (Go's base64.StdEncoding)", () => {
    // "ports: {web: {port: 8001}}\n", base64, split in two lines.
    const [head, tail] = ["cG9ydHM6IHt3ZWI6IHtwb3J0Oi", "A4MDAxfX0K"];
    const releaseWith = (data: string) =>
      installed({
        "infra/sources.yaml": HELM_REPOSITORY,
        "infra/secret.yaml": `apiVersion: v1\nkind: Secret\nmetadata: {name: traefik-values, namespace: ingress}\ndata:\n${data}`,
        "infra/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: traefik, namespace: ingress}
spec:
  chart: {spec: {chart: traefik, sourceRef: {kind: HelmRepository, name: traefik, namespace: flux-system}}}
  valuesFrom:
    - {kind: Secret, name: traefik-values}
`,
      })[0];

    it("a value wrapped over lines in a literal block decodes (Go ignores line breaks)", () => {
      const release = releaseWith(`  values.yaml: |\n    ${head}\n    ${tail}\n`);
      expect(release?.release?.values).toEqual({ ports: { web: { port: 8001 } } });
      expect(release?.uncertain).toEqual([]);
    });

    it.each([
      ["wrapped in a plain scalar (YAML folds the break into a space)", `  values.yaml: ${head}\n    ${tail}\n`],
      ["with a space", `  values.yaml: "${head} ${tail}"\n`],
      ["without its padding", `  values.yaml: ${btoa("a: 1")}\n`.replace("=", "")],
      ["not base64", `  values.yaml: "${head}*${tail}"\n`],
      ["fine, but another key is not", `  values.yaml: ${head}${tail}\n  other: "not base64"\n`],
    ])("a value %s: the API server refuses the Secret, and the release says so", (_what, data) => {
      const release = releaseWith(data);
      expect(release?.release?.values ?? {}).toEqual({});
      expect(release?.uncertain).toHaveLength(1);
      expect(release?.uncertain[0]).toMatch(
        /^valuesFrom Secret traefik-values: Secret traefik-values key (values\.yaml|other) is not base64 as the API server reads it .*refuses the Secret$/,
      );
    });
  });

  it("an OCI HelmRepository (v2beta1), an OCIRepository chartRef, a chart of this repository through a GitRepository", () => {
    const charts = installed({
      "a.yaml": `apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: HelmRepository
metadata: {name: bitnami, namespace: db}
spec: {type: oci, url: oci://registry-1.docker.io/bitnamicharts}
---
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata: {name: postgresql, namespace: db}
spec:
  releaseName: pg
  chart: {spec: {chart: postgresql, version: 15.5.38, sourceRef: {kind: HelmRepository, name: bitnami}}}
`,
      "b.yaml": `apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata: {name: podinfo, namespace: apps}
spec: {url: oci://ghcr.io/stefanprodan/charts/podinfo, ref: {semver: ">=6.0.0"}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: apps}
spec:
  chartRef: {kind: OCIRepository, name: podinfo}
`,
      "c.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata: {name: own, namespace: apps}
spec:
  chart:
    spec:
      chart: ./charts/own
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
      valuesFiles: [charts/own/values-prod.yaml]
`,
      "charts/own/Chart.yaml": "apiVersion: v2\nname: own\nversion: 1.2.3\n",
      "charts/own/values-prod.yaml": "replicas: 3\n",
    });
    expect(charts.map((c) => [c.releaseName, c.namespace, c.release?.chart, c.release?.values])).toEqual([
      [
        "pg",
        "db",
        {
          kind: "repository",
          repository: "oci://registry-1.docker.io/bitnamicharts",
          name: "postgresql",
          version: "15.5.38",
        },
        {},
      ],
      [
        "podinfo",
        "apps",
        { kind: "repository", repository: "oci://ghcr.io/stefanprodan/charts", name: "podinfo", version: ">=6.0.0" },
        {},
      ],
      ["own", "apps", { kind: "directory", path: "charts/own" }, { replicas: 3 }],
    ]);
  });

  it("the Flux Kustomization applying it substitutes its post-build variables; unknown ones make it uncertain", () => {
    const [release] = installed({
      "clusters/prod/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  path: ./apps
  sourceRef: {kind: GitRepository, name: flux-system}
  postBuild:
    substitute: {TRAEFIK_VERSION: "33.2.1", CLUSTER: prod}
    substituteFrom: [{kind: ConfigMap, name: elsewhere}]
`,
      "apps/traefik.yaml": `${HELM_REPOSITORY}---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: traefik, namespace: ingress}
spec:
  chart:
    spec: {chart: traefik, version: "\${TRAEFIK_VERSION}", sourceRef: {kind: HelmRepository, name: traefik, namespace: flux-system}}
  values:
    deployment: {podLabels: {cluster: "\${CLUSTER}", region: "\${REGION}"}}
`,
    });
    expect(release?.release?.chart).toMatchObject({ name: "traefik", version: "33.2.1" });
    expect(release?.release?.values).toEqual({ deployment: { podLabels: { cluster: "prod", region: "${REGION}" } } });
    expect(release?.uncertain).toEqual([]);
    expect(release?.unknownVariables).toEqual(["${REGION}"]);
  });

  it("valuesFrom a ConfigMap that kustomize's configMapGenerator makes from a values file", () => {
    const [release] = installed({
      "apps/podinfo/kustomization.yaml": `namespace: podinfo
resources: [release.yaml, repo.yaml]
configMapGenerator:
  - name: podinfo-values
    files: [values.yaml=values-prod.yaml]
  - name: podinfo-extra
    literals: [replicas=3]
generatorOptions: {disableNameSuffixHash: true}
`,
      "apps/podinfo/values-prod.yaml": "service: {port: 9898}\n",
      "apps/podinfo/repo.yaml": HELM_REPOSITORY.replace("traefik", "podinfo").replace("flux-system", "podinfo"),
      "apps/podinfo/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo}
spec:
  chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}
  valuesFrom:
    - {kind: ConfigMap, name: podinfo-values}
    - {kind: ConfigMap, name: podinfo-extra, valuesKey: replicas, targetPath: replicaCount}
`,
    });
    expect(release?.release?.values).toEqual({ service: { port: 9898 }, replicaCount: 3 });
    expect(release?.uncertain).toEqual([]);
  });

  it("one release per overlay that installs it differently; a kustomize patch that may change it makes it uncertain", () => {
    const charts = installed({
      "apps/base/kustomization.yaml": "resources: [release.yaml, repo.yaml]\n",
      "apps/base/repo.yaml": HELM_REPOSITORY,
      "apps/base/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: traefik}
spec: {chart: {spec: {chart: traefik, version: 33.2.1, sourceRef: {kind: HelmRepository, name: traefik, namespace: flux-system}}}}
`,
      "apps/staging/kustomization.yaml": "namespace: staging\nresources: [../base]\n",
      "apps/production/kustomization.yaml": `namespace: production
resources: [../base]
patches:
  - path: values.yaml
    target: {kind: HelmRelease, name: traefik}
`,
      "apps/production/values.yaml":
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: traefik}\nspec: {values: {replicas: 3}}\n",
    });
    expect(charts.map((c) => [c.key, c.namespace, c.uncertain])).toEqual([
      [
        "apps/base/release.yaml#0/@apps/production/kustomization.yaml",
        "production",
        ["kustomize fields not applied here may change it (apps/production/kustomization.yaml: patches)"],
      ],
      ["apps/base/release.yaml#0/@apps/staging/kustomization.yaml", "staging", []],
    ]);
  });

  it("a HelmRepository the repository does not hold: no render is possible, and the reason says why", () => {
    const [release] = installed({
      "r.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: vault, namespace: vault}
spec: {chart: {spec: {chart: vault, sourceRef: {kind: HelmRepository, name: hashicorp}}}}
`,
    });
    expect(release?.release).toBeUndefined();
    expect(release?.unrenderable).toBe("chart vault: the HelmRepository vault/hashicorp is not in the repository");
    expect(release?.chartName).toBe("vault");
  });

  it("the namespace a kustomization gives the HelmRelease is the release's", () => {
    const [release] = installed({
      "apps/kustomization.yaml": "namespace: web\nresources: [release.yaml, repo.yaml]\n",
      "apps/repo.yaml": HELM_REPOSITORY.replace("namespace: flux-system", "namespace: other"),
      "apps/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: traefik}
spec: {chart: {spec: {chart: traefik, version: 33.2.1, sourceRef: {kind: HelmRepository, name: traefik}}}}
`,
    });
    expect([release?.releaseName, release?.namespace, release?.release?.chart.kind]).toEqual([
      "traefik",
      "web",
      "repository",
    ]);
  });
});

describe("Argo CD Application", () => {
  it("a chart source: repoURL, chart, targetRevision, releaseName, values then valuesObject then parameters", () => {
    const [app] = installed({
      "argo/grafana.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: grafana, namespace: argocd}
spec:
  destination: {namespace: monitoring, server: https://kubernetes.default.svc}
  source:
    repoURL: https://grafana.github.io/helm-charts
    chart: grafana
    targetRevision: 8.5.2
    helm:
      releaseName: graf
      valuesObject:
        service: {port: 80}
        persistence: {enabled: true}
      parameters:
        - {name: service.port, value: "3000"}
        - {name: podLabels.team, value: "42", forceString: true}
`,
    });
    expect(app?.installer).toBe("Application");
    expect([app?.releaseName, app?.namespace]).toEqual(["graf", "monitoring"]);
    expect(app?.release?.chart).toEqual({
      kind: "repository",
      repository: "https://grafana.github.io/helm-charts",
      name: "grafana",
      version: "8.5.2",
    });
    expect(app?.release?.values).toEqual({
      service: { port: 3000 },
      persistence: { enabled: true },
      podLabels: { team: "42" },
    });
  });

  it("multi-source with a $ref value file of this repository, an OCI repoURL without scheme, and a chart path here", () => {
    const charts = installed({
      "argo/apps.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: redis, namespace: argocd}
spec:
  destination: {namespace: cache}
  sources:
    - repoURL: registry-1.docker.io/bitnamicharts
      chart: redis
      targetRevision: 20.x
      helm:
        valueFiles: [$values/values/redis.yaml]
        values: |
          architecture: standalone
    - repoURL: https://github.com/example/gitops.git
      ref: values
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: own, namespace: argocd}
spec:
  destination: {namespace: apps}
  source:
    repoURL: https://github.com/example/gitops.git
    path: charts/own
    helm: {valueFiles: [values-prod.yaml, missing.yaml]}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: plain, namespace: argocd}
spec:
  destination: {namespace: apps}
  source: {repoURL: https://github.com/example/gitops.git, path: manifests}
`,
      "values/redis.yaml": "architecture: replication\nauth: {enabled: false}\n",
      "charts/own/Chart.yaml": "apiVersion: v2\nname: own\nversion: 0.1.0\n",
      "charts/own/values-prod.yaml": "replicas: 2\n",
      "manifests/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    });
    expect(charts.map((c) => [c.releaseName, c.namespace, c.release?.chart, c.release?.values, c.uncertain])).toEqual([
      [
        "redis",
        "cache",
        { kind: "repository", repository: "oci://registry-1.docker.io/bitnamicharts", name: "redis", version: "20.x" },
        { architecture: "standalone", auth: { enabled: false } },
        [],
      ],
      [
        "own",
        "apps",
        { kind: "directory", path: "charts/own" },
        { replicas: 2 },
        ["value file missing.yaml is not in the repository"],
      ],
    ]);
  });
});

describe("Argo CD ApplicationSet", () => {
  // The list-generator shape of public Argo CD repositories: one chart installed per environment.
  const SET = `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: echoes, namespace: argocd}
spec:
  goTemplate: true
  generators:
    - list:
        elements:
          - {env: dev, port: 7000}
          - {env: prod, port: 7001}
          - {env: broken}
  template:
    metadata: {name: 'echo-{{.env}}'}
    spec:
      source:
        repoURL: https://charts.example.com
        chart: echo
        targetRevision: 1.2.3
        helm:
          releaseName: 'echo-{{.env}}'
          valuesObject:
            service: {port: '{{.port}}'}
      destination: {namespace: '{{.env}}'}
`;

  it("installs the template's chart once per list element, parameters substituted", () => {
    const charts = installed({ "argo/set.yaml": SET });
    expect(charts.map((c) => [c.releaseName, c.namespace, c.release?.values])).toEqual([
      ["echo-dev", "dev", { service: { port: "7000" } }],
      ["echo-prod", "prod", { service: { port: "7001" } }],
    ]);
    expect(charts[0]?.release?.chart).toEqual({
      kind: "repository",
      repository: "https://charts.example.com",
      name: "echo",
      version: "1.2.3",
    });
  });

  it("makes at most MAX_GENERATED_APPLICATIONS Applications from one ApplicationSet (untrusted generator lists)", () => {
    const many = Array.from(
      { length: MAX_GENERATED_APPLICATIONS + 10 },
      (_, i) => `          - {env: e${i}, port: ${i}}`,
    );
    const text = SET.replace("          - {env: dev, port: 7000}", many.join("\n"));
    expect(installed({ "argo/set.yaml": text })).toHaveLength(MAX_GENERATED_APPLICATIONS);
  });

  it("makes no Application from a template it cannot expand (functions, fasttemplate keys missing, templatePatch)", () => {
    const functions = SET.replace("releaseName: 'echo-{{.env}}'", "releaseName: '{{ .env | upper }}'");
    expect(installed({ "argo/set.yaml": functions }).map((c) => c.releaseName)).toEqual([]);
    const fast = SET.replace("goTemplate: true", "goTemplate: false").replaceAll("{{.", "{{");
    expect(installed({ "argo/set.yaml": fast }).map((c) => c.releaseName)).toEqual(["echo-dev", "echo-prod"]);
    const patched = SET.replace("goTemplate: true", "goTemplate: true\n  templatePatch: '{}'");
    expect(installed({ "argo/set.yaml": patched })).toEqual([]);
  });
});

describe("Argo CD ApplicationSet git directory generator", () => {
  // The shape of Argo CD home labs that install one chart of the repository per directory (apps/<name>/Chart.yaml),
  // each in a namespace named after its directory. Reconstructed, not copied.
  const GIT_SET = (goTemplate: boolean, name: string, namespace: string) => `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: apps, namespace: argocd}
spec:
  goTemplate: ${goTemplate}
  generators:
    - git:
        repoURL: https://github.com/example/homelab.git
        revision: HEAD
        directories:
          - path: apps/*
          - path: apps/legacy
            exclude: true
  template:
    metadata: {name: '${name}'}
    spec:
      project: default
      source:
        repoURL: https://github.com/example/homelab.git
        targetRevision: HEAD
        path: '{{${goTemplate ? ".path.path" : "path"}}}'
      destination: {server: https://kubernetes.default.svc, namespace: '${namespace}'}
`;
  const CHART = (name: string) => `apiVersion: v2\nname: ${name}\nversion: 1.0.0\n`;
  const repository = (set: string) => ({
    "argo/apps.yaml": set,
    "apps/web/Chart.yaml": CHART("web"),
    "apps/db_main/Chart.yaml": CHART("db"),
    "apps/legacy/Chart.yaml": CHART("legacy"),
    "apps/web/templates/deep/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    "other/Chart.yaml": CHART("other"),
  });

  it("one Application per matching directory of this repository, excluded ones aside, parameters substituted", () => {
    const fast = installed(repository(GIT_SET(false, "{{path.basename}}", "{{path.basenameNormalized}}")));
    expect(fast.map((c) => [c.releaseName, c.namespace, c.release?.chart])).toEqual([
      ["db_main", "db-main", { kind: "directory", path: "apps/db_main" }],
      ["web", "web", { kind: "directory", path: "apps/web" }],
    ]);
    const go = installed(repository(GIT_SET(true, "{{.path.basename}}", "{{.path.basename}}")));
    expect(go.map((c) => [c.releaseName, c.namespace])).toEqual([
      ["db_main", "db_main"],
      ["web", "web"],
    ]);
    const segment = installed(repository(GIT_SET(false, "{{path[1]}}", "{{path[0]}}")));
    expect(segment.map((c) => [c.releaseName, c.namespace])).toEqual([
      ["db_main", "apps"],
      ["web", "apps"],
    ]);
    // Directories beginning with a dot are never generated; the normalized name is Argo CD's (lower case, dashes).
    const more = installed({
      ...repository(GIT_SET(false, "{{path.basename}}", "{{path.basenameNormalized}}")),
      "apps/.hidden/Chart.yaml": CHART("hidden"),
      "apps/My_App/Chart.yaml": CHART("mine"),
    });
    expect(more.map((c) => [c.releaseName, c.namespace])).toEqual([
      ["My_App", "my-app"],
      ["db_main", "db-main"],
      ["web", "web"],
    ]);
    // Argo CD matches the repository's relative directory paths: a pattern with a leading slash matches none.
    expect(installed(repository(GIT_SET(false, "{{path.basename}}", "x").replace("apps/*", "/apps/*")))).toEqual([]);
  });
});

describe("pathMatch (Go's path.Match, as Argo CD's git directory generator uses it)", () => {
  it("matches as Go does: stars and ? within a segment, classes, escapes; a malformed pattern matches nothing", () => {
    const cases: [string, string, boolean][] = [
      ["apps/*", "apps/web", true],
      ["apps/*", "apps/web/sub", false],
      ["apps/**", "apps/web/sub", false],
      ["*/*", "apps/web", true],
      ["*", "apps", true],
      ["a*b*c", "axxbyyc", true],
      ["a*b*c", "axxbyy", false],
      ["apps/w?b", "apps/web", true],
      ["apps/w?b", "apps/w/b", false],
      ["apps/[a-f]*", "apps/db", true],
      ["apps/[^a-f]*", "apps/db", false],
      ["apps/[f|g]", "apps/g", true],
      ["apps/\\*", "apps/*", true],
      ["apps/\\*", "apps/x", false],
      ["apps/[", "apps/x", false],
      ["apps/[a-]", "apps/a", false],
      ["/apps/*", "apps/web", false],
    ];
    expect(cases.map(([pattern, name]) => pathMatch(pattern, name))).toEqual(cases.map(([, , matched]) => matched));
  });

  it("answers a pattern of many stars against a long name (a backtracking regular expression would not return)", () => {
    expect(pathMatch(`${"*a".repeat(30)}*b`, "a".repeat(4000))).toBe(false);
    expect(pathMatch(`${"*a".repeat(30)}*b`, `${"a".repeat(4000)}b`)).toBe(true);
  });
});

describe("kustomize helmCharts", () => {
  it("name, repo, version, releaseName, namespace, valuesFile, valuesInline, additionalValuesFiles; local chartHome", () => {
    const root = index({
      "overlay/kustomization.yaml": "namespace: edge\nresources: [../base]\n",
      "base/kustomization.yaml": `helmGlobals: {chartHome: ../charts}
helmCharts:
  - name: ingress-nginx
    repo: https://kubernetes.github.io/ingress-nginx
    version: 4.11.3
    releaseName: ingress
    namespace: ingress
    valuesFile: values.yaml
    valuesInline: {controller: {replicaCount: 2}}
    additionalValuesFiles: [more.yaml]
  - name: own
    releaseName: own
`,
      "base/values.yaml": "controller: {replicaCount: 1, kind: Deployment}\n",
      "base/more.yaml": "controller: {kind: DaemonSet}\n",
      "charts/own/Chart.yaml": "apiVersion: v2\nname: own\nversion: 0.1.0\n",
    });
    const charts = (root.charts ?? []).map((o) => o.installed);
    expect(charts.map((c) => [c.installer, c.releaseName, c.namespace, c.release?.chart, c.release?.values])).toEqual([
      [
        "kustomize",
        "ingress",
        "ingress",
        {
          kind: "repository",
          repository: "https://kubernetes.github.io/ingress-nginx",
          name: "ingress-nginx",
          version: "4.11.3",
        },
        { controller: { replicaCount: 2, kind: "DaemonSet" } },
      ],
      ["kustomize", "own", "default", { kind: "directory", path: "charts/own" }, {}],
    ]);
    expect(charts[0]?.location).toEqual({ file: "base/kustomization.yaml", line: 3, column: 1 });
    expect(charts[1]?.location.line).toBe(11);
    // The overlay's namespace applies to the chart's output, through the base's and the overlay's layers.
    expect(charts[0]?.layers?.map((l) => [l.root, l.layers.map((layer) => layer.namespace)])).toEqual([
      ["overlay/kustomization.yaml", [undefined, "edge"]],
    ]);
    // The guess uses kustomize releases too, in the namespace the output lands in.
    expect(root.releases.map((r) => [r.kind, r.releaseName, r.namespace])).toContainEqual([
      "kustomize",
      "ingress",
      "edge",
    ]);
  });
});

describe("what the shells render", () => {
  it("lists the releases with a chart to render, with the API versions the repository's CRDs and objects show", () => {
    const files = parseSources(
      sources({
        "crds.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - {name: v1, served: true, storage: true}
    - {name: v1alpha1, served: false, storage: false}
`,
        "sources.yaml": HELM_REPOSITORY,
        "r.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: traefik, namespace: flux-system}
spec: {chart: {spec: {chart: traefik, version: 33.2.1, sourceRef: {kind: HelmRepository, name: traefik}}}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: elsewhere, namespace: flux-system}
spec: {chart: {spec: {chart: x, sourceRef: {kind: HelmRepository, name: nowhere}}}}
`,
      }),
    );
    const root = buildRepoIndex(files);
    const releases = chartReleasesOf(root, files);
    expect(releases.map((r) => [r.key, r.releaseName, r.apiVersions])).toEqual([
      [
        "r.yaml#0/",
        "traefik",
        [
          "example.com/v1",
          "example.com/v1/Widget",
          "helm.toolkit.fluxcd.io/v2",
          "helm.toolkit.fluxcd.io/v2/HelmRelease",
          "source.toolkit.fluxcd.io/v1",
          "source.toolkit.fluxcd.io/v1/HelmRepository",
        ],
      ],
    ]);
    // Before any render, every installation is not rendered, with a reason.
    expect(root.charts?.map((o) => o.reason)).toEqual([
      "charts are not rendered in this run (no Helm renderer)",
      "chart x: the HelmRepository flux-system/nowhere is not in the repository",
    ]);
  });

  it("a repository applying Cilium policies renders charts where cilium.io/v2 is served; built-in APIs stay Helm's", () => {
    // Charts gate their Cilium policies on `.Capabilities.APIVersions.Has "cilium.io/v2"` (Giant Swarm's app charts,
    // charts with a ciliumNetworkPolicy.enabled value): the repository's own policies show the clusters serve it.
    const files = parseSources(
      sources({
        "sources.yaml": HELM_REPOSITORY,
        "r.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: traefik, namespace: flux-system}
spec: {chart: {spec: {chart: traefik, version: 33.2.1, sourceRef: {kind: HelmRepository, name: traefik}}}}
`,
        "cnp.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: web}
spec: {endpointSelector: {}, egress: [{toEntities: [world]}]}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old, namespace: web}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: web}
---
apiVersion: "evil.example.com/v1"
kind: "X --post-renderer=y"
metadata: {name: e}
---
apiVersion: under_score.example.com/v1
kind: Widget
metadata: {name: u}
`,
      }),
    );
    const [release] = chartReleasesOf(buildRepoIndex(files), files);
    expect(release?.apiVersions).toEqual([
      "cilium.io/v2",
      "cilium.io/v2/CiliumClusterwideNetworkPolicy",
      "cilium.io/v2/CiliumNetworkPolicy",
      "helm.toolkit.fluxcd.io/v2",
      "helm.toolkit.fluxcd.io/v2/HelmRelease",
      "source.toolkit.fluxcd.io/v1",
      "source.toolkit.fluxcd.io/v1/HelmRepository",
    ]);
  });
});
