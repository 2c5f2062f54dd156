// The port through which rendered Helm charts reach the engine. The engine reads which charts the repository installs
// (pure); a shell obtains and renders them with the real `helm` and hands the output back. The engine never runs
// processes, reads the disk or the network.
import type { SourceLocation } from "../types.js";

/** Where a chart comes from, as the repository names it. */
export type ChartSource =
  | {
      readonly kind: "repository";
      /** `https://…` (a Helm repository with index.yaml) or `oci://…` (a registry path, without the chart name). */
      readonly repository: string;
      readonly name: string;
      /** An exact version or a semver range; undefined: the newest the repository offers. */
      readonly version: string | undefined;
    }
  | {
      readonly kind: "directory";
      /** Repository-relative path of the chart directory (the one holding Chart.yaml), forward slashes. */
      readonly path: string;
    };

/** One release of a chart that the repository installs: a Flux HelmRelease, an Argo CD Application source, a kustomize helmCharts entry. */
export interface ChartRelease {
  /** Stable identity of this release within one analysis; a render answers with the same key. */
  readonly key: string;
  readonly installer: "HelmRelease" | "Application" | "kustomize";
  readonly releaseName: string;
  readonly namespace: string;
  readonly chart: ChartSource;
  /** The values helm receives, merged in the installer's order (plain JSON). */
  readonly values: Readonly<Record<string, unknown>>;
  /** API versions the repository's CRDs declare (`group/version` and `group/version/Kind`), for `--api-versions`. */
  readonly apiVersions: readonly string[];
  /** The line a person edits: the installer's manifest. */
  readonly location: SourceLocation;
}

/** A shell's answer for one release. */
export type ChartRender =
  | {
      readonly key: string;
      readonly ok: true;
      /** The chart and version actually rendered (a range resolved), e.g. traefik 24.0.0. */
      readonly chart: string;
      readonly version: string;
      /** Where the chart came from, for notes: a repository URL or a directory. */
      readonly from: string;
      /** `helm template` output: a multi-document YAML stream. */
      readonly manifests: string;
    }
  | {
      readonly key: string;
      readonly ok: false;
      /** Plain words, e.g. "chart traefik 24.0.0 from https://traefik.github.io/charts is not in the chart cache and downloads are off". */
      readonly reason: string;
    };

/** Implemented by each shell: obtains the charts (repository directory, cache, download) and renders them with helm. */
export interface ChartRenderer {
  render(releases: readonly ChartRelease[]): Promise<readonly ChartRender[]>;
}
