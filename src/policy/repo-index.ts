// What service resolution and cross-file rules need from the whole repository, rendered as kustomize would.
import type { Manifest, ParsedFile } from "./manifests.js";
import type { EndpointsInfo, ReleaseInfo, ServiceInfo, WorkloadInfo } from "./types.js";

export interface RenderedMetadata {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
}

export interface RepoIndex {
  readonly services: readonly ServiceInfo[];
  readonly workloads: readonly WorkloadInfo[];
  readonly endpoints: readonly EndpointsInfo[];
  readonly releases: readonly ReleaseInfo[];
  /** A manifest's name and namespace after the kustomizations that include it (namePrefix, namespace, …). */
  rendered(manifest: Manifest): RenderedMetadata;
}

/** Placeholder until kustomize-aware indexing lands: metadata as written, nothing indexed. */
export function buildRepoIndex(_files: readonly ParsedFile[]): RepoIndex {
  return {
    services: [],
    workloads: [],
    endpoints: [],
    releases: [],
    rendered: (manifest) => ({ name: manifest.name, namespace: manifest.namespace }),
  };
}
