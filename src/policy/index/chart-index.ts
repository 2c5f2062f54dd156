// Rendered charts into the index: the Services, workloads and Endpoints that `helm template` made for the releases
// the repository installs, as certain as the repository's own (source `chart`). The output is not a repository file:
// it is never reported on, its size is bounded, and everything it yields points at the installer's line.
import { parseDocument } from "yaml";
import type { ParsedFile } from "../read/manifests.js";
import { MAX_ALIAS_COUNT, MAX_FILE_BYTES, parseManifestFile } from "../read/manifests.js";
import type { ChartRelease, ChartRender } from "../render/chart-port.js";
import { crdApiVersionsOf } from "../render/chart-releases.js";
import type { InstalledChart } from "../render/chart-releases.js";
import { applyLayer, unappliedChanges } from "../render/kustomize.js";
import type { ChartOrigin, ServiceInfo } from "../types.js";
import { annotateReleases, describeChart } from "./chart-outcomes.js";
import { dnsProxyScopesOf } from "./dns-proxy.js";
import type { ChartOutcome } from "./chart-outcomes.js";
import { endpointsFrom, manifestOfValue, serviceFrom, workloadFrom } from "./repo-index.js";
import type { ManifestView, RepoIndex } from "./repo-index.js";
import { isRecord } from "../records.js";

/** A whole render's output above this is not read (the largest public charts render a few MiB, CRDs included). */
export const MAX_CHART_OUTPUT_BYTES = 32 * 1024 * 1024;
/** Objects the index reads from one render (Services, workloads, Endpoints): far above real charts, bounds the work. */
export const MAX_CHART_OBJECTS = 5_000;

/**
 * The releases a shell should render: the installations whose chart the repository locates, with the API versions
 * the repository's CRDs serve (read from `files`, only when there is something to render).
 */
export function chartReleasesOf(index: Pick<RepoIndex, "charts">, files: readonly ParsedFile[] = []): ChartRelease[] {
  const releases = (index.charts ?? []).flatMap((outcome) =>
    outcome.installed.release ? [outcome.installed.release] : [],
  );
  if (releases.length === 0) return releases;
  const apiVersions = crdApiVersionsOf(files);
  if (apiVersions.length === 0) return releases;
  return releases.map((release) => (release.apiVersions.length > 0 ? release : { ...release, apiVersions }));
}

