// What service resolution and cross-file rules need from the whole repository, rendered as kustomize would.
import { renderKustomizations, unappliedChanges } from "../render/kustomize.js";
import type { Substitution } from "../render/flux-substitution.js";
import { dnsProxyScopesOf } from "./dns-proxy.js";
import type { DnsProxyScope } from "./dns-proxy.js";
import type { KustomizeNote } from "../render/kustomize.js";
import { applicationsOfSet } from "../render/application-set.js";
import { installedChartsOf } from "../render/chart-releases.js";
import { annotateReleases, unrenderedOutcomes } from "./chart-outcomes.js";
import type { ChartOutcome } from "./chart-outcomes.js";
import type { Manifest, ParsedFile } from "../read/manifests.js";
import type {
  ContainerPort,
  EndpointsInfo,
  LabelSelector,
  Labels,
  ReleaseInfo,
  ServiceInfo,
  ServicePort,
  SourceLocation,
  WorkloadInfo,
} from "../types.js";
import { asRecord } from "../records.js";

export interface RenderedMetadata {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  /** The Flux post-build substitution this rendering applies (render/flux-substitution.ts). */
  readonly substitution?: Substitution;
}

export interface RepoIndex {
  readonly services: readonly ServiceInfo[];
  readonly workloads: readonly WorkloadInfo[];
  readonly endpoints: readonly EndpointsInfo[];
  readonly releases: readonly ReleaseInfo[];
  /**
   * A manifest's name and namespace after the kustomizations that include it (namePrefix, namespace, …). When several
   * top-level kustomizations include it (a base shared by overlays), the first by kustomization path: see renderings.
   */
  rendered(manifest: Manifest): RenderedMetadata;
  /** Every rendering of a manifest: one per top-level kustomization including it, or its metadata as written. */
  renderings?(manifest: Manifest): readonly RenderedMetadata[];
  /** What kustomize rendering met and could not follow or apply (cycles, missing paths, patches, remote bases). */
  readonly notes?: readonly KustomizeNote[];
  /** Every chart installation the repository declares, and what became of it (see chart-index.ts). */
  readonly charts?: readonly ChartOutcome[];
  /** Policy specs that send DNS through Cilium's proxy, as rendered (index/dns-proxy.ts). */
  readonly dnsProxyScopes?: readonly DnsProxyScope[];
  /** Files some kustomization names (resources, patches, inputs): meant for Kubernetes even when unreadable. */
  readonly kustomizeFiles?: ReadonlySet<string>;
}

/** One manifest as some rendering sees it: its plain-JS value after the transformations that apply to it. */
export interface ManifestView {
  readonly manifest: Manifest;
  readonly value: Readonly<Record<string, unknown>>;
  /** The top-level kustomization that rendered it; absent for metadata as written. */
  readonly kustomization?: string;
  /** Fields of the kustomizations on its way that are not applied here (e.g. "base/kustomization.yaml: patches"). */
  readonly unapplied?: readonly string[];
}

// ---- reading plain-JS manifest values defensively: manifests are user input, any field may be anything ----

type Json = Readonly<Record<string, unknown>>;

function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Label values are strings in Kubernetes; YAML may type `version: 2` or `enabled: true` as scalars of other types. */
function scalarString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

export function labelsOf(value: unknown): Labels {
  const record = asRecord(value);
  if (!record) return {};
  const labels: Record<string, string> = {};
  for (const [key, raw] of Object.entries(record)) {
    const text = scalarString(raw);
    if (text !== undefined) labels[key] = text;
  }
  return labels;
}

function labelSelectorOf(value: unknown): LabelSelector | undefined {
  const record = asRecord(value);
  if (!record) return undefined;
  const matchLabels = asRecord(record.matchLabels) ? labelsOf(record.matchLabels) : undefined;
  const expressions = asArray(record.matchExpressions).flatMap((raw) => {
    const expression = asRecord(raw);
    const key = asString(expression?.key);
    const operator = asString(expression?.operator);
    if (!expression || key === undefined || operator === undefined) return [];
    const values = Array.isArray(expression.values)
      ? expression.values.map(scalarString).filter((v): v is string => v !== undefined)
      : undefined;
    return [values === undefined ? { key, operator } : { key, operator, values }];
  });
  return {
    ...(matchLabels !== undefined ? { matchLabels } : {}),
    ...(expressions.length > 0 ? { matchExpressions: expressions } : {}),
  };
}

