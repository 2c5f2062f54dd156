// Services installed outside the repository (the CNI's own, operators, charts installed by hand), read from a cluster
// snapshot (`kubectl get services,endpointslices,pods,deployments,statefulsets,daemonsets -A -o json`) and written
// into the configuration's `services:` as entries resolution trusts (source `config`): selector, the Service's own
// labels, and ports with named target ports resolved through the snapshot's pods. Pure: texts in, a text out; the
// configuration keeps its comments and order (yaml Document API).
import { isMap, parseAllDocuments, parseDocument, YAMLMap } from "yaml";
import type { Document } from "yaml";
import { MAX_ALIAS_COUNT } from "../read/manifests.js";
import { matchesLabels } from "../selectors.js";
import type { ManifestView } from "./repo-index.js";
import type {
  ContainerPort,
  EndpointsInfo,
  Labels,
  ServiceInfo,
  SourceFile,
  SourceLocation,
  WorkloadInfo,
} from "../types.js";
import { parseSources } from "../engine.js";
import type { ChartRenderer } from "../render/chart-port.js";
import { chartReleasesOf, withRenderedCharts } from "./chart-index.js";
import { buildRepoIndex, endpointsFrom, manifestOfValue, serviceFrom, workloadFrom } from "./repo-index.js";
import { isRecord } from "../records.js";

/** A configured Service as the import writes it. */
export interface ImportedService {
  /** "namespace/name", the configuration's key. */
  readonly key: string;
  readonly selector: Labels;
  readonly labels: Labels;
  /** service port → target port (a number, or the port name when the snapshot cannot resolve it). */
  readonly ports: Readonly<Record<string, number | string>>;
  /** Why a port kept its name, or was left out. */
  readonly notes: readonly string[];
}

export interface ImportOptions {
  /** "namespace/name" of the Services the repository or its charts define: skipped unless `all`. */
  readonly defined?: ReadonlySet<string>;
  readonly all?: boolean;
}

export interface ImportResult {
  /** The configuration's new text (the old one when nothing changed). */
  readonly text: string;
  readonly added: readonly ImportedService[];
  readonly updated: readonly ImportedService[];
  readonly skipped: ReadonlyArray<{ readonly key: string; readonly reason: string }>;
}

export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotError";
  }
}

type Json = Readonly<Record<string, unknown>>;

/** The objects of a snapshot: a List's items (kubectl's output), or the documents themselves. */
function snapshotObjects(text: string): Json[] {
  let documents: unknown[];
  try {
    documents = parseAllDocuments(text).flatMap((document) => {
      if (!("errors" in document) || document.errors.length > 0) {
        throw new SnapshotError(`not valid YAML or JSON: ${document.errors?.[0]?.message.split("\n")[0] ?? "?"}`);
      }
      return [document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown];
    });
  } catch (error) {
    if (error instanceof SnapshotError) throw error;
    throw new SnapshotError(`not readable: ${(error as Error).message.split("\n")[0]}`);
  }
  const objects = documents.flatMap((value) =>
    isRecord(value) && Array.isArray(value.items) && typeof value.kind === "string" && value.kind.endsWith("List")
      ? value.items.filter(isRecord)
      : isRecord(value)
        ? [value]
        : [],
  );
  if (objects.length === 0) throw new SnapshotError("holds no Kubernetes objects (expected a List from kubectl get)");
  return objects;
}

const SNAPSHOT_LOCATION: SourceLocation = { file: "(snapshot)", line: 1, column: 1 };

function viewOf(value: Json): ManifestView {
  return { manifest: manifestOfValue(value, SNAPSHOT_LOCATION), value };
}

interface Snapshot {
  readonly services: ServiceInfo[];
  readonly workloads: WorkloadInfo[];
  readonly endpoints: EndpointsInfo[];
}

function readSnapshot(text: string): Snapshot {
  const snapshot: Snapshot = { services: [], workloads: [], endpoints: [] };
  for (const value of snapshotObjects(text)) {
    const view = viewOf(value);
    const service = serviceFrom(view);
    if (service) snapshot.services.push(service);
    const workload = workloadFrom(view);
    if (workload) snapshot.workloads.push(workload);
    snapshot.endpoints.push(...endpointsFrom(view));
  }
  return snapshot;
}

/** A named target port → the number the selected pods (or, without pods, the workloads' templates) agree on. */
function resolveNamedPort(
  name: string,
  protocol: string,
  service: ServiceInfo,
  selector: Labels,
  snapshot: Snapshot,
): number | undefined {
  const selected = snapshot.workloads.filter(
    (workload) =>
      workload.namespace === service.namespace && matchesLabels({ matchLabels: selector }, workload.podLabels),
  );
  // Running pods say what the cluster serves; templates stand in when the snapshot holds no pods.
  const pods = selected.filter((workload) => workload.kind === "Pod");
  const candidates = pods.length > 0 ? pods : selected;
  const numbers = new Set<number>();
  for (const workload of candidates) {
    const found = workload.containerPorts.filter(
      (port: ContainerPort) => port.name === name && port.protocol === protocol,
    );
    if (found.length === 0) return undefined;
    for (const port of found) numbers.add(port.containerPort);
  }
  return numbers.size === 1 ? ([...numbers][0] as number) : undefined;
}

/** The Service's EndpointSlices name the resolved backend port of each Service port (by port name). */
function endpointSlicePort(service: ServiceInfo, portName: string | undefined, snapshot: Snapshot): number | undefined {
  const numbers = new Set<number>();
  for (const entry of snapshot.endpoints) {
    if (entry.serviceName !== service.name || entry.namespace !== service.namespace) continue;
    for (const port of entry.ports) if ((port.name ?? "") === (portName ?? "")) numbers.add(port.port);
  }
  return numbers.size === 1 ? ([...numbers][0] as number) : undefined;
}

