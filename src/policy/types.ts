// The engine's shared vocabulary. Everything here is plain data: no I/O, no GitHub, no global state.

export type Severity = "error" | "warning" | "info";

/** How a finding can be fixed: by the rewrite, by the rewrite with a guessed selector, by hand, or not at all. */
export type FixKind = "auto" | "guessed" | "manual" | "none";

/** A file as a shell hands it to the engine. `content` is null when the shell declined to read it (too large). */
export interface SourceFile {
  /** Path relative to the repository root, with forward slashes. */
  readonly path: string;
  readonly size: number;
  /**
   * The bytes; or the text, when the shell already decoded them as UTF-8 (fatal on invalid bytes, the BOM kept), so that
   * it need not hold both; null when it declined to read them.
   */
  readonly content: Uint8Array | string | null;
  /**
   * For a file whose content the shell did not keep (null): whether its bytes name a Cilium policy kind, when the
   * shell looked (policyScanner); undefined when it did not.
   */
  readonly holdsPolicy?: boolean;
}

/** 1-based line and column, as editors and GitHub show them. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine?: number;
  readonly endColumn?: number;
  /** "namespace/name", "name" for clusterwide policies or policies whose namespace is unknown, null outside policies. */
  readonly policy: string | null;
  readonly message: string;
  readonly fix: FixKind;
}

export type Labels = Readonly<Record<string, string>>;

/** A Kubernetes label selector as written in manifests (matchLabels + matchExpressions). */
export interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: ReadonlyArray<{
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }>;
}

/** Where a manifest sits in the repository. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  /** A number, a container port name, or undefined (defaults to `port`). */
  readonly targetPort?: number | string;
  readonly protocol: string;
}

/** Where an object of a rendered chart came from (source `chart`). */
export interface ChartOrigin {
  /** The chart and version helm rendered, e.g. traefik 33.2.1, and where the chart came from (a URL or directory). */
  readonly chart: string;
  readonly version: string;
  readonly from: string;
  readonly installer: "HelmRelease" | "Application" | "kustomize";
  /** Values the render needed but the repository does not hold: what it rendered may differ from the cluster's. */
  readonly uncertain?: readonly string[];
  /** Flux variables nothing defines, left as written in the values (`${SECRET_DOMAIN}`): uncertain where they reach. */
  readonly unknownVariables?: readonly string[];
}

/** A Service as kustomize would render it: final name, namespace and labels. */
export interface ServiceInfo {
  readonly name: string;
  /** undefined when neither the manifest nor any kustomization including it sets one. */
  readonly namespace: string | undefined;
  readonly labels: Labels;
  /** undefined or empty: a selector-less Service (Endpoints are managed by hand or by an operator). */
  readonly selector: Labels | undefined;
  readonly ports: readonly ServicePort[];
  readonly location: SourceLocation;
  /** spec.type as written (ClusterIP when absent); ExternalName Services have no pods to select. */
  readonly type?: string;
  readonly externalName?: string;
  /** metadata.name as written, when a kustomize namePrefix/nameSuffix changed it. */
  readonly writtenName?: string;
  /** Path of the top kustomization that rendered this Service; absent when no kustomization includes its file. */
  readonly kustomization?: string;
  /** true when the Service as written has no selector and kustomize labels (commonLabels, …) created one. */
  readonly selectorAdded?: boolean;
  /** Kustomization fields on its way that are not applied (e.g. "base/kustomization.yaml: patches"): verify. */
  readonly unapplied?: readonly string[];
  /** Made by a chart the repository installs; `location` is then the installer's. */
  readonly chart?: ChartOrigin;
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: string;
}

/** A workload's pod template as rendered: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod. */
export interface WorkloadInfo {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly podLabels: Labels;
  readonly containerPorts: readonly ContainerPort[];
  readonly location: SourceLocation;
  /** spec.selector as rendered (absent for Pods). */
  readonly selector?: LabelSelector;
  /** Path of the top kustomization that rendered this workload; absent when no kustomization includes its file. */
  readonly kustomization?: string;
  /** Kustomization fields on its way that are not applied and may change it (patches targeting it, …). */
  readonly unapplied?: readonly string[];
  /** Made by a chart the repository installs. */
  readonly chart?: ChartOrigin;
}

/** Addresses behind a selector-less Service, from Endpoints or EndpointSlices. */
export interface EndpointsInfo {
  readonly serviceName: string;
  readonly namespace: string | undefined;
  readonly addresses: readonly string[];
  readonly ports: ReadonlyArray<{ readonly name?: string; readonly port: number; readonly protocol: string }>;
  readonly location: SourceLocation;
  /** Path of the top kustomization that rendered it; absent when no kustomization includes its file. */
  readonly kustomization?: string;
  /** Made by a chart the repository installs. */
  readonly chart?: ChartOrigin;
}

/** A Helm release or Argo CD Application: explains Service names that charts create. */
export interface ReleaseInfo {
  readonly kind: "HelmRelease" | "Application" | "kustomize";
  readonly releaseName: string;
  readonly chart: string | undefined;
  readonly namespace: string | undefined;
  readonly location: SourceLocation;
  /** Its chart was rendered: what the rendered Services came from. */
  readonly rendered?: ChartOrigin;
  /** Its chart was not rendered: why (shown with any guess it explains). */
  readonly notRendered?: string;
}

export interface ServiceOverride {
  readonly selector: Labels;
  /** The Service's own labels: what `k8sServiceSelector` entries match. */
  readonly labels?: Labels;
  /** service port → target port (number or container port name) */
  readonly ports?: Readonly<Record<string, number | string>>;
}

/** The engine's configuration: what the analysis reads. */
export interface Config {
  /** A semver range of the Cilium versions the clusters run or will run. */
  readonly ciliumVersion: string;
  /** true when the configuration (file or override) sets ciliumVersion: it then wins over what the repository installs. */
  readonly ciliumVersionConfigured?: boolean;
  /** Services created outside the repository (Helm charts, operators), keyed "namespace/name". */
  readonly services: Readonly<Record<string, ServiceOverride>>;
  /** What to do with a Service that nothing resolves: guess a selector (marked for review) or leave the rule alone. */
  readonly unresolved: "guess" | "skip";
  readonly paths: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  /** Per-rule severity overrides, or "off". Keys are rule ids of the registry. */
  readonly rules: Readonly<Record<string, Severity | "off">>;
}