function portNumber(value: unknown): number | undefined {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

function protocolOf(value: unknown): string {
  return asString(value)?.toUpperCase() ?? "TCP";
}

function metadataOf(value: Json): { name: string | undefined; namespace: string | undefined; labels: Labels } {
  const metadata = asRecord(value.metadata);
  return {
    name: asString(metadata?.name),
    namespace: asString(metadata?.namespace),
    labels: labelsOf(metadata?.labels),
  };
}

/**
 * An object that is not a repository file (rendered chart output, a cluster snapshot) as the manifest the index
 * reads, at `location` (the installer's line, or the snapshot).
 */
export function manifestOfValue(value: Json, location: SourceLocation, documentIndex = 0): Manifest {
  const { name, namespace } = metadataOf(value);
  return {
    file: location.file,
    documentIndex,
    apiVersion: asString(value.apiVersion) ?? "",
    kind: asString(value.kind) ?? "",
    name,
    namespace,
    value,
    path: [],
    location,
  } as unknown as Manifest;
}

function locationOf(manifest: Manifest): SourceLocation {
  return manifest.location;
}

function renderedBy(view: ManifestView): { kustomization?: string; unapplied?: readonly string[] } {
  return {
    ...(view.kustomization !== undefined ? { kustomization: view.kustomization } : {}),
    ...(view.unapplied !== undefined && view.unapplied.length > 0 ? { unapplied: view.unapplied } : {}),
  };
}

// ---- Services ----

function servicePortsOf(spec: Json | undefined): ServicePort[] {
  return asArray(spec?.ports).flatMap((raw) => {
    const entry = asRecord(raw);
    const port = portNumber(entry?.port);
    if (!entry || port === undefined) return [];
    const name = asString(entry.name);
    const rawTarget = entry.targetPort;
    const targetPort =
      portNumber(rawTarget) ?? (typeof rawTarget === "string" && rawTarget !== "" ? rawTarget : undefined);
    return [
      {
        ...(name !== undefined ? { name } : {}),
        port,
        ...(targetPort !== undefined ? { targetPort } : {}),
        protocol: protocolOf(entry.protocol),
      },
    ];
  });
}

export function serviceFrom(view: ManifestView): ServiceInfo | undefined {
  const { manifest, value } = view;
  if (manifest.kind !== "Service" || manifest.apiVersion !== "v1") return undefined;
  const { name, namespace, labels } = metadataOf(value);
  if (name === undefined) return undefined;
  const spec = asRecord(value.spec);
  const selector = asRecord(spec?.selector) ? labelsOf(spec?.selector) : undefined;
  const writtenSelector = asRecord(asRecord(manifest.value.spec)?.selector);
  const selectorAdded =
    selector !== undefined &&
    Object.keys(selector).length > 0 &&
    (writtenSelector === undefined || Object.keys(writtenSelector).length === 0);
  const type = asString(spec?.type);
  const externalName = asString(spec?.externalName);
  return {
    name,
    namespace,
    labels,
    selector,
    ports: servicePortsOf(spec),
    location: locationOf(manifest),
    ...(type !== undefined ? { type } : {}),
    ...(externalName !== undefined ? { externalName } : {}),
    ...(manifest.name !== undefined && manifest.name !== name ? { writtenName: manifest.name } : {}),
    ...(selectorAdded ? { selectorAdded } : {}),
    ...renderedBy(view),
  };
}

// ---- workloads ----

/** Kinds with a pod template, by API group, and where the template sits. */
const WORKLOAD_KINDS: Readonly<Record<string, { groups: readonly string[]; template: readonly string[] }>> = {
  Deployment: { groups: ["apps", "extensions"], template: ["spec", "template"] },
  StatefulSet: { groups: ["apps"], template: ["spec", "template"] },
  DaemonSet: { groups: ["apps", "extensions"], template: ["spec", "template"] },
  ReplicaSet: { groups: ["apps", "extensions"], template: ["spec", "template"] },
  ReplicationController: { groups: [""], template: ["spec", "template"] },
  Job: { groups: ["batch"], template: ["spec", "template"] },
  CronJob: { groups: ["batch"], template: ["spec", "jobTemplate", "spec", "template"] },
  Pod: { groups: [""], template: [] },
  Rollout: { groups: ["argoproj.io"], template: ["spec", "template"] },
};

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash === -1 ? "" : apiVersion.slice(0, slash);
}

function at(value: Json, path: readonly string[]): Json | undefined {
  let current: Json | undefined = value;
  for (const key of path) current = asRecord(current?.[key]);
  return current;
}

function containerPortsOf(podSpec: Json | undefined): ContainerPort[] {
  const containers = [...asArray(podSpec?.containers), ...asArray(podSpec?.initContainers)];
  return containers.flatMap((raw) =>
    asArray(asRecord(raw)?.ports).flatMap((rawPort) => {
      const entry = asRecord(rawPort);
      const containerPort = portNumber(entry?.containerPort);
      if (!entry || containerPort === undefined) return [];
      const name = asString(entry.name);
      return [{ ...(name !== undefined ? { name } : {}), containerPort, protocol: protocolOf(entry.protocol) }];
    }),
  );
}