function importedOf(service: ServiceInfo, snapshot: Snapshot): ImportedService | { reason: string } {
  if (service.type === "ExternalName") return { reason: "an ExternalName Service has no pods to select" };
  const selector = service.selector;
  if (selector === undefined || Object.keys(selector).length === 0) {
    return { reason: "no selector (its endpoints are managed by hand or by a controller): not imported" };
  }
  const notes: string[] = [];
  const ports: Record<string, number | string> = {};
  for (const port of service.ports) {
    let target: number | string = port.targetPort ?? port.port;
    if (typeof target === "string") {
      const resolved =
        resolveNamedPort(target, port.protocol, service, selector, snapshot) ??
        endpointSlicePort(service, port.name, snapshot);
      if (resolved === undefined)
        notes.push(`port ${port.port}: named target port ${target} not resolved, kept the name`);
      target = resolved ?? target;
    }
    const key = String(port.port);
    if (ports[key] !== undefined && ports[key] !== target) {
      notes.push(`port ${port.port}: protocols map it to different target ports (${ports[key]}, ${target}): left out`);
      delete ports[key];
      continue;
    }
    ports[key] = target;
  }
  return { key: `${service.namespace ?? ""}/${service.name}`, selector, labels: service.labels, ports, notes };
}

const SERVICE_KEY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function sorted(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Writes one entry's fields into the configuration, replacing only selector, labels and ports. */
function writeEntry(document: Document, services: YAMLMap, service: ImportedService): "added" | "updated" | "same" {
  const existing = services.get(service.key, true);
  const fields: Array<[string, unknown]> = [
    ["selector", sorted(service.selector)],
    ...(Object.keys(service.labels).length > 0 ? [["labels", sorted(service.labels)] as [string, unknown]] : []),
    ...(Object.keys(service.ports).length > 0 ? [["ports", service.ports] as [string, unknown]] : []),
  ];
  if (isMap(existing)) {
    let changed = false;
    for (const [field, value] of fields) {
      const current: unknown = (existing.get(field, true) as { toJSON?: () => unknown } | undefined)?.toJSON?.();
      if (JSON.stringify(current) === JSON.stringify(value)) continue;
      existing.set(field, document.createNode(value));
      changed = true;
    }
    return changed ? "updated" : "same";
  }
  services.set(service.key, document.createNode(Object.fromEntries(fields)));
  return "added";
}

/**
 * Merges the snapshot's Services into the configuration text. Services the repository or its charts define are
 * skipped unless `all`; entries already configured get the snapshot's selector, labels and ports, their other
 * fields and every comment kept.
 */
export function importServices(snapshotText: string, configText: string, options: ImportOptions = {}): ImportResult {
  const snapshot = readSnapshot(snapshotText);
  const document = parseDocument(configText);
  if (document.errors.length > 0) {
    throw new SnapshotError(`the configuration is not valid YAML: ${document.errors[0]?.message.split("\n")[0] ?? ""}`);
  }
  if (document.contents === null) document.contents = document.createNode({}) as never;
  if (!isMap(document.contents)) throw new SnapshotError("the configuration is not a mapping");
  let services = document.get("services", true);
  if (
    services === undefined ||
    services === null ||
    (!isMap(services) && (services as { value?: unknown }).value === null)
  ) {
    services = new YAMLMap();
    document.set("services", services);
  }
  if (!isMap(services)) throw new SnapshotError("the configuration's services is not a mapping");
  // Entries are written one per block, even into an empty `services: {}`.
  if (services.items.length === 0) services.flow = false;
  const added: ImportedService[] = [];
  const updated: ImportedService[] = [];
  const skipped: Array<{ key: string; reason: string }> = [];
  const ordered = [...snapshot.services].sort((a, b) => {
    const ka = `${a.namespace ?? ""}/${a.name}`;
    const kb = `${b.namespace ?? ""}/${b.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  for (const service of ordered) {
    const key = `${service.namespace ?? ""}/${service.name}`;
    if (!SERVICE_KEY.test(key)) {
      skipped.push({ key, reason: "not a namespace/name the configuration accepts" });
      continue;
    }
    if (!options.all && options.defined?.has(key)) {
      skipped.push({ key, reason: "the repository or its charts define it (--all imports it anyway)" });
      continue;
    }
    const imported = importedOf(service, snapshot);
    if ("reason" in imported) {
      skipped.push({ key, reason: imported.reason });
      continue;
    }
    const outcome = writeEntry(document, services, imported);
    if (outcome === "added") added.push(imported);
    else if (outcome === "updated") updated.push(imported);
  }
  const changed = added.length > 0 || updated.length > 0;
  // Flow collections are written the way the file already writes them: `{a: b}` or `{ a: b }`.
  const padded = /[{[] \S/.test(configText) || !/[{[][^\s\]}]/.test(configText);
  const text = changed ? document.toString({ flowCollectionPadding: padded }) : configText;
  return { text, added, updated, skipped };
}

/**
 * "namespace/name" of every Service the repository defines, and its charts when a renderer is given: what an import
 * skips unless asked.
 */
export async function definedServiceKeys(sources: readonly SourceFile[], charts?: ChartRenderer): Promise<Set<string>> {
  const files = parseSources(sources);
  let index = buildRepoIndex(files);
  const releases = chartReleasesOf(index, files);
  if (charts && releases.length > 0) index = withRenderedCharts(index, await charts.render(releases));
  return new Set(index.services.map((service) => `${service.namespace ?? ""}/${service.name}`));
}
