// Which charts the repository installs, read from its installers (pure): Flux HelmReleases, Argo CD Applications and
// kustomize `helmCharts`, each as a ChartRelease a shell can render with helm, with the values merged in that
// installer's order. What the engine cannot know (a Secret the repository does not hold, a values file inside a chart
// it has not got) is kept as a note: the render is then uncertain, and says so.
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import type { Manifest, ParsedFile } from "../read/manifests.js";
import { MAX_ALIAS_COUNT, POLICY_KINDS } from "../read/manifests.js";
import type { SourceLocation } from "../types.js";
import type { ChartRelease, ChartSource } from "./chart-port.js";
import { applicationsOfSet, repositoryDirectories } from "./application-set.js";
import { mergeLayers, setValueAt, typedSetValue } from "./helm-values.js";
import type { Values } from "./helm-values.js";
import { joinPath } from "./kustomize.js";
import { refusedSecretReason, secretDataOf, utf8Text } from "./secret-data.js";
import type { KustomizeLayer } from "./kustomize.js";
import type { Substitution } from "./flux-substitution.js";
import { asRecord } from "../records.js";

/** One chart installation the repository declares, rendered or not. */
/** The `dependencies` of a repository chart's Chart.yaml, as written (name, version or range, repository). */
export interface ChartDependencies {
  readonly chartFile: string;
  readonly charts: readonly { readonly name: string; readonly version: string | undefined }[];
}

export interface InstalledChart {
  readonly key: string;
  readonly installer: ChartRelease["installer"];
  readonly releaseName: string;
  readonly namespace: string;
  readonly location: SourceLocation;
  /** The chart's name as the installer gives it (for notes and guesses); a path's last segment for directories. */
  readonly chartName: string | undefined;
  /** What a shell renders; undefined when the repository does not say where the chart is (see `unrenderable`). */
  readonly release: ChartRelease | undefined;
  /** Why no shell can render it (a HelmRepository that is not in the repository, …). */
  readonly unrenderable?: string;
  /** Values the render would need but the engine cannot know: a render is then uncertain. */
  readonly uncertain: readonly string[];
  /**
   * Flux post-build variables nothing in the repository defines (`${SECRET_DOMAIN}`), left as written in the values:
   * only what they reach in the render (a Service's name, selector or ports) is uncertain.
   */
  readonly unknownVariables?: readonly string[];
  /** A chart of the repository: the charts its Chart.yaml pulls in as dependencies (an umbrella chart's subcharts). */
  readonly dependencies?: ChartDependencies;
  /** kustomize `helmCharts`: the kustomizations' layers applied to the chart's output, per top-level kustomization. */
  readonly layers?: readonly { readonly root: string; readonly layers: readonly KustomizeLayer[] }[];
}

export interface InstallerRendering {
  readonly value: Readonly<Record<string, unknown>>;
  readonly root?: string;
  readonly substitution?: Substitution;
  readonly unapplied?: readonly string[];
}

export interface ChartReleaseInputs {
  readonly files: readonly ParsedFile[];
  /** Files that are not resources (kustomize patches, generator inputs): a HelmRelease in one installs nothing. */
  readonly nonResourceFiles?: ReadonlySet<string>;
  /** A manifest's namespace after the kustomizations that include it. */
  readonly namespaceOf: (manifest: Manifest) => string | undefined;
  /**
   * Each way the cluster receives an installer: its value after the kustomizations including it (namespace, Flux
   * post-build substitution), the top-level kustomization, and the kustomize fields not applied that may change it.
   * Absent or empty: the manifest as written.
   */
  readonly renderingsOf?: (manifest: Manifest) => readonly InstallerRendering[];
  /** The layers applied to what a kustomization file generates (its helmCharts), per top-level kustomization. */
  readonly chartLayersOf?: (kustomization: string) => readonly { root: string; layers: readonly KustomizeLayer[] }[];
  /** The repository's directories (ApplicationSet git generators match them); listed from `files` when absent. */
  readonly directories?: () => readonly string[];
}

type Json = Readonly<Record<string, unknown>>;

function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash === -1 ? "" : apiVersion.slice(0, slash);
}

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

/** A version constraint as installers write it; "*", "" and "latest" mean the newest. */
function versionOf(value: unknown): string | undefined {
  const version = typeof value === "number" ? String(value) : text(value)?.trim();
  return version === undefined || version === "*" || version === "latest" ? undefined : version;
}

function locationOf(manifest: Manifest): SourceLocation {
  return manifest.location;
}

// ---- the repository's files, by what installers look up ----