export function workloadFrom(view: ManifestView): WorkloadInfo | undefined {
  const { manifest, value } = view;
  const shape = WORKLOAD_KINDS[manifest.kind];
  if (!shape || !shape.groups.includes(groupOf(manifest.apiVersion))) return undefined;
  const { name, namespace } = metadataOf(value);
  if (name === undefined) return undefined;
  const template = shape.template.length === 0 ? value : at(value, shape.template);
  const podLabels = labelsOf(asRecord(template?.metadata)?.labels);
  const selector = manifest.kind === "Pod" ? undefined : labelSelectorOf(at(value, ["spec"])?.selector);
  return {
    kind: manifest.kind,
    name,
    namespace,
    podLabels,
    containerPorts: containerPortsOf(asRecord(template?.spec)),
    location: locationOf(manifest),
    ...(selector !== undefined ? { selector } : {}),
    ...renderedBy(view),
  };
}

// ---- Endpoints and EndpointSlices ----

type EndpointPort = EndpointsInfo["ports"][number];

function endpointPortsOf(value: unknown): EndpointPort[] {
  return asArray(value).flatMap((raw) => {
    const entry = asRecord(raw);
    const port = portNumber(entry?.port);
    if (!entry || port === undefined) return [];
    const name = asString(entry.name);
    return [{ ...(name !== undefined ? { name } : {}), port, protocol: protocolOf(entry.protocol) }];
  });
}

/** One entry per Endpoints subset (a subset's addresses only serve that subset's ports) or per EndpointSlice. */
export function endpointsFrom(view: ManifestView): EndpointsInfo[] {
  const { manifest, value } = view;
  const rendering = view.kustomization !== undefined ? { kustomization: view.kustomization } : {};
  const { name, namespace, labels } = metadataOf(value);
  if (manifest.kind === "Endpoints" && manifest.apiVersion === "v1") {
    if (name === undefined) return [];
    return asArray(value.subsets).flatMap((raw) => {
      const subset = asRecord(raw);
      const addresses = asArray(subset?.addresses)
        .map((address) => asString(asRecord(address)?.ip))
        .filter((ip): ip is string => ip !== undefined && ip !== "");
      if (addresses.length === 0) return [];
      return [
        {
          serviceName: name,
          namespace,
          addresses,
          ports: endpointPortsOf(subset?.ports),
          location: manifest.location,
          ...rendering,
        },
      ];
    });
  }
  if (manifest.kind === "EndpointSlice" && groupOf(manifest.apiVersion) === "discovery.k8s.io") {
    const serviceName = labels["kubernetes.io/service-name"];
    const addressType = asString(value.addressType);
    if (serviceName === undefined || addressType === "FQDN") return [];
    const addresses = asArray(value.endpoints).flatMap((raw) =>
      asArray(asRecord(raw)?.addresses).filter((ip): ip is string => typeof ip === "string" && ip !== ""),
    );
    if (addresses.length === 0) return [];
    return [
      {
        serviceName,
        namespace,
        addresses,
        ports: endpointPortsOf(value.ports),
        location: manifest.location,
        ...rendering,
      },
    ];
  }
  return [];
}

// ---- Helm releases (Flux HelmRelease, Argo CD Application) ----

export function releasesFrom(view: ManifestView, directories: () => readonly string[] = () => []): ReleaseInfo[] {
  const { manifest, value } = view;
  const { name, namespace } = metadataOf(value);
  const spec = asRecord(value.spec);
  const group = groupOf(manifest.apiVersion);
  if (manifest.kind === "HelmRelease" && group === "helm.toolkit.fluxcd.io") {
    const targetNamespace = asString(spec?.targetNamespace);
    // Flux's default release name is "[<targetNamespace>-]<name>".
    const releaseName =
      asString(spec?.releaseName) ??
      (name === undefined ? undefined : targetNamespace !== undefined ? `${targetNamespace}-${name}` : name);
    if (releaseName === undefined) return [];
    const chart = asString(at(value, ["spec", "chart", "spec"])?.chart);
    return [
      { kind: "HelmRelease", releaseName, chart, namespace: targetNamespace ?? namespace, location: manifest.location },
    ];
  }
  if (group !== "argoproj.io") return [];
  if (manifest.kind === "Application") return applicationReleases(value, manifest.location);
  // An ApplicationSet's list generators make Applications: their releases explain Service names as an Application's.
  if (manifest.kind === "ApplicationSet") {
    return applicationsOfSet(value, directories()).flatMap((application) =>
      applicationReleases(application, manifest.location),
    );
  }
  return [];
}

