// Lookups over one repository index: Services by name, workloads by namespace and pod label, Endpoints by Service,
// kustomize notes by file, workloads by the selector that matches them. Resolution and rules ask these for every
// policy, and the answers are per repository: the engine builds one IndexLookups with the index of an analysis and
// carries it in the contexts of resolution and rules, so each table is built once per analysis, when first asked,
// and two analyses share nothing.
import type { Manifest } from "../read/manifests.js";
import type { KustomizeNote } from "../render/kustomize.js";
import { matchesLabels, parseSelectorKey } from "../selectors.js";
import type { EndpointsInfo, LabelSelector, ServiceInfo, WorkloadInfo } from "../types.js";
import type { ChartOutcome } from "./chart-outcomes.js";
import type { RepoIndex } from "./repo-index.js";

/** What the lookups read of an index (tests hand-build these). */
export type IndexedRepository = Pick<
  RepoIndex,
  "services" | "workloads" | "endpoints" | "releases" | "notes" | "charts"
>;

const NONE: readonly never[] = [];

function groupBy<T>(items: readonly T[], keys: (item: T) => Iterable<string>): ReadonlyMap<string, readonly T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    for (const key of keys(item)) {
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
  }
  return groups;
}

function namespacedLabel(namespace: string | undefined, key: string, value: string): string {
  return `${namespace ?? ""}\0${key}=${value}`;
}

export class IndexLookups {
  #servicesByName?: ReadonlyMap<string, readonly ServiceInfo[]>;
  #servicesByWrittenName?: ReadonlyMap<string, readonly ServiceInfo[]>;
  #workloadsByNamespace?: ReadonlyMap<string, readonly WorkloadInfo[]>;
  #workloadsByNamespacedLabel?: ReadonlyMap<string, readonly WorkloadInfo[]>;
  #workloadsByLabel?: ReadonlyMap<string, readonly WorkloadInfo[]>;
  /** Large repositories repeat selectors in many policies ("everything of the shop"): matched once each. */
  readonly #matches = new Map<string, readonly WorkloadInfo[]>();
  readonly #namespacesOfMatches = new Map<string, ReadonlyMap<string | undefined, WorkloadInfo>>();
  #endpointsByService?: ReadonlyMap<string, readonly EndpointsInfo[]>;
  #notesByFile?: ReadonlyMap<string, readonly KustomizeNote[]>;
  #notesByPolicy?: ReadonlyMap<Manifest, readonly KustomizeNote[]>;
  #chartsByFile?: ReadonlyMap<string, readonly ChartOutcome[]>;

  constructor(readonly index: IndexedRepository) {}

  /** The Services of that name (as rendered), in index order. */
  servicesNamed(name: string): readonly ServiceInfo[] {
    this.#servicesByName ??= groupBy(this.index.services, (service) => [service.name]);
    return this.#servicesByName.get(name) ?? NONE;
  }

  /** The Services written with that name before kustomize renamed them (namePrefix, nameSuffix). */
  servicesWrittenAs(name: string): readonly ServiceInfo[] {
    this.#servicesByWrittenName ??= groupBy(this.index.services, (service) =>
      service.writtenName === undefined ? [] : [service.writtenName],
    );
    return this.#servicesByWrittenName.get(name) ?? NONE;
  }

  /** The workloads of a namespace (undefined: those whose namespace is unknown). */
  workloadsIn(namespace: string | undefined): readonly WorkloadInfo[] {
    this.#workloadsByNamespace ??= groupBy(this.index.workloads, (workload) => [workload.namespace ?? ""]);
    return this.#workloadsByNamespace.get(namespace ?? "") ?? NONE;
  }

  /** The workloads of a namespace whose pods carry the label `key: value` (key as written on the pods). */
  workloadsLabelled(namespace: string | undefined, key: string, value: string): readonly WorkloadInfo[] {
    this.#workloadsByNamespacedLabel ??= groupBy(this.index.workloads, (workload) =>
      Object.entries(workload.podLabels).map(([k, v]) => namespacedLabel(workload.namespace, k, v)),
    );
    return this.#workloadsByNamespacedLabel.get(namespacedLabel(namespace, key, value)) ?? NONE;
  }

  /** The workloads of every namespace whose pod labels `selector` matches, in index order. */
  workloadsMatching(selector: LabelSelector): readonly WorkloadInfo[] {
    const key = JSON.stringify(selector);
    const known = this.#matches.get(key);
    if (known) return known;
    this.#workloadsByLabel ??= groupBy(this.index.workloads, (workload) =>
      Object.entries(workload.podLabels).map(([k, v]) => `${k}=${v}`),
    );
    // A workload matching the selector carries each of its matchLabels: the bucket of one of them holds every match.
    const [firstLabel] = Object.entries(selector.matchLabels ?? {});
    const candidates = firstLabel
      ? (this.#workloadsByLabel.get(`${parseSelectorKey(firstLabel[0]).key}=${firstLabel[1]}`) ?? NONE)
      : this.index.workloads;
    const matching = candidates.filter((workload) => matchesLabels(selector, workload.podLabels));
    this.#matches.set(key, matching);
    return matching;
  }

  /**
   * The namespaces of the workloads `selector` matches (undefined: a workload whose namespace is unknown), each with
   * its first match in index order.
   */
  namespacesMatching(selector: LabelSelector): ReadonlyMap<string | undefined, WorkloadInfo> {
    const key = JSON.stringify(selector);
    const known = this.#namespacesOfMatches.get(key);
    if (known) return known;
    const namespaces = new Map<string | undefined, WorkloadInfo>();
    for (const workload of this.workloadsMatching(selector)) {
      if (!namespaces.has(workload.namespace)) namespaces.set(workload.namespace, workload);
    }
    this.#namespacesOfMatches.set(key, namespaces);
    return namespaces;
  }

  /** The Endpoints objects of the Service `namespace/name`. */
  endpointsOf(namespace: string | undefined, serviceName: string): readonly EndpointsInfo[] {
    this.#endpointsByService ??= groupBy(this.index.endpoints, (entry) => [
      `${entry.namespace ?? ""}/${entry.serviceName}`,
    ]);
    return this.#endpointsByService.get(`${namespace ?? ""}/${serviceName}`) ?? NONE;
  }

  /** What kustomize rendering could not follow or apply, said about one file (policies it may change apart). */
  notesOf(file: string): readonly KustomizeNote[] {
    this.#notesByFile ??= groupBy(
      (this.index.notes ?? NONE).filter((note) => note.mayChange === undefined),
      (note) => [note.file],
    );
    return this.#notesByFile.get(file) ?? NONE;
  }

  /** The charts whose installer (HelmRelease, Application, kustomization) is in a file. */
  chartsInstalledIn(file: string): readonly ChartOutcome[] {
    this.#chartsByFile ??= groupBy(this.index.charts ?? NONE, (outcome) => [outcome.installed.location.file]);
    return this.#chartsByFile.get(file) ?? NONE;
  }

  /** The kustomize fields this engine does not apply that may change a policy in every rendering of it. */
  unappliedOn(manifest: Manifest): readonly KustomizeNote[] {
    if (!this.#notesByPolicy) {
      const byPolicy = new Map<Manifest, KustomizeNote[]>();
      for (const note of this.index.notes ?? NONE) {
        if (!note.mayChange) continue;
        const notes = byPolicy.get(note.mayChange);
        if (notes) notes.push(note);
        else byPolicy.set(note.mayChange, [note]);
      }
      this.#notesByPolicy = byPolicy;
    }
    return this.#notesByPolicy.get(manifest) ?? NONE;
  }
}