const INDEXED_KIND =
  /^kind:[ \t]*["']?(Service|Endpoints|EndpointSlice|Deployment|StatefulSet|DaemonSet|ReplicaSet|ReplicationController|Job|CronJob|Pod|Rollout|List|CiliumNetworkPolicy|CiliumClusterwideNetworkPolicy)["']?[ \t]*$/m;

/** The documents of a `helm template` stream that can hold what the index reads. */
function indexedDocuments(manifests: string): string[] {
  return manifests.split(/^---[ \t]*(?:#.*)?$/m).filter((text) => INDEXED_KIND.test(text));
}

type Json = Record<string, unknown>;

/** The plain value of one rendered document: the engine's reader, or `yaml` where the reader declines templates. */
function documentValues(text: string, name: string): Json[] {
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength > MAX_FILE_BYTES) return [];
  const parsed = parseManifestFile({ path: name, size: bytes.byteLength, content: bytes });
  if (!parsed.templated) return parsed.manifests.map((manifest) => manifest.value as Json);
  // Rendered output may hold `{{ }}` in data (dashboards, alert templates): it is YAML all the same.
  try {
    const value: unknown = parseDocument(text).toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    if (!isRecord(value)) return [];
    return value.kind === "List" && Array.isArray(value.items) ? value.items.filter(isRecord) : [value];
  } catch {
    return [];
  }
}

function isHook(value: Json): boolean {
  const annotations = isRecord(value.metadata) ? value.metadata.annotations : undefined;
  return isRecord(annotations) && annotations["helm.sh/hook"] !== undefined;
}

/** Deep copy of a JSON value (rendered output is plain YAML data). */
function copy<T>(value: T): T {
  return structuredClone(value);
}

/** The views of one successful render: each indexed object, once per kustomize rendering for `helmCharts`. */
function renderedViews(installed: InstalledChart, manifests: string): ManifestView[] | { tooMany: number } {
  const views: ManifestView[] = [];
  const documents = indexedDocuments(manifests);
  if (documents.length > MAX_CHART_OBJECTS) return { tooMany: documents.length };
  documents.forEach((text, documentIndex) => {
    for (const raw of documentValues(text, `${installed.key}#${documentIndex}`)) {
      if (isHook(raw)) continue;
      const value = copy(raw);
      // helm leaves objects without a namespace: the installer applies them to the release's namespace.
      if (!isRecord(value.metadata)) value.metadata = {};
      const metadata = value.metadata as Json;
      if (typeof metadata.namespace !== "string" || metadata.namespace === "") metadata.namespace = installed.namespace;
      const manifest = manifestOfValue(value, installed.location, documentIndex);
      if (installed.layers === undefined || installed.layers.length === 0) {
        views.push({ manifest, value });
        continue;
      }
      // kustomize applies the kustomizations' transformations to the chart's output as to any resource.
      for (const { root, layers } of installed.layers) {
        const layered = copy(value);
        for (const layer of layers) applyLayer(layered, layer);
        // The kustomizations' patches may target the chart's objects too ("last mile" changes): not applied here.
        const unapplied = unappliedChanges(
          { root, layers, value: layered, name: undefined, namespace: undefined },
          manifest,
        );
        views.push({ manifest, value: layered, kustomization: root, ...(unapplied.length > 0 ? { unapplied } : {}) });
      }
    }
  });
  return views;
}

function withChart<T extends object>(item: T, chart: ChartOrigin): T & { chart: ChartOrigin } {
  return { ...item, chart };
}

/**
 * The index with the renders' Services, workloads and Endpoints added (source `chart`), and each installation's
 * outcome: rendered, or not and why. Renders answer by release key; a release without an answer is not rendered.
 */
export function withRenderedCharts(index: RepoIndex, renders: readonly ChartRender[]): RepoIndex {
  const byKey = new Map(renders.map((render) => [render.key, render]));
  const services: ServiceInfo[] = [...index.services];
  const workloads = [...index.workloads];
  const endpoints = [...index.endpoints];
  // A chart's own Cilium policies are not judged (no text of the repository holds them), but Cilium unions them
  // with the repository's: the DNS proxy they set up serves the repository's toFQDNs rules too.
  const dnsProxyScopes = [...(index.dnsProxyScopes ?? [])];
  const outcomes: ChartOutcome[] = (index.charts ?? []).map((outcome) => {
    const { installed } = outcome;
    if (!installed.release) return outcome;
    const render = byKey.get(installed.key);
    if (!render)
      return { installed, reason: `${describeChart(installed)} was not rendered (no answer from the renderer)` };
    if (!render.ok) return { installed, reason: render.reason };
    if (render.manifests.length > MAX_CHART_OUTPUT_BYTES) {
      return {
        installed,
        reason: `${describeChart(installed)}: its rendered output is over ${MAX_CHART_OUTPUT_BYTES / (1024 * 1024)} MiB and was not read`,
      };
    }
    const origin: ChartOrigin = {
      chart: render.chart,
      version: render.version,
      from: render.from,
      installer: installed.installer,
      ...(installed.uncertain.length > 0 ? { uncertain: installed.uncertain } : {}),
      ...(installed.unknownVariables?.length ? { unknownVariables: installed.unknownVariables } : {}),
    };
    const views = renderedViews(installed, render.manifests);
    if ("tooMany" in views) {
      return {
        installed,
        reason: `${describeChart(installed)}: its rendered output holds ${views.tooMany} Services and workloads, over ${MAX_CHART_OBJECTS}: not read`,
      };
    }
    for (const view of views) {
      const service = serviceFrom(view);
      if (service) services.push(withChart(service, origin));
      const workload = workloadFrom(view);
      if (workload) workloads.push(withChart(workload, origin));
      for (const entry of endpointsFrom(view)) endpoints.push(withChart(entry, origin));
      dnsProxyScopes.push(...dnsProxyScopesOf(view.manifest, view.value));
    }
    return { installed, rendered: origin };
  });
  return {
    ...index,
    services,
    workloads,
    endpoints,
    dnsProxyScopes,
    releases: annotateReleases(index.releases, outcomes),
    charts: outcomes,
  };
}

/**
 * The index layer a chart renderer feeds (the analysis calls it between indexing and resolution): the releases to
 * render, then the index with their output.
 */
export const CHART_LAYER = {
  releases: (files: readonly ParsedFile[], index: Pick<RepoIndex, "charts">): ChartRelease[] =>
    chartReleasesOf(index, files),
  extend: withRenderedCharts,
} as const;
