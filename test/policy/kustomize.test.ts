import { describe, expect, it } from "vitest";
import { MAX_ARGO_DIRECTORY_SOURCES, renderKustomizations } from "../../src/policy/render/kustomize.js";
import { isManifestPath, isPolicyManifest, parseManifestFile } from "../../src/policy/read/manifests.js";
import { parseSources } from "../../src/policy/engine.js";
import type { ParsedFile } from "../../src/policy/read/manifests.js";
import { buildRepoIndex } from "../../src/policy/index/repo-index.js";
import { sources } from "../helpers/sources.js";
import { loadCase } from "./kustomize-fixtures.js";

const parse = (files: Record<string, string>): ParsedFile[] => sources(files).map(parseManifestFile);

function summary(files: ParsedFile[]) {
  const index = buildRepoIndex(files);
  const view = renderKustomizations(files);
  return {
    services: index.services.map((s) => ({
      root: s.kustomization,
      name: s.name,
      namespace: s.namespace,
      labels: s.labels,
      selector: s.selector,
    })),
    workloads: index.workloads.map((w) => ({
      root: w.kustomization,
      kind: w.kind,
      name: w.name,
      namespace: w.namespace,
      podLabels: w.podLabels,
    })),
    policies: files.flatMap((file) =>
      file.manifests.filter(isPolicyManifest).map((m) => index.renderings?.(m).map((r) => `${r.namespace}/${r.name}`)),
    ),
    notes: view.notes.map((n) => `${n.file}: ${n.message}`),
    index,
  };
}

const app = (name: string) => ({ "app.kubernetes.io/name": name });