/** The Helm releases of an Argo CD Application's value: one per source with a chart or Helm settings. */
function applicationReleases(value: Json, location: ReleaseInfo["location"]): ReleaseInfo[] {
  const { name } = metadataOf(value);
  const spec = asRecord(value.spec);
  const destinationNamespace = asString(at(value, ["spec", "destination"])?.namespace);
  const sources = [spec?.source, ...asArray(spec?.sources)].map(asRecord).filter((s): s is Json => s !== undefined);
  const helmSources = sources.filter((s) => s.chart !== undefined || s.helm !== undefined);
  return helmSources.flatMap((source) => {
    const releaseName = asString(asRecord(source.helm)?.releaseName) ?? name;
    if (releaseName === undefined) return [];
    return [
      {
        kind: "Application" as const,
        releaseName,
        chart: asString(source.chart),
        namespace: destinationNamespace,
        location,
      },
    ];
  });
}

// ---- the index ----

/** Indexes views of manifests: each view contributes what its kind says. */
export function indexViews(
  views: Iterable<ManifestView>,
  /** The repository's directories, which ApplicationSet git generators match, asked for only by one. */
  directories: () => readonly string[] = () => [],
): Pick<RepoIndex, "services" | "workloads" | "endpoints" | "releases" | "dnsProxyScopes"> {
  const services: ServiceInfo[] = [];
  const workloads: WorkloadInfo[] = [];
  const endpoints: EndpointsInfo[] = [];
  const releases: ReleaseInfo[] = [];
  const dnsProxyScopes: DnsProxyScope[] = [];
  for (const view of views) {
    dnsProxyScopes.push(...dnsProxyScopesOf(view.manifest, view.value));
    const service = serviceFrom(view);
    if (service) services.push(service);
    const workload = workloadFrom(view);
    if (workload) workloads.push(workload);
    endpoints.push(...endpointsFrom(view));
    releases.push(...releasesFrom(view, directories));
  }
  return { services, workloads, endpoints, releases, dnsProxyScopes };
}

/**
 * Indexes the repository as kustomize would render it: a manifest that top-level kustomizations include is indexed
 * once per such kustomization, with their namespace, name prefix/suffix and labels applied; a manifest no
 * kustomization includes keeps its metadata as written; kustomization files, patches and generator inputs are not
 * resources and are not indexed.
 */
export function buildRepoIndex(files: readonly ParsedFile[]): RepoIndex {
  const kustomize = renderKustomizations(files);
  // Only the rendered metadata outlives the index: the rendered values are copies of whole manifests, made and
  // indexed one manifest at a time.
  const renderedMetadata = new Map<Manifest, readonly RenderedMetadata[]>();
  function* views(): Generator<ManifestView> {
    for (const file of files) {
      const resource = !kustomize.nonResourceFiles.has(file.path);
      for (const manifest of file.manifests) {
        const renderings = kustomize.renderingsOf(manifest);
        if (renderings.length > 0) {
          renderedMetadata.set(
            manifest,
            renderings.map(({ name, namespace, substitution }) => ({
              name,
              namespace,
              ...(substitution ? { substitution } : {}),
            })),
          );
        }
        if (!resource) continue;
        if (renderings.length === 0) yield { manifest, value: manifest.value };
        for (const rendering of renderings) {
          yield {
            manifest,
            value: rendering.value,
            kustomization: rendering.root,
            unapplied: unappliedChanges(rendering, manifest),
          };
        }
      }
      // The index is the last reader of a file's values: once it is indexed, what it read on demand can go.
      file.release?.();
    }
  }
  const indexed = indexViews(views(), kustomize.directories);
  const renderings = (manifest: Manifest): RenderedMetadata[] => {
    const list = renderedMetadata.get(manifest);
    return list === undefined
      ? [{ name: manifest.name, namespace: manifest.namespace }]
      : list.map((rendering) => ({ ...rendering }));
  };
  const { notes, referencedFiles: kustomizeFiles } = kustomize;
  const rendered = (manifest: Manifest) =>
    renderings(manifest)[0] ?? { name: manifest.name, namespace: manifest.namespace };
  // Charts are found here, rendered by a shell, and added by withRenderedCharts: until then none is rendered.
  const charts = unrenderedOutcomes(
    installedChartsOf({
      files,
      namespaceOf: (manifest) => rendered(manifest).namespace,
      renderingsOf: (manifest) =>
        kustomize.renderingsOf(manifest).map((rendering) => ({
          value: rendering.value,
          root: rendering.root,
          ...(rendering.substitution ? { substitution: rendering.substitution } : {}),
          // Post-build substitution is applied (what stays unknown is the installer's unknownVariables).
          unapplied: unappliedChanges(rendering, manifest).filter((field) => !field.endsWith(": postBuild")),
        })),
      chartLayersOf: kustomize.chartLayersOf,
      directories: kustomize.directories,
      nonResourceFiles: kustomize.nonResourceFiles,
    }),
  );
  return {
    ...indexed,
    releases: annotateReleases(indexed.releases, charts),
    rendered,
    renderings,
    notes,
    kustomizeFiles,
    charts,
  };
}