class Lookup {
  // Built when an installer first asks: most files of most repositories install nothing.
  #byPath: Map<string, ParsedFile> | undefined;
  #objects: Map<string, Manifest[]> | undefined;
  private directoryList: readonly string[] | undefined;

  constructor(
    private readonly files: readonly ParsedFile[],
    private readonly namespaceOf: (manifest: Manifest) => string | undefined,
    private readonly listDirectories?: () => readonly string[],
  ) {}

  private get byPath(): Map<string, ParsedFile> {
    return (this.#byPath ??= new Map(this.files.map((file) => [file.path, file])));
  }

  private get objects(): Map<string, Manifest[]> {
    if (this.#objects) return this.#objects;
    this.#objects = new Map();
    for (const file of this.files) {
      for (const manifest of file.manifests) {
        if (!LOOKED_UP_KINDS.has(manifest.kind) || manifest.name === undefined) continue;
        this.add(manifest);
      }
      // ConfigMaps and Secrets kustomize generates (a common way to hand values to a HelmRelease).
      if (/(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(file.path) && file.text.includes("Generator")) {
        for (const generated of generatedObjects(file, (path) => this.byPath.get(path))) this.add(generated);
      }
    }
    return this.#objects;
  }

  private add(manifest: Manifest): void {
    const key = `${manifest.kind}/${manifest.name ?? ""}`;
    const list = this.#objects!.get(key);
    if (list) list.push(manifest);
    else this.#objects!.set(key, [manifest]);
  }

  /** The object of that kind and name in that namespace (rendered); one without a namespace when none has it. */
  object(kind: string, name: string, namespace: string | undefined, group?: string): Manifest | undefined {
    const candidates = (this.objects.get(`${kind}/${name}`) ?? []).filter(
      (manifest) => group === undefined || groupOf(manifest.apiVersion) === group,
    );
    return (
      candidates.find((manifest) => this.namespaceOf(manifest) === namespace) ??
      candidates.find((manifest) => this.namespaceOf(manifest) === undefined)
    );
  }

  namespaceOfManifest(manifest: Manifest): string | undefined {
    return this.namespaceOf(manifest);
  }

  /** The plain value of a YAML file's first document (a values file); undefined when absent or unreadable. */
  yamlFile(path: string): { value: unknown } | undefined {
    const file = this.byPath.get(path);
    if (!file || file.skipped !== undefined || file.templated) return undefined;
    const document = file.documents[0];
    if (!document) return { value: {} };
    if (document.errors.length > 0) return undefined;
    try {
      return { value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
    } catch {
      return undefined;
    }
  }

  /** The repository's directories (ApplicationSet git generators match them), found once when first asked. */
  directories(): readonly string[] {
    this.directoryList ??= this.listDirectories?.() ?? repositoryDirectories(this.byPath.keys());
    return this.directoryList;
  }

  /** Whether a directory of the repository holds a chart (a Chart.yaml). */
  chartAt(
    dir: string,
  ): { name: string | undefined; version: string | undefined; dependencies?: ChartDependencies } | undefined {
    const chartFile = dir === "" ? "Chart.yaml" : `${dir}/Chart.yaml`;
    const chart = this.yamlFile(chartFile);
    if (!chart) return undefined;
    const value = asRecord(chart.value);
    const charts = asArray(value?.dependencies).flatMap((raw) => {
      const name = text(asRecord(raw)?.name);
      return name === undefined ? [] : [{ name, version: versionOf(asRecord(raw)?.version) }];
    });
    return {
      name: text(value?.name),
      version: versionOf(value?.version),
      ...(charts.length > 0 ? { dependencies: { chartFile, charts } } : {}),
    };
  }
}

/**
 * The ConfigMaps and Secrets a kustomization's `configMapGenerator` / `secretGenerator` make, by their name before
 * kustomize's hash suffix (Flux users disable it, or let `nameReference` rewrite the reference), with `files`
 * (`key=path` or the file's name as key) and `literals` as data, in the kustomization's namespace.
 */
function generatedObjects(file: ParsedFile, fileAt: (path: string) => ParsedFile | undefined): Manifest[] {
  const value = kustomizationValue(file);
  if (!value) return [];
  const dir = dirname(file.path);
  const namespace = text(value.namespace);
  const objects: Manifest[] = [];
  for (const [field, kind] of [
    ["configMapGenerator", "ConfigMap"],
    ["secretGenerator", "Secret"],
  ] as const) {
    for (const raw of asArray(value[field])) {
      const generator = asRecord(raw);
      const name = text(generator?.name);
      if (!generator || name === undefined) continue;
      const data: Record<string, string> = {};
      for (const entry of asArray(generator.files)) {
        if (typeof entry !== "string") continue;
        const equals = entry.indexOf("=");
        const reference = equals === -1 ? entry : entry.slice(equals + 1);
        const path = joinPath(dir, reference);
        const source = path === undefined ? undefined : fileAt(path);
        if (source && source.skipped === undefined) {
          data[equals === -1 ? (reference.split("/").pop() ?? reference) : entry.slice(0, equals)] = source.text;
        }
      }
      for (const literal of asArray(generator.literals)) {
        if (typeof literal !== "string" || !literal.includes("=")) continue;
        data[literal.slice(0, literal.indexOf("="))] = literal.slice(literal.indexOf("=") + 1);
      }
      objects.push({
        file: file.path,
        documentIndex: 0,
        apiVersion: "v1",
        kind,
        name,
        namespace: text(generator.namespace) ?? namespace,
        value: { apiVersion: "v1", kind, metadata: { name }, stringData: data },
        path: [],
        location: { file: file.path, line: 1, column: 1 },
      } as unknown as Manifest);
    }
  }
  return objects;
}

const LOOKED_UP_KINDS: ReadonlySet<string> = new Set([
  "HelmRepository",
  "GitRepository",
  "OCIRepository",
  "HelmChart",
  "ConfigMap",
  "Secret",
]);

/** A YAML text (a values string): its value, or undefined when it does not parse. */
function parseValuesText(source: string): unknown {
  try {
    return parseYaml(source, { maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    return undefined;
  }
}

/** A ConfigMap's or Secret's entry as text: `data` (base64 for Secrets), `stringData`; undefined when absent. */
function dataEntry(manifest: Manifest, key: string): { text?: string; why?: string } {
  const value = manifest.value;
  if (value.sops !== undefined) return { why: `${manifest.kind} ${manifest.name ?? "?"} is encrypted (SOPS)` };
  const data = asRecord(value.data);
  const stringData = asRecord(value.stringData);
  if (manifest.kind === "Secret") {
    const decoded = secretDataOf(data ?? {});
    if ("refusedKey" in decoded) return { why: refusedSecretReason(manifest.name, decoded.refusedKey) };
    const written = stringData?.[key];
    if (typeof written === "string") return { text: written };
    const bytes = decoded.values.get(key);
    if (bytes === undefined) return { why: `Secret ${manifest.name ?? "?"} has no key ${key}` };
    const text = utf8Text(bytes);
    return text === undefined ? { why: `Secret ${manifest.name ?? "?"} key ${key} is not UTF-8 text` } : { text };
  }
  const raw = stringData?.[key] ?? data?.[key];
  if (typeof raw !== "string") return { why: `${manifest.kind} ${manifest.name ?? "?"} has no key ${key}` };
  return { text: raw };
}

// ---- Flux HelmRelease ----

const FLUX_HELM = "helm.toolkit.fluxcd.io";
const FLUX_SOURCE = "source.toolkit.fluxcd.io";

function repositorySource(url: string, type: string | undefined): string {
  return type === "oci" && !url.startsWith("oci://") ? `oci://${url.replace(/^[a-z]+:\/\//, "")}` : url;
}

interface SourceAnswer {
  readonly chart?: ChartSource;
  readonly chartName?: string;
  readonly dependencies?: ChartDependencies;
  readonly unrenderable?: string;
  readonly uncertain?: readonly string[];
}

function fluxChartSpec(
  spec: Json,
  namespace: string | undefined,
  lookup: Lookup,
  what: string,
): SourceAnswer & { valuesFiles?: readonly string[] } {
  const chart = text(spec.chart);
  const version = versionOf(spec.version);
  const ref = asRecord(spec.sourceRef);
  const refKind = text(ref?.kind);
  const refName = text(ref?.name);
  const refNamespace = text(ref?.namespace) ?? namespace;
  const valuesFiles = asArray(spec.valuesFiles).filter((f): f is string => typeof f === "string");
  if (chart === undefined) return { unrenderable: `${what} names no chart` };
  if (refKind === "HelmRepository" && refName !== undefined) {
    const repository = lookup.object("HelmRepository", refName, refNamespace, FLUX_SOURCE);
    const url = text(asRecord(repository?.value.spec)?.url);
    if (!repository || url === undefined) {
      return {
        chartName: chart,
        unrenderable: `chart ${chart}: the HelmRepository ${refNamespace ?? "?"}/${refName} is not in the repository`,
      };
    }
    const type = text(asRecord(repository.value.spec)?.type);
    return {
      chartName: chart,
      chart: { kind: "repository", repository: repositorySource(url, type), name: chart, version },
      ...(valuesFiles.length > 0
        ? { uncertain: [`valuesFiles inside chart ${chart} (${valuesFiles.join(", ")}) are not applied`] }
        : {}),
    };
  }
  if ((refKind === "GitRepository" || refKind === "Bucket") && refName !== undefined) {
    // The chart is a path of the source; it is this repository's when that path holds a chart here.
    const path = joinPath("", chart);
    const local = path === undefined ? undefined : lookup.chartAt(path);
    if (path === undefined || !local) {
      return {
        chartName: chart.split("/").pop(),
        unrenderable: `chart path ${chart} of ${refKind} ${refName} holds no Chart.yaml in this repository`,
      };
    }
    return { ...directorySource(path, local), valuesFiles };
  }
  return { chartName: chart, unrenderable: `chart ${chart}: source ${refKind ?? "?"} ${refName ?? "?"} is not read` };
}

function fluxChartRef(ref: Json, namespace: string | undefined, lookup: Lookup): SourceAnswer {
  const kind = text(ref.kind);
  const name = text(ref.name);
  const refNamespace = text(ref.namespace) ?? namespace;
  if (name === undefined) return { unrenderable: "chartRef names nothing" };
  if (kind === "OCIRepository") {
    const oci = lookup.object("OCIRepository", name, refNamespace, FLUX_SOURCE);
    const spec = asRecord(oci?.value.spec);
    const url = text(spec?.url);
    if (!oci || url === undefined) {
      return { unrenderable: `the OCIRepository ${refNamespace ?? "?"}/${name} is not in the repository` };
    }
    const slash = url.lastIndexOf("/");
    const chartName = url.slice(slash + 1);
    const reference = asRecord(spec?.ref);
    if (text(reference?.digest) !== undefined && text(reference?.tag) === undefined) {
      return { chartName, unrenderable: `OCIRepository ${name} pins a digest only; the chart version is unknown` };
    }
    return {
      chartName,
      chart: {
        kind: "repository",
        repository: url.slice(0, slash),
        name: chartName,
        version: versionOf(reference?.tag) ?? versionOf(reference?.semver),
      },
    };
  }
  if (kind === "HelmChart") {
    const helmChart = lookup.object("HelmChart", name, refNamespace, FLUX_SOURCE);
    const spec = asRecord(helmChart?.value.spec);
    if (!helmChart || !spec)
      return { unrenderable: `the HelmChart ${refNamespace ?? "?"}/${name} is not in the repository` };
    return fluxChartSpec(spec, lookup.namespaceOfManifest(helmChart), lookup, `HelmChart ${name}`);
  }
  return { unrenderable: `chartRef to ${kind ?? "?"} ${name} is not read` };
}

function fluxValuesFrom(
  spec: Json,
  namespace: string | undefined,
  lookup: Lookup,
): { layers: unknown[]; uncertain: string[] } {
  const layers: unknown[] = [];
  const uncertain: string[] = [];
  for (const raw of asArray(spec.valuesFrom)) {
    const entry = asRecord(raw);
    const kind = text(entry?.kind);
    const name = text(entry?.name);
    if (!entry || (kind !== "ConfigMap" && kind !== "Secret") || name === undefined) continue;
    const key = text(entry.valuesKey) ?? "values.yaml";
    const targetPath = text(entry.targetPath);
    const optional = entry.optional === true;
    const object = lookup.object(kind, name, namespace);
    const where = `valuesFrom ${kind} ${name}`;
    if (!object) {
      uncertain.push(`${where}${optional ? " (optional)" : ""} is not in the repository`);
      continue;
    }
    const found = dataEntry(object, key);
    if (found.text === undefined) {
      if (!optional || !found.why?.includes("has no key")) uncertain.push(`${where}: ${found.why ?? "unreadable"}`);
      continue;
    }
    if (targetPath !== undefined) {
      // helm-controller's ReplacePathValue: --set typing, a quoted value kept as a string without its quotes.
      const quoted = /^(['"]).*\1$/s.test(found.text);
      const value = quoted ? found.text.slice(1, -1) : typedSetValue(found.text);
      layers.push(setValueAt({}, targetPath, value));
      continue;
    }
    const parsed = parseValuesText(found.text);
    if (parsed === undefined) uncertain.push(`${where}: key ${key} is not valid YAML`);
    else layers.push(parsed);
  }
  return { layers, uncertain };
}

/** helm-controller's release.ShortenName: a name over Helm's 53 characters becomes its first 40, "-", 12 of its sha256. */
export function fluxReleaseName(name: string): string {
  if (name.length <= 53) return name;
  return `${name.slice(0, 40)}-${createHash("sha256").update(name).digest("hex").slice(0, 12)}`;
}

function helmReleaseOf(
  manifest: Manifest,
  value: Json,
  ownNamespace: string | undefined,
  key: string,
  lookup: Lookup,
): InstalledChart | undefined {
  const name = text(asRecord(value.metadata)?.name) ?? manifest.name;
  const spec = asRecord(value.spec);
  if (!spec || name === undefined) return undefined;
  const targetNamespace = text(spec.targetNamespace);
  const releaseName = fluxReleaseName(
    text(spec.releaseName) ?? (targetNamespace !== undefined ? `${targetNamespace}-${name}` : name),
  );
  const namespace = targetNamespace ?? ownNamespace;
  const chartSpec = asRecord(asRecord(spec.chart)?.spec);
  const chartRef = asRecord(spec.chartRef);
  const source: SourceAnswer & { valuesFiles?: readonly string[] } = chartSpec
    ? fluxChartSpec(chartSpec, ownNamespace, lookup, `HelmRelease ${name}`)
    : chartRef
      ? fluxChartRef(chartRef, ownNamespace, lookup)
      : { unrenderable: "neither spec.chart nor spec.chartRef" };
  const uncertain = [...(source.uncertain ?? [])];
  const layers: unknown[] = [];
  if (source.chart?.kind === "directory") {
    for (const file of source.valuesFiles ?? []) {
      const path = joinPath("", file);
      const read = path === undefined ? undefined : lookup.yamlFile(path);
      if (read) layers.push(read.value);
      else uncertain.push(`values file ${file} is not in the repository`);
    }
  }
  // Flux's post-renderers (kustomize patches on the chart's output) may change what the chart renders.
  if (asArray(spec.postRenderers).length > 0) uncertain.push("spec.postRenderers are not applied");
  // Flux merges valuesFrom in order, then spec.values over them.
  const from = fluxValuesFrom(spec, ownNamespace, lookup);
  layers.push(...from.layers, spec.values);
  uncertain.push(...from.uncertain);
  if (namespace === undefined) uncertain.push("the HelmRelease's namespace is not known; assumed default");
  return installed({
    key,
    installer: "HelmRelease",
    releaseName,
    namespace: namespace ?? "default",
    location: locationOf(manifest),
    source,
    values: mergeLayers(layers),
    uncertain,
  });
}

// ---- Argo CD Application ----

function argoRepository(repoURL: string): string {
  // Argo CD names OCI Helm repositories without a scheme (registry-1.docker.io/bitnamicharts).
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repoURL) ? repoURL : `oci://${repoURL}`;
}

function applicationReleasesOf(manifest: Manifest, value: Json, key: string, lookup: Lookup): InstalledChart[] {
  const spec = asRecord(value.spec);
  const name = text(asRecord(value.metadata)?.name) ?? manifest.name;
  if (!spec || name === undefined) return [];
  const destination = text(asRecord(spec.destination)?.namespace);
  const sources = spec.source !== undefined ? [spec.source] : asArray(spec.sources);
  const refs = new Map<string, Json>();
  for (const raw of sources) {
    const source = asRecord(raw);
    const ref = text(source?.ref);
    if (source && ref !== undefined) refs.set(ref, source);
  }
  const result: InstalledChart[] = [];
  sources.forEach((raw, position) => {
    const source = asRecord(raw);
    if (!source) return;
    const helm = asRecord(source.helm);
    const chart = text(source.chart);
    const path = text(source.path);
    const repoURL = text(source.repoURL);
    let answer: SourceAnswer;
    let valuesDir = "";
    if (chart !== undefined && repoURL !== undefined) {
      answer = {
        chartName: chart,
        chart: {
          kind: "repository",
          repository: argoRepository(repoURL),
          name: chart,
          version: versionOf(source.targetRevision),
        },
      };
    } else if (path !== undefined) {
      const dir = joinPath("", path);
      const local = dir === undefined ? undefined : lookup.chartAt(dir);
      // A path source is a chart only when it holds a Chart.yaml (else: kustomize or plain manifests).
      if (dir === undefined || !local) return;
      answer = directorySource(dir, local);
      valuesDir = dir;
    } else return;
    const uncertain: string[] = [];
    const layers: unknown[] = [];
    for (const file of asArray(helm?.valueFiles)) {
      if (typeof file !== "string") continue;
      let path: string | undefined;
      if (file.startsWith("$")) {
        const slash = file.indexOf("/");
        const refSource = refs.get(file.slice(1, slash === -1 ? undefined : slash));
        path = refSource && slash !== -1 ? joinPath("", file.slice(slash + 1)) : undefined;
      } else if (answer.chart?.kind === "directory") path = joinPath(valuesDir, file);
      const read = path === undefined ? undefined : lookup.yamlFile(path);
      if (read) layers.push(read.value);
      else if (helm?.ignoreMissingValueFiles !== true || path === undefined) {
        uncertain.push(`value file ${file} is not in the repository`);
      }
    }
    // valuesObject wins over values; parameters (--set) over both.
    if (asRecord(helm?.valuesObject)) layers.push(helm?.valuesObject);
    else if (typeof helm?.values === "string") {
      const parsed = parseValuesText(helm.values);
      if (parsed === undefined) uncertain.push("helm.values is not valid YAML");
      else layers.push(parsed);
    } else if (asRecord(helm?.values)) layers.push(helm?.values);
    let values = mergeLayers(layers);
    for (const rawParameter of asArray(helm?.parameters)) {
      const parameter = asRecord(rawParameter);
      const key = text(parameter?.name);
      if (!parameter || key === undefined) continue;
      const given = parameter.value;
      const textValue = typeof given === "string" ? given : given === undefined ? "" : String(given);
      values = setValueAt(values, key, typedSetValue(textValue, parameter.forceString === true));
    }
    if (asArray(helm?.fileParameters).length > 0) uncertain.push("helm.fileParameters are not applied");
    if (destination === undefined) uncertain.push("destination.namespace is not set; assumed default");
    const installedChart = installed({
      key: `${key}/source${position}`,
      installer: "Application",
      releaseName: text(helm?.releaseName) ?? name,
      namespace: destination ?? "default",
      location: locationOf(manifest),
      source: answer,
      values,
      uncertain,
    });
    result.push(installedChart);
  });
  return result;
}

// ---- kustomize helmCharts ----

function kustomizationValue(file: ParsedFile): Json | undefined {
  const manifest = file.manifests[0];
  if (manifest?.documentIndex === 0 && manifest.path.length === 0) return manifest.value;
  const document = file.documents[0];
  if (file.skipped !== undefined || file.templated || !document || document.errors.length > 0) return undefined;
  try {
    return asRecord(document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
  } catch {
    return undefined;
  }
}

function kustomizeReleasesOf(file: ParsedFile, lookup: Lookup, inputs: ChartReleaseInputs): InstalledChart[] {
  // Most kustomizations inflate no chart: their text says so without reading them again.
  if (!file.text.includes("helmCharts")) return [];
  const value = kustomizationValue(file);
  const charts = asArray(value?.helmCharts);
  if (!value || charts.length === 0) return [];
  const dir = dirname(file.path);
  const chartHome = text(asRecord(value.helmGlobals)?.chartHome) ?? "charts";
  const layersOfOutput = inputs.chartLayersOf?.(file.path) ?? [];
  const location: SourceLocation = { file: file.path, line: 1, column: 1 };
  return charts.flatMap((raw, position): InstalledChart[] => {
    const entry = asRecord(raw);
    const chart = text(entry?.name);
    if (!entry || chart === undefined) return [];
    const version = versionOf(entry.version);
    const uncertain: string[] = [];
    const home = joinPath(dir, chartHome);
    // kustomize uses a chart already in chartHome (pulled ones sit in <name>-<version>/<name>).
    const candidates = home === undefined ? [] : [`${home}/${chart}`, `${home}/${chart}-${version ?? ""}/${chart}`];
    const localDir = candidates.find((candidate) => lookup.chartAt(candidate) !== undefined);
    const local = localDir === undefined ? undefined : lookup.chartAt(localDir);
    const repo = text(entry.repo);
    const source: SourceAnswer =
      localDir !== undefined && local !== undefined
        ? { ...directorySource(localDir, local), chartName: chart }
        : repo !== undefined
          ? { chartName: chart, chart: { kind: "repository", repository: repo, name: chart, version } }
          : { chartName: chart, unrenderable: `chart ${chart} is neither in ${chartHome} nor from a repo` };
    const readFile = (reference: string) => {
      const path = joinPath(dir, reference);
      const read = path === undefined ? undefined : lookup.yamlFile(path);
      if (!read) uncertain.push(`values file ${reference} is not in the repository`);
      return read?.value;
    };
    const valuesFile = text(entry.valuesFile);
    const fromFile = valuesFile === undefined ? undefined : readFile(valuesFile);
    const inline = asRecord(entry.valuesInline);
    const merge = text(entry.valuesMerge) ?? "override";
    // valuesMerge: override (inline over the file), merge (the file over inline), replace (inline alone).
    const base =
      inline === undefined
        ? [fromFile]
        : merge === "replace"
          ? [inline]
          : merge === "merge"
            ? [inline, fromFile]
            : [fromFile, inline];
    const additional = asArray(entry.additionalValuesFiles)
      .filter((f): f is string => typeof f === "string")
      .map(readFile);
    const apiVersions = asArray(entry.apiVersions).filter((v): v is string => typeof v === "string");
    const release = installed({
      key: `${file.path}#helmCharts/${position}`,
      installer: "kustomize",
      releaseName: text(entry.releaseName) ?? "release-name",
      namespace: text(entry.namespace) ?? "default",
      location: { ...location, line: lineOfHelmChart(file, position) },
      source,
      values: mergeLayers([...base, ...additional]),
      uncertain,
      ...(apiVersions.length > 0 ? { apiVersions } : {}),
    });
    return [{ ...release, layers: layersOfOutput }];
  });
}

/** The line of the `helmCharts` entry a person edits (the kustomization's first line when it cannot be found). */
function lineOfHelmChart(file: ParsedFile, position: number): number {
  const lines = file.text.split("\n");
  const start = lines.findIndex((line) => /^helmCharts\s*:/.test(line));
  if (start === -1) return 1;
  let seen = -1;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^\S/.test(line) && !line.startsWith("-")) break;
    if (/^\s*- /.test(line) && line.indexOf("-") === (lines[start + 1]?.indexOf("-") ?? 0)) {
      seen += 1;
      if (seen === position) return i + 1;
    }
  }
  return start + 1;
}

// ---- assembling ----

/** A chart directory of the repository: its name (else the directory's), and the dependencies its Chart.yaml lists. */
function directorySource(
  path: string,
  local: { readonly name: string | undefined; readonly dependencies?: ChartDependencies },
): SourceAnswer {
  return {
    chartName: local.name ?? path.split("/").pop(),
    chart: { kind: "directory", path },
    ...(local.dependencies ? { dependencies: local.dependencies } : {}),
  };
}

function installed(parts: {
  key: string;
  installer: ChartRelease["installer"];
  releaseName: string;
  namespace: string;
  location: SourceLocation;
  source: SourceAnswer;
  values: Values;
  uncertain: string[];
  apiVersions?: readonly string[];
}): InstalledChart {
  const { source } = parts;
  const release: ChartRelease | undefined = source.chart
    ? {
        key: parts.key,
        installer: parts.installer,
        releaseName: parts.releaseName,
        namespace: parts.namespace,
        chart: source.chart,
        values: parts.values,
        apiVersions: parts.apiVersions ?? [],
        location: parts.location,
      }
    : undefined;
  return {
    key: parts.key,
    installer: parts.installer,
    releaseName: parts.releaseName,
    namespace: parts.namespace,
    location: parts.location,
    chartName: source.chartName,
    ...(source.dependencies ? { dependencies: source.dependencies } : {}),
    release,
    ...(source.unrenderable !== undefined ? { unrenderable: source.unrenderable } : {}),
    uncertain: parts.uncertain,
  };
}

/**
 * A custom resource's API that applying the object shows its clusters serve: charts test it with
 * `.Capabilities.APIVersions.Has` (a chart's Cilium policies are made only where cilium.io/v2 is served). Built-in
 * groups (no dot, or *.k8s.io) are left to Helm's own set for its Kubernetes version, so that a repository's old
 * Ingress does not make charts choose an old API.
 */
function appliedCustomApi(manifest: { readonly apiVersion: string; readonly kind: string }): string[] {
  const group = groupOf(manifest.apiVersion);
  // What the Helm shell accepts as an --api-versions value (a repository's text is untrusted).
  const plain =
    /^[A-Za-z0-9][A-Za-z0-9.-]*\/[A-Za-z0-9][A-Za-z0-9.-]*$/.test(manifest.apiVersion) &&
    /^[A-Za-z][A-Za-z0-9]*$/.test(manifest.kind) &&
    manifest.apiVersion.length + manifest.kind.length < 253;
  if (!plain || !group.includes(".") || group.endsWith(".k8s.io")) return [];
  // Cilium installs both policy CRDs together: a cluster serving one kind serves the other.
  const kinds =
    (POLICY_KINDS as readonly string[]).includes(manifest.kind) && group === "cilium.io"
      ? POLICY_KINDS
      : [manifest.kind];
  return [manifest.apiVersion, ...kinds.map((kind) => `${manifest.apiVersion}/${kind}`)];
}

/**
 * `group/version` and `group/version/Kind` the repository shows its clusters serve, sorted: every version its CRDs
 * serve, and the API of every custom resource it applies.
 */
export function crdApiVersionsOf(files: readonly ParsedFile[]): string[] {
  const found = new Set<string>();
  for (const file of files) {
    for (const manifest of file.manifests) {
      for (const api of appliedCustomApi(manifest)) found.add(api);
      if (manifest.kind !== "CustomResourceDefinition" || groupOf(manifest.apiVersion) !== "apiextensions.k8s.io") {
        continue;
      }
      const spec = asRecord(manifest.value.spec);
      const group = text(spec?.group);
      const kind = text(asRecord(spec?.names)?.kind);
      if (group === undefined) continue;
      const versions = [
        ...asArray(spec?.versions).flatMap((raw) => {
          const version = asRecord(raw);
          return version && version.served !== false && text(version.name) !== undefined ? [text(version.name)] : [];
        }),
        ...(text(spec?.version) !== undefined ? [text(spec?.version)] : []),
      ];
      for (const version of versions) {
        found.add(`${group}/${version as string}`);
        if (kind !== undefined) found.add(`${group}/${version as string}/${kind}`);
      }
    }
  }
  return [...found].sort();
}

/**
 * An installer as the cluster receives it: with the Flux Kustomization's post-build variables substituted. Variables
 * still unknown make its render uncertain.
 */
/** Variables a Flux substitution left as written (nothing defines them). */
function unknownVariablesOf(rendering: InstallerRendering): string[] {
  if (!rendering.substitution) return [];
  const left = JSON.stringify(asRecord(rendering.value)?.spec ?? null).match(/\$\{[_A-Za-z][_A-Za-z0-9]*\}/g) ?? [];
  return [...new Set(left)].sort();
}

function withRendering(entry: InstalledChart, rendering: InstallerRendering): InstalledChart {
  const unknownVariables = unknownVariablesOf(rendering);
  const unapplied = rendering.unapplied ?? [];
  return {
    ...entry,
    ...(unknownVariables.length > 0 ? { unknownVariables } : {}),
    ...(unapplied.length > 0
      ? { uncertain: [...entry.uncertain, `kustomize fields not applied here may change it (${unapplied.join(", ")})`] }
      : {}),
  };
}

/** The distinct ways the cluster receives an installer (overlays that render it alike count once). */
function renderingsOfInstaller(manifest: Manifest, inputs: ChartReleaseInputs): InstallerRendering[] {
  const renderings = inputs.renderingsOf?.(manifest) ?? [];
  if (renderings.length === 0) return [{ value: manifest.value }];
  const seen = new Set<string>();
  return renderings.filter((rendering) => {
    const identity = JSON.stringify([rendering.value, rendering.unapplied ?? []]);
    if (seen.has(identity)) return false;
    seen.add(identity);
    return true;
  });
}

/** Every chart installation the repository declares, in file order. */
export function installedChartsOf(inputs: ChartReleaseInputs): InstalledChart[] {
  const { files } = inputs;
  const lookup = new Lookup(files, inputs.namespaceOf, inputs.directories);
  const found: InstalledChart[] = [];
  for (const file of files) {
    const resource = !inputs.nonResourceFiles?.has(file.path);
    for (const manifest of resource ? file.manifests : []) {
      const group = groupOf(manifest.apiVersion);
      const isRelease = manifest.kind === "HelmRelease" && group === FLUX_HELM;
      const isApplication = group === "argoproj.io" && manifest.kind === "Application";
      const isApplicationSet = group === "argoproj.io" && manifest.kind === "ApplicationSet";
      if (!isRelease && !isApplication && !isApplicationSet) continue;
      const renderings = renderingsOfInstaller(manifest, inputs);
      for (const rendering of renderings) {
        const value = rendering.value as Json;
        // One release per rendering: overlays (clusters) that apply the same installer differently each install it.
        const key =
          `${manifest.file}#${manifest.documentIndex}/${manifest.path.join(".")}` +
          (renderings.length > 1 ? `@${rendering.root ?? ""}` : "");
        if (isRelease) {
          const namespace = text(asRecord(value.metadata)?.namespace) ?? lookup.namespaceOfManifest(manifest);
          const release = helmReleaseOf(manifest, value, namespace, key, lookup);
          if (release) found.push(withRendering(release, rendering));
        } else {
          const applications = isApplicationSet ? applicationsOfSet(value, lookup.directories()) : [value];
          applications.forEach((application, index) => {
            const applicationKey = isApplicationSet ? `${key}/application${index}` : key;
            const releases = applicationReleasesOf(manifest, application, applicationKey, lookup);
            found.push(...releases.map((e) => withRendering(e, rendering)));
          });
        }
      }
    }
    if (/(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(file.path))
      found.push(...kustomizeReleasesOf(file, lookup, inputs));
  }
  return found;
}