describe("kustomize rendering of the fixtures (exact values)", () => {
  it("namespace: the kustomization's namespace replaces the one written in the manifest", () => {
    const result = summary(loadCase("namespace"));
    expect(result.services).toEqual([
      { root: "kustomization.yaml", name: "api", namespace: "team-a", labels: app("api"), selector: app("api") },
    ]);
    expect(result.workloads).toEqual([
      { root: "kustomization.yaml", kind: "Deployment", name: "api", namespace: "team-a", podLabels: app("api") },
    ]);
    expect(result.policies).toEqual([["team-a/allow-api"]]);
    expect(result.notes).toEqual([]);
  });

  it("commonLabels: metadata labels, Service selectors (created when absent), workload selectors and templates", () => {
    const result = summary(loadCase("common-labels"));
    const common = { team: "payments", "app.kubernetes.io/part-of": "shop" };
    expect(result.services).toEqual([
      { root: "kustomization.yaml", name: "legacy-db", namespace: undefined, labels: common, selector: common },
      {
        root: "kustomization.yaml",
        name: "checkout",
        namespace: undefined,
        labels: { ...app("checkout"), ...common },
        selector: { ...app("checkout"), ...common },
      },
    ]);
    expect(result.workloads.map((w) => [w.kind, w.podLabels])).toEqual([
      ["CronJob", { ...app("report"), ...common }],
      ["Deployment", { ...app("checkout"), ...common }],
    ]);
    expect(result.index.workloads.find((w) => w.kind === "Deployment")?.selector).toEqual({
      matchLabels: { ...app("checkout"), ...common },
    });
    // The selector-less Service's Endpoints keep their addresses: they are still indexed, rendered.
    expect(result.index.endpoints.map((e) => [e.serviceName, e.addresses])).toEqual([["legacy-db", ["10.20.0.5"]]]);
    expect(result.index.services.find((s) => s.name === "legacy-db")?.selectorAdded).toBe(true);
  });

  it("a label field spec's path naming __proto__ writes a field of that name, never Object.prototype", () => {
    const files = parse({
      "app/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
labels:
  - pairs:
      polluted: "yes"
    fields:
      - path: __proto__
        create: true
      - path: metadata/__proto__/deeper
        create: true
resources:
  - cm.yaml
`,
      "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
    });
    const [rendering] = renderKustomizations(files).renderingsOf(files[1]!.manifests[0]!);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const value = rendering!.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, "__proto__")?.value).toEqual({ polluted: "yes" });
    const metadata = value.metadata as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(metadata, "__proto__")?.value).toEqual({ deeper: { polluted: "yes" } });
  });

  it("labels: plain pairs go to metadata only, includeSelectors to selectors and templates, includeTemplates to templates", () => {
    const result = summary(loadCase("labels"));
    expect(result.services).toEqual([
      {
        root: "kustomization.yaml",
        name: "orders",
        namespace: undefined,
        labels: { ...app("orders"), owner: "alice", tier: "backend", release: "stable" },
        selector: { ...app("orders"), tier: "backend" },
      },
    ]);
    expect(result.workloads.map((w) => [w.kind, w.podLabels])).toEqual([
      ["CronJob", { ...app("orders-cleanup"), tier: "backend", release: "stable" }],
      ["Deployment", { ...app("orders"), tier: "backend", release: "stable" }],
    ]);
  });

  it("namePrefix/nameSuffix: inner prefix first, outer around it; references in policies are not renamed", () => {
    const result = summary(loadCase("name-affixes"));
    expect(result.services).toEqual([
      {
        root: "overlay/kustomization.yaml",
        name: "prod-app-web-v2",
        namespace: "web",
        labels: app("web"),
        selector: app("web"),
      },
    ]);
    expect(result.index.services[0]?.writtenName).toBe("web");
    expect(result.policies).toEqual([["web/prod-app-allow-web-v2"]]);
  });

  it("components: a Component's labels apply to the including kustomization's resources and its own", () => {
    const result = summary(loadCase("components"));
    const added = { monitoring: "enabled", env: "prod" };
    expect(result.services).toEqual([
      {
        root: "overlay/kustomization.yaml",
        name: "cart",
        namespace: "shop",
        labels: { ...app("cart"), ...added },
        selector: { ...app("cart"), ...added },
      },
      {
        root: "overlay/kustomization.yaml",
        name: "cart-metrics",
        namespace: "shop",
        labels: added,
        selector: { ...app("cart"), ...added },
      },
    ]);
    expect(result.workloads.map((w) => w.podLabels)).toEqual([{ ...app("cart"), ...added }]);
    expect(result.notes).toEqual([]);
  });

  it("nested bases two levels deep, shared by two overlays: one rendering per overlay, the outermost namespace wins", () => {
    const files = loadCase("nested-bases");
    const result = summary(files);
    const inner = { ...app("search"), layer: "mid", "app.kubernetes.io/version": "1" };
    expect(result.services).toEqual([
      {
        root: "overlays/prod/kustomization.yaml",
        name: "mid-base-search-prod",
        namespace: "prod",
        labels: { ...inner, "cost-center": "42", env: "prod" },
        selector: { ...inner, env: "prod" },
      },
      {
        root: "overlays/staging/kustomization.yml",
        name: "mid-base-search-stg",
        namespace: "mid-ns",
        labels: { ...inner, "cost-center": "42" },
        selector: inner,
      },
    ]);
    expect(result.policies).toEqual([["prod/mid-base-allow-search-prod", "mid-ns/mid-base-allow-search-stg"]]);
    const policy = files.flatMap((f) => f.manifests).find(isPolicyManifest);
    expect(policy && result.index.rendered(policy)).toEqual({ name: "mid-base-allow-search-prod", namespace: "prod" });
  });
});

describe("kustomize rendering of every workload kind (exact values)", () => {
  it("commonLabels and includeTemplates reach the pod templates of the kinds kustomize knows, not Rollouts", () => {
    const result = summary(loadCase("workload-kinds"));
    const added = { "app.kubernetes.io/part-of": "kinds", slot: "blue", tracing: "on" };
    expect(result.workloads.map((w) => [w.kind, w.name, w.namespace, w.podLabels])).toEqual([
      ["StatefulSet", "base-db-blue", "kinds", { app: "db", ...added }],
      ["DaemonSet", "base-agent-blue", "kinds", { app: "agent", ...added }],
      ["ReplicaSet", "base-legacy-blue", "kinds", { app: "legacy", ...added }],
      ["Job", "base-migrate-blue", "kinds", { app: "migrate", ...added }],
      ["Pod", "base-debug-blue", "kinds", { app: "debug", ...added }],
      ["Rollout", "base-canary-blue", "kinds", { app: "canary" }],
    ]);
    const selector = { "app.kubernetes.io/part-of": "kinds", slot: "blue" };
    expect(result.services.map((s) => [s.name, s.selector])).toEqual([
      ["base-db-blue", { app: "db", ...selector }],
      ["base-bare-blue", selector],
      ["base-external-blue", selector],
    ]);
    expect(result.policies).toEqual([["kinds/base-allow-db-blue"], ["kinds/base-cluster-dns-blue"]]);
  });
});

const SERVICE = (name: string, extra = "") => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
${extra}spec:
  selector: {app: ${name}}
  ports: [{port: 80}]
`;

describe("kustomize rendering: edge cases", () => {
  it("reads a kustomization the same with or without apiVersion/kind (manifest value or document)", () => {
    const body = "namespace: apps\nnamePrefix: p-\ncommonLabels: {team: t}\nresources: [a.yaml, b.yaml]\n";
    const header = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
    const render = (kustomization: string) => {
      const files = parse({
        "apps/kustomization.yaml": kustomization,
        "apps/a.yaml": SERVICE("a"),
        "apps/b.yaml": SERVICE("b", "  namespace: written\n"),
      });
      // The index's functions differ per build: compare what they return.
      const { index, ...rest } = summary(files);
      const rendered = files
        .filter((file) => file.path !== "apps/kustomization.yaml")
        .flatMap((file) => file.manifests.map((manifest) => index.renderings?.(manifest)));
      return { ...rest, endpoints: index.endpoints, releases: index.releases, rendered };
    };
    const written = render(body);
    expect(written.services.map((s) => [s.name, s.namespace, s.labels])).toEqual([
      ["p-a", "apps", { team: "t" }],
      ["p-b", "apps", { team: "t" }],
    ]);
    expect(render(header + body)).toEqual(written);
    // A second document is not read, whichever way the first one is.
    expect(render(`${header}${body}---\nnamespace: other\n`)).toEqual(written);
    expect(render(`${body}---\n${header}namespace: other\n`)).toEqual(written);
  });

  it("leaves files that no kustomization includes as written", () => {
    const result = summary(
      parse({
        "apps/kustomization.yaml": "namespace: apps\nresources: [a.yaml]\n",
        "apps/a.yaml": SERVICE("a"),
        "apps/b.yaml": SERVICE("b", "  namespace: written\n"),
      }),
    );
    expect(result.services.map((s) => [s.root, s.name, s.namespace])).toEqual([
      ["apps/kustomization.yaml", "a", "apps"],
      [undefined, "b", "written"],
    ]);
  });

  it("does not index kustomization files, patches or generator inputs as resources, and notes what it does not apply", () => {
    const result = summary(
      parse({
        "k/kustomization.yaml": [
          "resources: [svc.yaml]",
          "patchesStrategicMerge: [patch.yaml]",
          "patches: [{path: patch2.yaml, target: {kind: Service}}]",
          "configMapGenerator: [{name: c, files: [conf=config.yaml]}]",
          "",
        ].join("\n"),
        "k/svc.yaml": SERVICE("svc"),
        "k/patch.yaml": SERVICE("svc").replace("app: svc", "app: patched"),
        "k/patch2.yaml": SERVICE("other"),
        "k/config.yaml": SERVICE("config"),
      }),
    );
    expect(result.services.map((s) => [s.name, s.selector])).toEqual([["svc", { app: "svc" }]]);
    expect(result.index.services[0]?.unapplied).toEqual([
      "k/kustomization.yaml: patchesStrategicMerge",
      "k/kustomization.yaml: patches",
    ]);
    expect(result.notes).toEqual(["k/kustomization.yaml: not applied here: patches, patchesStrategicMerge"]);
  });

  it("flags only the resources a patch may target (kind, and name as a regex at that layer)", () => {
    const result = summary(
      parse({
        "base/kustomization.yaml": [
          "namePrefix: b-",
          "resources: [s.yaml]",
          "patches:",
          "  - {target: {kind: Deployment}, patch: '[]'}",
          "  - {target: {kind: Service, name: 'web|api'}, patch: '[]'}",
          "",
        ].join("\n"),
        "base/s.yaml": SERVICE("web") + "---\n" + SERVICE("db"),
        "top/kustomization.yaml": [
          "resources: [../base]",
          "patchesJson6902: [{target: {kind: Service, name: b-db}, path: p.json}]",
          "",
        ].join("\n"),
      }),
    );
    expect(result.index.services.map((s) => [s.name, s.unapplied])).toEqual([
      ["b-web", ["base/kustomization.yaml: patches"]],
      ["b-db", ["top/kustomization.yaml: patchesJson6902"]],
    ]);
  });

  it("survives cycles, missing paths, directories without a kustomization and remote resources", () => {
    const result = summary(
      parse({
        "a/kustomization.yaml": "namespace: a\nresources: [../b, missing.yaml, ../../outside, ../plain]\n",
        "b/kustomization.yaml": "namespace: b\nresources: [../a, svc.yaml]\n",
        "b/svc.yaml": SERVICE("svc"),
        "plain/x.yaml": SERVICE("x"),
        "top/kustomization.yaml": "resources: [https://github.com/org/repo//base?ref=v1, github.com/org/repo/base]\n",
      }),
    );
    // a and b only include each other: neither is top-level, so their resources keep their metadata as written.
    expect(result.services.map((s) => [s.root, s.name, s.namespace])).toEqual([
      [undefined, "svc", undefined],
      [undefined, "x", undefined],
    ]);
    expect(result.notes).toEqual([
      "top/kustomization.yaml: remote resource https://github.com/org/repo//base?ref=v1 not fetched: ignored",
      "top/kustomization.yaml: remote resource github.com/org/repo/base not fetched: ignored",
      "a/kustomization.yaml: not reachable from a top-level kustomization (cycle): its resources are read as written",
      "b/kustomization.yaml: not reachable from a top-level kustomization (cycle): its resources are read as written",
    ]);
  });

  it("notes a cycle below a top-level kustomization and renders what it can", () => {
    const result = summary(
      parse({
        "top/kustomization.yaml": "namespace: top\nresources: [../a]\n",
        "a/kustomization.yaml": "resources: [../b, missing.yaml, ../plain]\n",
        "b/kustomization.yaml": "resources: [../a, svc.yaml]\n",
        "b/svc.yaml": SERVICE("svc"),
        "plain/x.yaml": SERVICE("x"),
      }),
    );
    expect(result.services.map((s) => [s.root, s.name, s.namespace])).toEqual([
      ["top/kustomization.yaml", "svc", "top"],
      [undefined, "x", undefined],
    ]);
    expect(result.notes).toEqual([
      "b/kustomization.yaml: cycle: top/kustomization.yaml → a/kustomization.yaml → b/kustomization.yaml → a/kustomization.yaml",
      "a/kustomization.yaml: missing.yaml: not found: ignored",
      "a/kustomization.yaml: ../plain: a directory without a kustomization: ignored",
    ]);
  });

  it("reads the three kustomization file names, and a broken kustomization is noted, not fatal", () => {
    const result = summary(
      parse({
        "one/kustomization.yml": "namespace: one\nresources: [s.yaml]\n",
        "one/s.yaml": SERVICE("s1"),
        "two/Kustomization": "namespace: two\nresources: [s.yaml]\n",
        "two/s.yaml": SERVICE("s2"),
        "three/kustomization.yaml": "namespace: [unclosed\n",
        "three/s.yaml": SERVICE("s3"),
      }),
    );
    expect(result.services.map((s) => [s.name, s.namespace])).toEqual([
      ["s1", "one"],
      ["s2", "two"],
      ["s3", undefined],
    ]);
    expect(result.notes).toEqual([
      "three/kustomization.yaml: kustomization not read (invalid, templated or skipped): ignored",
    ]);
  });

  it("includeTemplates creates missing templates of known kinds, and Pods' labels are their metadata labels", () => {
    const result = summary(
      parse({
        "kustomization.yaml": [
          "labels:",
          "  - pairs: {plain: x}",
          "  - pairs: {tmpl: y}",
          "    includeTemplates: true",
          "resources: [w.yaml]",
          "",
        ].join("\n"),
        "w.yaml": [
          "apiVersion: v1",
          "kind: Pod",
          "metadata: {name: p, labels: {app: p}}",
          "---",
          "apiVersion: apps/v1",
          "kind: Deployment",
          "metadata: {name: d}",
          "spec: {selector: {matchLabels: {app: d}}}",
          "",
        ].join("\n"),
      }),
    );
    expect(result.workloads.map((w) => [w.kind, w.podLabels])).toEqual([
      ["Pod", { app: "p", plain: "x", tmpl: "y" }],
      ["Deployment", { tmpl: "y" }],
    ]);
  });

  it("renames a Namespace object to the kustomization's namespace, and never namespaces cluster-scoped kinds", () => {
    const files = parse({
      "kustomization.yaml": "namespace: x\nnamePrefix: p-\nresources: [r.yaml]\n",
      "r.yaml": [
        "apiVersion: v1",
        "kind: Namespace",
        "metadata: {name: ns}",
        "---",
        "apiVersion: rbac.authorization.k8s.io/v1",
        "kind: ClusterRole",
        "metadata: {name: cr}",
        "",
      ].join("\n"),
    });
    const view = renderKustomizations(files);
    const manifests = files.flatMap((f) => f.manifests);
    expect(manifests.map((m) => view.renderingsOf(m).map((r) => [r.name, r.namespace]))).toEqual([
      [["x", undefined]],
      [["p-cr", undefined]],
    ]);
  });
});

const FLUX = (name: string, spec: string) => `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: ${name}, namespace: flux-system}
spec:
  interval: 10m
  sourceRef: {kind: GitRepository, name: flux-system}
${spec}`;

describe("Flux Kustomizations", () => {
  it("targetNamespace over a generated kustomization: every manifest below the path, subkustomizations as such", () => {
    const result = summary(
      parse({
        "clusters/prod/apps.yaml": FLUX(
          "apps",
          "  path: ./apps\n  targetNamespace: team\n  commonMetadata: {labels: {owner: team}}\n",
        ),
        "apps/web/svc.yaml": SERVICE("web"),
        "apps/deep/er/svc.yaml": SERVICE("deep"),
        "apps/db/kustomization.yaml": "namePrefix: x-\nresources: [svc.yaml]\n",
        "apps/db/svc.yaml": SERVICE("db"),
        "apps/db/unused.yaml": SERVICE("unused"),
        "other/svc.yaml": SERVICE("other"),
      }),
    );
    expect(result.services.map((s) => [s.root, s.name, s.namespace, s.labels, s.selector])).toEqual([
      ["clusters/prod/apps.yaml#flux-system/apps", "web", "team", { owner: "team" }, { app: "web" }],
      ["clusters/prod/apps.yaml#flux-system/apps", "deep", "team", { owner: "team" }, { app: "deep" }],
      ["clusters/prod/apps.yaml#flux-system/apps", "x-db", "team", { owner: "team" }, { app: "db" }],
      // Not in db's kustomization, and Flux does not descend into a directory with one.
      [undefined, "unused", undefined, {}, { app: "unused" }],
      [undefined, "other", undefined, {}, { app: "other" }],
    ]);
    expect(result.notes).toEqual([]);
  });

  it("targetNamespace replaces the namespace of the kustomization at the path; other sources and missing paths are ignored", () => {
    const result = summary(
      parse({
        "flux.yaml": [
          FLUX("a", "  path: ./a\n  targetNamespace: flux-wins\n"),
          FLUX("b", "  path: ./missing\n  targetNamespace: nowhere\n"),
          FLUX("c", "  path: ./a\n  targetNamespace: oci\n").replace("kind: GitRepository", "kind: OCIRepository"),
        ].join("---\n"),
        "a/kustomization.yaml": "namespace: own\nresources: [svc.yaml]\n",
        "a/svc.yaml": SERVICE("svc"),
      }),
    );
    expect(result.services.map((s) => [s.root, s.name, s.namespace])).toEqual([
      ["flux.yaml#flux-system/a", "svc", "flux-wins"],
    ]);
    expect(result.notes).toEqual(["flux.yaml: Flux Kustomization b: path not in this repository: ignored"]);
  });

  it("its patches that are not applied are said at its file, by its name; postBuild and postBuild patches are applied", () => {
    const valuesPatch =
      "  patches:\n    - target: {kind: HelmRelease}\n      patch: '[{op: add, path: /spec/values/replicas, value: 2}]'\n";
    const postBuildPatch =
      "  patches:\n    - target: {kind: Kustomization}\n      patch: '[{op: add, path: /spec/postBuild, value: {substitute: {A: b}}}]'\n";
    const result = summary(
      parse({
        "flux.yaml": [
          FLUX("patched", `  path: ./apps\n${valuesPatch}`),
          FLUX("substituted", `  path: ./apps\n  postBuild: {substitute: {X: y}}\n${postBuildPatch}`),
        ].join("---\n"),
        "apps/svc.yaml": SERVICE("svc"),
      }),
    );
    expect(result.notes).toEqual(["flux.yaml: Flux Kustomization patched: not applied here: patches"]);
  });

  it("postBuild substitution applies the variables it knows, and flags only the manifests still holding others", () => {
    const result = summary(
      parse({
        "flux.yaml": FLUX("apps", "  path: ./apps\n  postBuild: {substitute: {TIER: api}}\n"),
        "apps/a.yaml": SERVICE("plain"),
        "apps/b.yaml": SERVICE("templated").replace("app: templated", 'app: templated, tier: "${TIER}"'),
        "apps/c.yaml": SERVICE("unknown").replace("app: unknown", 'app: unknown, tier: "${OTHER}"'),
      }),
    );
    expect(result.index.services.map((s) => [s.name, s.unapplied, s.selector?.tier])).toEqual([
      ["plain", undefined, undefined],
      ["templated", undefined, "api"],
      ["unknown", ["flux.yaml#flux-system/apps: postBuild"], "${OTHER}"],
    ]);
  });
});

const ARGO_APP = (name: string, source: string, destination = "team") => `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ${name}, namespace: argocd}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: ${destination}}
  source:
    repoURL: https://github.com/example/homelab.git
    targetRevision: HEAD
${source}`;

describe("Argo CD Applications of a directory", () => {
  it("destination.namespace goes to what names no namespace; the directory's own files, or all below with recurse", () => {
    const result = summary(
      parse({
        "apps/web.yaml": ARGO_APP("web", "    path: manifests/web\n"),
        "apps/deep.yaml": ARGO_APP("deep", "    path: manifests/deep\n    directory: {recurse: true}\n", "deep"),
        "manifests/web/svc.yaml": SERVICE("web"),
        "manifests/web/own.yaml": SERVICE("own", "  namespace: elsewhere\n"),
        "manifests/web/sub/svc.yaml": SERVICE("below"),
        "manifests/deep/a/b/svc.yaml": SERVICE("deeper"),
        "manifests/deep/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: deep}\n",
        "manifests/deep/ccnp.yaml":
          "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: all}\nspec: {endpointSelector: {}}\n",
      }),
    );
    expect(result.services.map((s) => [s.name, s.namespace]).sort()).toEqual([
      ["below", undefined],
      ["deeper", "deep"],
      ["own", "elsewhere"],
      ["web", "team"],
    ]);
    // Not recursive by default: Argo CD does not apply manifests/web/sub, so nothing gives "below" a namespace.
    expect(result.policies).toEqual([["undefined/all"]]);
    expect(result.notes).toEqual([]);
  });

  it("the source's kustomize patches are not applied: said at the file holding the Application, by its name", () => {
    const result = summary(
      parse({
        "apps.yaml": ARGO_APP(
          "web",
          "    path: web\n    kustomize:\n      patches: [{target: {kind: Service}, patch: '[]'}]\n",
        ),
        "web/kustomization.yaml": "resources: [svc.yaml]\n",
        "web/svc.yaml": SERVICE("web"),
      }),
    );
    expect(result.notes).toEqual(["apps.yaml: Application web: not applied here: kustomize.patches"]);
    expect(result.index.services.map((s) => [s.name, s.namespace, s.unapplied])).toEqual([
      ["web", "team", ["apps.yaml: kustomize.patches"]],
    ]);
    // A patch targeting another kind leaves the Service alone; the source's components are applied.
    const targeted = summary(
      parse({
        "apps.yaml": ARGO_APP(
          "web",
          "    path: web\n    kustomize:\n      components: [../labelled]\n      patches: [{target: {kind: Deployment}, patch: '[]'}]\n",
        ),
        "web/kustomization.yaml": "resources: [svc.yaml]\n",
        "web/svc.yaml": SERVICE("web"),
        "labelled/kustomization.yaml":
          "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: c-\n",
      }),
    );
    expect(targeted.index.services.map((s) => [s.name, s.namespace, s.unapplied])).toEqual([
      ["c-web", "team", undefined],
    ]);
  });

  it("models at most MAX_ARGO_DIRECTORY_SOURCES directory sources (a pull request's Applications are untrusted)", () => {
    const apps = Array.from({ length: MAX_ARGO_DIRECTORY_SOURCES + 5 }, (_, i) =>
      ARGO_APP(`a${i}`, "    path: manifests\n    directory: {recurse: true}\n", `ns${i}`),
    ).join("---\n");
    const files = parse({ "apps.yaml": apps, "manifests/svc.yaml": SERVICE("svc") });
    const [service] = files.find((file) => file.path === "manifests/svc.yaml")?.manifests ?? [];
    expect(renderKustomizations(files).renderingsOf(service!)).toHaveLength(MAX_ARGO_DIRECTORY_SOURCES);
  });

  it("an ApplicationSet's git directory generator: one directory Application each, namespaced by its template", () => {
    const result = summary(
      parse({
        "argo/set.yaml": `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: namespaces, namespace: argocd}
spec:
  generators:
    - git: {repoURL: https://github.com/example/homelab.git, revision: HEAD, directories: [{path: namespaces/*}]}
  template:
    metadata: {name: '{{path.basename}}'}
    spec:
      project: default
      source: {repoURL: https://github.com/example/homelab.git, targetRevision: HEAD, path: '{{path}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{path.basename}}'}
`,
        "namespaces/media/svc.yaml": SERVICE("plex"),
        "namespaces/home/svc.yaml": SERVICE("hass"),
      }),
    );
    expect(result.services.map((s) => [s.name, s.namespace]).sort()).toEqual([
      ["hass", "home"],
      ["plex", "media"],
    ]);
  });

  it("a kustomization at the path is built, with the source's kustomize namespace and prefix, then the default", () => {
    const result = summary(
      parse({
        "apps.yaml": [
          ARGO_APP("kustomized", "    path: overlay\n    kustomize: {namePrefix: p-}\n"),
          ARGO_APP("moved", "    path: moved\n    kustomize: {namespace: forced}\n"),
          ARGO_APP("chart", "    path: chart\n"),
          ARGO_APP("elsewhere", "    path: not/here\n"),
        ].join("---\n"),
        "overlay/kustomization.yaml": "resources: [svc.yaml, own.yaml]\n",
        "overlay/svc.yaml": SERVICE("svc"),
        "overlay/own.yaml": SERVICE("own", "  namespace: kept\n"),
        "moved/kustomization.yaml": "resources: [svc.yaml]\n",
        "moved/svc.yaml": SERVICE("moved", "  namespace: kept\n"),
        "chart/Chart.yaml": "apiVersion: v2\nname: chart\nversion: 1.0.0\n",
        "chart/svc.yaml": SERVICE("chart"),
        "chart/templates/plain.yaml": SERVICE("plain"),
        "chart/templates/sub/deeper.yaml": SERVICE("deeper"),
        "chart/templates/tests/probe.yaml": SERVICE("probe"),
      }),
    );
    expect(result.services.map((s) => [s.name, s.namespace]).sort()).toEqual([
      // A chart directory: helm renders its templates, the plain ones as written, in the release's namespace; what
      // is not a template, and helm's test hooks, are not applied.
      ["chart", undefined],
      ["deeper", "team"],
      ["moved", "forced"],
      ["p-own", "kept"],
      ["p-svc", "team"],
      ["plain", "team"],
      ["probe", undefined],
    ]);
    expect(result.notes).toEqual([]);
  });
});

describe("kustomization file names", () => {
  it("reads an extension-less `Kustomization` file through the engine, as kustomize does", () => {
    const files = parseSources(
      sources({
        "apps/db/Kustomization": "resources:\n  - service.yaml\nnamespace: data\n",
        "apps/db/service.yaml":
          "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  selector:\n    app: db\n  ports:\n    - port: 5432\n",
      }),
    );
    expect(buildRepoIndex(files).services.map((s) => `${s.namespace}/${s.name}`)).toEqual(["data/db"]);
  });

  it("does not take other extension-less files for manifests", () => {
    expect(isManifestPath("apps/db/kustomization")).toBe(false);
    expect(isManifestPath("apps/db/README")).toBe(false);
  });
});
