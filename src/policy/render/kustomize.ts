// The kustomize semantics service resolution depends on, over parsed files (no I/O, no kustomize binary):
// which kustomizations include which manifests, and what their `namespace`, `namePrefix`/`nameSuffix`,
// `commonLabels` and `labels` make of them. Patches, generators, replacements and remote resources are not applied:
// `notes` says where they were met.
import type { Manifest, ParsedFile } from "../read/manifests.js";
import { isKustomizationPath, isPolicyManifest, KUSTOMIZATION_FILE_NAMES, MAX_ALIAS_COUNT } from "../read/manifests.js";
import type { Labels } from "../types.js";
import { ownField, setOwnField } from "../own-fields.js";
import { namePatternMatches } from "./name-pattern.js";
import { changedPaths, readPatchYaml } from "./patch-paths.js";
import type { ObjectPath } from "./patch-paths.js";
import {
  combineSubstitutions,
  mergePostBuild,
  patchSelects,
  postBuildPatchesOf,
  readPostBuild,
  SUBSTITUTE_KEY,
  substituteValue,
  generatedSourcesOf,
  substitutePostBuild,
  substitutionOf,
  variableSourceOf,
} from "./flux-substitution.js";
import type {
  GeneratedSource,
  PostBuild,
  PostBuildPatch,
  SubstituteReference,
  Substitution,
  VariableSource,
} from "./flux-substitution.js";
import { asRecord, isRecord } from "../records.js";
import { applicationsOfSet, repositoryDirectories } from "./application-set.js";

export { isKustomizationPath, KUSTOMIZATION_FILE_NAMES };

/** Where kustomize writes a label: a path of fields ("x[]" walks a list), optionally limited to a group/version/kind. */
export interface FieldSpec {
  readonly path: string;
  /** Create the missing fields on the way (kustomize's `create: true`); otherwise only existing fields change. */
  readonly create: boolean;
  readonly group?: string;
  readonly version?: string;
  readonly kind?: string;
}

// kustomize's built-in field specs (api/internal/konfig/builtinpluginconsts), limited to the paths that matter here:
// metadata labels, selectors and pod templates.
const METADATA_LABELS: readonly FieldSpec[] = [
  { path: "metadata/labels", create: true },
  { path: "spec/template/metadata/labels", create: true, version: "v1", kind: "ReplicationController" },
  { path: "spec/template/metadata/labels", create: true, kind: "Deployment" },
  { path: "spec/template/metadata/labels", create: true, kind: "ReplicaSet" },
  { path: "spec/template/metadata/labels", create: true, kind: "DaemonSet" },
  { path: "spec/template/metadata/labels", create: true, group: "apps", kind: "StatefulSet" },
  { path: "spec/volumeClaimTemplates[]/metadata/labels", create: true, group: "apps", kind: "StatefulSet" },
  { path: "spec/template/metadata/labels", create: true, group: "batch", kind: "Job" },
  { path: "spec/jobTemplate/metadata/labels", create: true, group: "batch", kind: "CronJob" },
  { path: "spec/jobTemplate/spec/template/metadata/labels", create: true, group: "batch", kind: "CronJob" },
];

/** `commonLabels`, and `labels` entries with `includeSelectors: true`. */
export const COMMON_LABELS_FIELD_SPECS: readonly FieldSpec[] = [
  { path: "spec/selector", create: true, version: "v1", kind: "Service" },
  { path: "spec/selector", create: true, version: "v1", kind: "ReplicationController" },
  { path: "spec/selector/matchLabels", create: true, kind: "Deployment" },
  { path: "spec/selector/matchLabels", create: true, kind: "ReplicaSet" },
  { path: "spec/selector/matchLabels", create: true, kind: "DaemonSet" },
  { path: "spec/selector/matchLabels", create: true, group: "apps", kind: "StatefulSet" },
  { path: "spec/selector/matchLabels", create: false, group: "batch", kind: "Job" },
  { path: "spec/jobTemplate/spec/selector/matchLabels", create: false, group: "batch", kind: "CronJob" },
  { path: "spec/selector/matchLabels", create: false, group: "policy", kind: "PodDisruptionBudget" },
  { path: "spec/podSelector/matchLabels", create: false, group: "networking.k8s.io", kind: "NetworkPolicy" },
  ...METADATA_LABELS,
];

/**
 * `labels` entries without includeSelectors: metadata only. `includeTemplates: true` adds the pod templates of the
 * kinds kustomize knows (created when absent; CronJob job templates included), as kustomize v5.5 renders it.
 */
const PLAIN_LABELS: readonly FieldSpec[] = [{ path: "metadata/labels", create: true }];

/** Kinds kustomize knows to be cluster-scoped: its namespace transformer leaves them alone. Unknown kinds get one. */
const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "StorageClass",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "CSIDriver",
  "CSINode",
  "VolumeAttachment",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "CertificateSigningRequest",
  "PodSecurityPolicy",
  "ComponentStatus",
]);

/** Cluster-scoped kinds kustomize does not know (it namespaces them), which the API server applies without one. */
const CLUSTERWIDE_POLICY_KINDS: ReadonlySet<string> = new Set([
  "CiliumClusterwideNetworkPolicy",
  "CiliumClusterwideEnvoyConfig",
  "CiliumCIDRGroup",
]);

/** Kinds whose name kustomize's prefix/suffix transformer never changes. */
function keepsName(group: string, kind: string): boolean {
  return (
    kind === "CustomResourceDefinition" ||
    kind === "Namespace" ||
    (kind === "APIService" && group === "apiregistration.k8s.io")
  );
}

export interface LabelTransform {
  readonly pairs: Labels;
  readonly fieldSpecs: readonly FieldSpec[];
}

/** What one kustomization (or component) does to every resource it accumulates. */
export interface KustomizeLayer {
  /** Path of the kustomization file. */
  readonly kustomization: string;
  readonly namespace: string | undefined;
  /**
   * The namespace given to a namespaced resource that has none after the inner layers (an Argo CD Application's
   * `destination.namespace`); unlike `namespace`, it never moves a resource that names its own.
   */
  readonly defaultNamespace?: string;
  readonly namePrefix: string;
  readonly nameSuffix: string;
  /** In kustomize's order: each `labels` entry, then `commonLabels`. */
  readonly labels: readonly LabelTransform[];
  /** Fields this layer has that are not applied here (patches, replacements, …): a reason to double-check. */
  readonly unapplied: readonly string[];
  /** The resources those fields may change. */
  readonly unappliedTargets: readonly UnappliedTarget[];
  /** Patches of this kustomization that set `spec.postBuild` on the Flux Kustomizations it includes. */
  readonly postBuildPatches?: readonly PostBuildPatch[];
  /** ConfigMaps and Secrets this kustomization generates (substituteFrom sources for Flux). */
  readonly generatedSources?: readonly GeneratedSource[];
  /** For a Flux Kustomization's layer: its manifest and its own `spec.postBuild`. */
  readonly flux?: { readonly manifest: Manifest; readonly postBuild: PostBuild | undefined };
}

/** A resource an unapplied field may change: an absent kind or name matches any (kustomize reads names as regexes). */
export interface UnappliedTarget {
  readonly field: string;
  readonly kind?: string;
  readonly name?: string;
  /** What it changes in its targets (render/patch-paths.ts), when its content says; undefined: anything. */
  readonly paths?: readonly ObjectPath[];
}

/** One manifest as one top-level kustomization renders it. */
export interface KustomizeRendering {
  /** Path of the top-level kustomization file (one that no other kustomization includes). */
  readonly root: string;
  /** Innermost first: the order kustomize applies them in. */
  readonly layers: readonly KustomizeLayer[];
  readonly value: Readonly<Record<string, unknown>>;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  /**
   * The Flux post-build substitution applied to `value` (render/flux-substitution.ts), when the root is a Flux
   * Kustomization that substitutes and the resource does not disable it; the policy view applies the same to nodes.
   */
  readonly substitution?: Substitution;
}

export interface KustomizeNote {
  readonly file: string;
  readonly message: string;
  /**
   * A Cilium policy the cluster may not receive as written: a field this engine does not apply (a patch, a
   * replacement…) may change it in every rendering of it, or no kustomization includes it though one beside it
   * lists the directory's resources. Its findings are about text the cluster may never receive.
   */
  readonly mayChange?: Manifest;
  /**
   * For a policy patches may change: per rendering of it, the paths they change in it (render/patch-paths.ts), or
   * undefined where some patch's content does not say. Absent: anything may change.
   */
  readonly changedPaths?: readonly (readonly ObjectPath[] | undefined)[];
  /** The policy is a patch's content: only what it writes reaches its target, what it leaves out is the target's. */
  readonly partial?: boolean;
}

export interface KustomizeView {
  /** Paths of the kustomization files found. */
  readonly kustomizations: readonly string[];
  /**
   * Renderings of a manifest, one per top-level kustomization that includes it, sorted by root; [] when none does.
   * Rendered on each call (fresh copies of the manifest's value): the caller keeps what it needs.
   */
  renderingsOf(manifest: Manifest): readonly KustomizeRendering[];
  /** Files that are not resources: kustomizations themselves, patches, generator inputs, transformer configs. */
  readonly nonResourceFiles: ReadonlySet<string>;
  /** Every file a kustomization names: its resources and the files it uses otherwise (patches, inputs). */
  readonly referencedFiles: ReadonlySet<string>;
  /** Cycles, missing paths, remote resources, unapplied fields. */
  readonly notes: readonly KustomizeNote[];
  /**
   * The layers applied to what a kustomization's `helmCharts` generate, per top-level kustomization including it
   * (its own layer first); [] when no top-level kustomization reaches it.
   */
  chartLayersOf(kustomization: string): readonly { root: string; layers: readonly KustomizeLayer[] }[];
  /** Every directory of the repository (repositoryDirectories), listed when first asked. */
  directories(): readonly string[];
}

// ---- paths ----

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Joins a relative reference to a directory; undefined when it leaves the repository. */
export function joinPath(dir: string, reference: string): string | undefined {
  // Most references name a file or directory beside the kustomization: nothing to resolve.
  if (reference !== "" && reference !== "." && reference !== ".." && !reference.includes("/")) {
    return dir === "" ? reference : `${dir}/${reference}`;
  }
  const segments = dir === "" ? [] : dir.split("/");
  for (const segment of reference.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (segments.length === 0) return undefined;
      segments.pop();
    } else segments.push(segment);
  }
  return segments.join("/");
}

function isRemote(reference: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) || /^(git@|github\.com\/|gitlab\.com\/|bitbucket\.org\/)/.test(reference)
  );
}

// ---- reading kustomization files ----

type Json = Readonly<Record<string, unknown>>;

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function labelPairs(value: unknown): Labels {
  const record = asRecord(value);
  if (!record) return {};
  const labels: Record<string, string> = {};
  for (const [key, raw] of Object.entries(record)) {
    if (typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean") labels[key] = String(raw);
  }
  return labels;
}

interface Kustomization {
  readonly path: string;
  readonly dir: string;
  readonly component: boolean;
  readonly resources: readonly string[];
  readonly components: readonly string[];
  readonly layer: KustomizeLayer;
  /** Paths of files it uses as something other than resources. */
  readonly auxiliary: readonly string[];
  /** Whether it inflates Helm charts (`helmCharts`): their output is one more resource of it. */
  readonly charts?: boolean;
  /**
   * A Flux Kustomization's or an Argo CD Application's: the file holding it and its name, where its notes are said,
   * and which of its unapplied fields are said (all when absent).
   */
  readonly object?: { readonly file: string; readonly name: string; readonly said?: readonly string[] };
}

const UNAPPLIED_FIELDS = [
  "patches",
  "patchesStrategicMerge",
  "patchesJson6902",
  "replacements",
  "vars",
  "transformers",
  "configurations",
] as const;

function fieldSpecsOf(value: unknown): FieldSpec[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((raw) => {
    const spec = asRecord(raw);
    if (!spec || typeof spec.path !== "string") return [];
    return [
      {
        path: spec.path,
        create: spec.create === true,
        ...(typeof spec.group === "string" ? { group: spec.group } : {}),
        ...(typeof spec.version === "string" ? { version: spec.version } : {}),
        ...(typeof spec.kind === "string" ? { kind: spec.kind } : {}),
      },
    ];
  });
}

function labelTransformsOf(value: Json): LabelTransform[] {
  const transforms: LabelTransform[] = [];
  if (Array.isArray(value.labels)) {
    for (const raw of value.labels) {
      const entry = asRecord(raw);
      if (!entry) continue;
      const pairs = labelPairs(entry.pairs);
      if (Object.keys(pairs).length === 0) continue;
      const custom = fieldSpecsOf(entry.fields);
      const fieldSpecs =
        entry.includeSelectors === true
          ? [...custom, ...COMMON_LABELS_FIELD_SPECS]
          : [...custom, ...(entry.includeTemplates === true ? METADATA_LABELS : PLAIN_LABELS)];
      transforms.push({ pairs, fieldSpecs });
    }
  }
  const common = labelPairs(value.commonLabels);
  if (Object.keys(common).length > 0) transforms.push({ pairs: common, fieldSpecs: COMMON_LABELS_FIELD_SPECS });
  return transforms;
}

/** Files a kustomization reads for other purposes than resources (so they are not indexed as resources). */
function auxiliaryPathsOf(dir: string, value: Json): string[] {
  const references: string[] = [];
  for (const entry of Array.isArray(value.patchesStrategicMerge) ? value.patchesStrategicMerge : []) {
    if (typeof entry === "string" && !entry.includes("\n")) references.push(entry);
  }
  for (const key of ["patches", "patchesJson6902", "replacements"]) {
    for (const entry of Array.isArray(value[key]) ? value[key] : []) {
      const path = asRecord(entry)?.path;
      if (typeof path === "string") references.push(path);
    }
  }
  for (const key of ["configurations", "crds", "transformers", "generators", "validators"]) {
    references.push(...strings(value[key]).filter((entry) => !entry.includes("\n")));
  }
  for (const key of ["configMapGenerator", "secretGenerator"]) {
    for (const entry of Array.isArray(value[key]) ? value[key] : []) {
      const generator = asRecord(entry);
      for (const file of [...strings(generator?.files), ...strings(generator?.envs)]) {
        references.push(file.includes("=") ? file.slice(file.indexOf("=") + 1) : file);
      }
      if (typeof generator?.env === "string") references.push(generator.env);
    }
  }
  const openapi = asRecord(value.openapi)?.path;
  if (typeof openapi === "string") references.push(openapi);
  return references.flatMap((reference) => {
    const path = isRemote(reference) ? undefined : joinPath(dir, reference);
    return path === undefined ? [] : [path];
  });
}

/** What patches, replacements and transformers may change, as far as their targets or patch files tell. */
function unappliedTargetsOf(
  dir: string,
  value: Json,
  fileAt: (path: string) => ParsedFile | undefined,
): UnappliedTarget[] {
  const targets: UnappliedTarget[] = [];
  const withPaths = (content: unknown): { paths?: readonly ObjectPath[] } => {
    const paths = content === undefined ? undefined : changedPaths(content);
    return paths === undefined ? {} : { paths };
  };
  const fileOf = (reference: string) => {
    const path = isRemote(reference) ? undefined : joinPath(dir, reference);
    return path === undefined ? undefined : fileAt(path);
  };
  // A patch's content: inline (text, or a JSON patch's operations), or the file it names.
  const contentOf = (entry: Record<string, unknown> | undefined): unknown => {
    if (Array.isArray(entry?.patch)) return entry.patch;
    if (typeof entry?.patch === "string") return readPatchYaml(entry.patch);
    const text = typeof entry?.path === "string" ? fileOf(entry.path)?.text : undefined;
    return text === undefined ? undefined : readPatchYaml(text);
  };
  const fromFile = (field: string, reference: string) => {
    const file = fileOf(reference);
    if (!file || file.manifests.length === 0) targets.push({ field });
    else {
      for (const m of file.manifests) {
        targets.push({ field, kind: m.kind, ...(m.name ? { name: m.name } : {}), ...withPaths(m.value) });
      }
    }
  };
  const fromTarget = (field: string, raw: unknown, content: () => unknown): boolean => {
    const target = asRecord(raw);
    if (!target) return false;
    targets.push({
      field,
      ...(typeof target.kind === "string" ? { kind: target.kind } : {}),
      ...(typeof target.name === "string" ? { name: target.name } : {}),
      ...withPaths(content()),
    });
    return true;
  };
  for (const entry of Array.isArray(value.patchesStrategicMerge) ? value.patchesStrategicMerge : []) {
    if (typeof entry === "string" && !entry.includes("\n")) fromFile("patchesStrategicMerge", entry);
    else targets.push({ field: "patchesStrategicMerge" });
  }
  for (const raw of Array.isArray(value.patches) ? value.patches : []) {
    const entry = asRecord(raw);
    if (fromTarget("patches", entry?.target, () => contentOf(entry))) continue;
    if (typeof entry?.path === "string") fromFile("patches", entry.path);
    else targets.push({ field: "patches" });
  }
  for (const raw of Array.isArray(value.patchesJson6902) ? value.patchesJson6902 : []) {
    const entry = asRecord(raw);
    if (!fromTarget("patchesJson6902", entry?.target, () => contentOf(entry)))
      targets.push({ field: "patchesJson6902" });
  }
  for (const field of ["replacements", "transformers"]) {
    if (Array.isArray(value[field]) && value[field].length > 0) targets.push({ field });
  }
  return targets;
}

function nameMatches(pattern: string, name: string | undefined): boolean {
  if (name === undefined) return true;
  return namePatternMatches(pattern, name) ?? true;
}

/**
 * The unapplied fields (as "kustomization: field") that may change this rendering of a manifest: a patch whose target
 * kind and name could be it, given its name at that layer (inner prefixes applied, as kustomize patches before it
 * renames).
 */
export function unappliedChanges(rendering: KustomizeRendering, manifest: Manifest): string[] {
  // postBuild changes only what still holds `${…}` once the substitutions this engine knows are applied. Looked for
  // only when a postBuild is on the way: this runs for every rendering of every manifest.
  let holdsVariables: boolean | undefined;
  return unappliedTargetsOn(
    rendering.layers,
    manifest,
    (target) => target.field !== "postBuild" || (holdsVariables ??= JSON.stringify(rendering.value).includes("${")),
  );
}

/** The `kustomization: field` of the unapplied fields on a manifest's way whose targets may select it. */
function unappliedTargetsOn(
  layers: readonly KustomizeLayer[],
  manifest: Manifest,
  counts: (target: UnappliedTarget) => boolean,
): string[] {
  return [
    ...new Set(matchingTargets(layers, manifest, counts).map(({ layer, target }) => `${layer}: ${target.field}`)),
  ];
}

/** The unapplied fields on a manifest's way whose targets (kind, name as the way renames it) may select it. */
function matchingTargets(
  layers: readonly KustomizeLayer[],
  manifest: Manifest,
  counts: (target: UnappliedTarget) => boolean,
): Array<{ layer: string; target: UnappliedTarget }> {
  const found: Array<{ layer: string; target: UnappliedTarget }> = [];
  let name = manifest.name;
  const group = groupVersion(manifest.apiVersion).group;
  for (const layer of layers) {
    for (const target of layer.unappliedTargets) {
      if (!counts(target)) continue;
      const kindMatches = target.kind === undefined || target.kind === manifest.kind;
      if (kindMatches && (target.name === undefined || nameMatches(target.name, name))) {
        found.push({ layer: layer.kustomization, target });
      }
    }
    if (name !== undefined && !keepsName(group, manifest.kind)) name = `${layer.namePrefix}${name}${layer.nameSuffix}`;
  }
  return found;
}

/**
 * The first document's value when the parse already made it a manifest: the same error-free, alias-bounded toJS, so
 * the document is not composed again. Kustomizations without apiVersion/kind are read from their document.
 */
function rootValueOfFirstDocument(file: ParsedFile): unknown {
  const manifest = file.manifests[0];
  return manifest?.documentIndex === 0 && manifest.path.length === 0 ? manifest.value : undefined;
}

function readKustomization(
  file: ParsedFile,
  notes: KustomizeNote[],
  fileAt: (path: string) => ParsedFile | undefined,
): Kustomization | undefined {
  let raw: unknown = rootValueOfFirstDocument(file);
  if (raw === undefined) {
    const document = file.documents[0];
    if (file.skipped !== undefined || file.templated || !document || document.errors.length > 0) {
      notes.push({ file: file.path, message: "kustomization not read (invalid, templated or skipped): ignored" });
      return undefined;
    }
    try {
      raw = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch {
      notes.push({ file: file.path, message: "kustomization not read (too many aliases): ignored" });
      return undefined;
    }
  }
  const value = asRecord(raw) ?? {};
  const dir = dirname(file.path);
  const unapplied = UNAPPLIED_FIELDS.filter((key) => {
    const field = value[key];
    return Array.isArray(field) ? field.length > 0 : field !== undefined && field !== null;
  });
  const namespace = typeof value.namespace === "string" && value.namespace !== "" ? value.namespace : undefined;
  return {
    path: file.path,
    dir,
    component: value.kind === "Component",
    resources: [...strings(value.resources), ...strings(value.bases)],
    components: strings(value.components),
    auxiliary: auxiliaryPathsOf(dir, value),
    charts: Array.isArray(value.helmCharts) && value.helmCharts.length > 0,
    layer: {
      kustomization: file.path,
      namespace,
      namePrefix: typeof value.namePrefix === "string" ? value.namePrefix : "",
      nameSuffix: typeof value.nameSuffix === "string" ? value.nameSuffix : "",
      labels: labelTransformsOf(value),
      unapplied,
      unappliedTargets: unappliedTargetsOf(dir, value, fileAt),
      generatedSources: generatedSourcesOf(value, (reference) => {
        const path = isRemote(reference) ? undefined : joinPath(dir, reference);
        return path === undefined ? undefined : fileAt(path)?.text;
      }),
      postBuildPatches: postBuildPatchesOf(
        value,
        (reference) => {
          const path = isRemote(reference) ? undefined : joinPath(dir, reference);
          return path === undefined ? undefined : fileAt(path)?.text;
        },
        (why) => notes.push({ file: file.path, message: why }),
      ),
    },
  };
}

// ---- applying a layer to a manifest's value ----

/**
 * Containers of one rendering copied so far. A rendering copies only what its layers write to (the root, metadata,
 * the paths of the label field specs) and shares the rest with the manifest's value: nothing writes to a rendering
 * once made (the index reads the values of manifests no kustomization includes as they are, too), and copying whole
 * manifests for every rendering cost a large repository's scan more than rendering them did.
 */
type Copied = Set<object>;

/** A copy of one plain object or array, its items shared ("__proto__" stays an own key, as in the parse's values). */
function shallowCopy(value: object): object {
  if (Array.isArray(value)) return value.slice();
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) setOwnField(out, key, item);
  return out;
}

/** `parent[key]`, copied into `parent` first when it is an object or array of the manifest's value (with `copied`). */
function ownChild(parent: Mutable | unknown[], key: string | number, copied: Copied | undefined): unknown {
  const child = ownField(parent, key);
  if (copied === undefined || child === null || typeof child !== "object" || copied.has(child)) return child;
  const copy = shallowCopy(child);
  copied.add(copy);
  setOwnField(parent, key, copy);
  return copy;
}

/** A rendering's value: the manifest's value with the layers applied, copied where they write (see Copied). */
function layered(value: Mutable, layers: readonly KustomizeLayer[]): Mutable {
  const copied: Copied = new Set();
  const root = shallowCopy(value) as Mutable;
  copied.add(root);
  for (const layer of layers) applyLayer(root, layer, copied);
  return root;
}

function groupVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash === -1
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

type Mutable = Record<string, unknown>;

/** Sets labels at a field spec's path; with `copied`, `node` is a copy and what is written below it is copied first. */
function setLabelsAt(
  node: unknown,
  segments: readonly string[],
  pairs: Labels,
  create: boolean,
  copied: Copied | undefined,
): void {
  if (!isRecord(node)) return;
  const [head, ...rest] = segments;
  if (head === undefined) {
    Object.assign(node, pairs);
    return;
  }
  if (head.endsWith("[]")) {
    const key = head.slice(0, -2);
    if (!Array.isArray(ownField(node, key))) return;
    const list = ownChild(node, key, copied) as unknown[];
    for (let i = 0; i < list.length; i++) {
      if (isRecord(list[i])) setLabelsAt(ownChild(list, i, copied), rest, pairs, create, copied);
    }
    return;
  }
  if (!isRecord(ownField(node, head))) {
    if (!create) return;
    const created = {};
    copied?.add(created);
    setOwnField(node, head, created);
  }
  setLabelsAt(ownChild(node, head, copied), rest, pairs, create, copied);
}

function matches(spec: FieldSpec, group: string, version: string, kind: string): boolean {
  return (
    (spec.group === undefined || spec.group === group) &&
    (spec.version === undefined || spec.version === version) &&
    (spec.kind === undefined || spec.kind === kind)
  );
}

/**
 * Applies one kustomization's namespace, name prefix/suffix and labels to a (cloned, mutable) manifest value; with
 * `copied`, to a rendering's copy that shares what is not written with the manifest's value (see Copied).
 */
export function applyLayer(value: Mutable, layer: KustomizeLayer, copied?: Copied): void {
  const { group, version } = groupVersion(typeof value.apiVersion === "string" ? value.apiVersion : "");
  const kind = typeof value.kind === "string" ? value.kind : "";
  if (!isRecord(value.metadata)) {
    const created = {};
    copied?.add(created);
    value.metadata = created;
  }
  const metadata = ownChild(value, "metadata", copied) as Mutable;
  if (layer.namespace !== undefined) {
    // kustomize moves namespaced resources, and renames a Namespace object to the kustomization's namespace.
    if (kind === "Namespace" && group === "") metadata.name = layer.namespace;
    else if (!CLUSTER_SCOPED_KINDS.has(kind)) metadata.namespace = layer.namespace;
  }
  if (
    layer.defaultNamespace !== undefined &&
    (typeof metadata.namespace !== "string" || metadata.namespace === "") &&
    !CLUSTER_SCOPED_KINDS.has(kind) &&
    !CLUSTERWIDE_POLICY_KINDS.has(kind)
  ) {
    metadata.namespace = layer.defaultNamespace;
  }
  if ((layer.namePrefix !== "" || layer.nameSuffix !== "") && !keepsName(group, kind)) {
    if (typeof metadata.name === "string") metadata.name = `${layer.namePrefix}${metadata.name}${layer.nameSuffix}`;
  }
  for (const transform of layer.labels) {
    // One write per distinct path, as kustomize merges field specs before applying them.
    const seen = new Set<string>();
    for (const spec of transform.fieldSpecs) {
      if (!matches(spec, group, version, kind) || seen.has(spec.path)) continue;
      seen.add(spec.path);
      setLabelsAt(value, spec.path.split("/"), transform.pairs, spec.create, copied);
    }
  }
}

// ---- Flux Kustomizations (kustomize.toolkit.fluxcd.io): top-level kustomizations of their own ----

const FLUX_GROUP = "kustomize.toolkit.fluxcd.io";

/**
 * A Flux Kustomization builds `spec.path` (of its source, assumed to be this repository when the path exists here):
 * its kustomization, or one Flux generates from every manifest below it (subdirectories holding a kustomization are
 * included as such), then sets `spec.targetNamespace` as that kustomization's namespace and `spec.commonMetadata`
 * labels on every object's metadata. It is modelled as one more, outermost, kustomization.
 */
function fluxKustomizations(
  files: readonly ParsedFile[],
  kustomizationOfDir: ReadonlyMap<string, Kustomization>,
  notes: KustomizeNote[],
): Kustomization[] {
  const result: Kustomization[] = [];
  for (const file of files) {
    for (const manifest of file.manifests) {
      if (manifest.kind !== "Kustomization" || groupVersion(manifest.apiVersion).group !== FLUX_GROUP) continue;
      const spec = asRecord(manifest.value.spec) ?? {};
      const id = `${file.path}#${manifest.namespace ?? ""}/${manifest.name ?? ""}`;
      const sourceKind = asRecord(spec.sourceRef)?.kind;
      if (sourceKind !== undefined && sourceKind !== "GitRepository") continue;
      const dir = joinPath("", typeof spec.path === "string" ? spec.path : "");
      const inside = (path: string) => dir === "" || path.startsWith(`${dir}/`);
      if (dir === undefined || !files.some((candidate) => inside(candidate.path))) {
        notes.push({
          file: file.path,
          message: `Flux Kustomization ${manifest.name ?? "?"}: path not in this repository: ignored`,
        });
        continue;
      }
      let resources: string[];
      if (kustomizationOfDir.has(dir)) resources = ["."];
      else {
        const found = new Set<string>();
        for (const candidate of files) {
          if (!inside(candidate.path) || candidate.manifests.length === 0 || isKustomizationPath(candidate.path))
            continue;
          const relative = dir === "" ? candidate.path : candidate.path.slice(dir.length + 1);
          // The shallowest subdirectory holding a kustomization stands for everything below it.
          const segments = relative.split("/");
          let reference = relative;
          for (let depth = 1; depth < segments.length; depth++) {
            const sub = segments.slice(0, depth).join("/");
            if (kustomizationOfDir.has(dir === "" ? sub : `${dir}/${sub}`)) {
              reference = sub;
              break;
            }
          }
          found.add(reference);
        }
        resources = [...found].sort();
      }
      const targetNamespace =
        typeof spec.targetNamespace === "string" && spec.targetNamespace !== "" ? spec.targetNamespace : undefined;
      const commonLabels = labelPairs(asRecord(spec.commonMetadata)?.labels);
      const unapplied = ["patches", "patchesStrategicMerge", "patchesJson6902", "postBuild"].filter((key) => {
        const field = spec[key];
        return Array.isArray(field) ? field.length > 0 : field !== undefined && field !== null;
      });
      const postBuildPatches = postBuildPatchesOf(
        spec,
        () => undefined,
        (why) => notes.push({ file: file.path, message: why }),
      );
      // Said at the Flux Kustomization: what it does not apply, its postBuild aside (applied) and its patches when
      // every one of them is a patch setting postBuild on the Flux Kustomizations it applies (applied too).
      const patchFields = ["patches", "patchesStrategicMerge", "patchesJson6902"];
      const patchCount = patchFields.reduce((sum, key) => sum + (Array.isArray(spec[key]) ? spec[key].length : 0), 0);
      const said = unapplied.filter(
        (key) => key !== "postBuild" && !(patchFields.includes(key) && patchCount <= postBuildPatches.length),
      );
      result.push({
        path: id,
        dir,
        component: false,
        object: { file: file.path, name: `Flux Kustomization ${manifest.name ?? "?"}`, said },
        resources,
        components: strings(spec.components),
        auxiliary: [],
        layer: {
          kustomization: id,
          namespace: targetNamespace,
          namePrefix: typeof spec.namePrefix === "string" ? spec.namePrefix : "",
          nameSuffix: typeof spec.nameSuffix === "string" ? spec.nameSuffix : "",
          labels: Object.keys(commonLabels).length > 0 ? [{ pairs: commonLabels, fieldSpecs: PLAIN_LABELS }] : [],
          unapplied,
          unappliedTargets: [
            ...unappliedTargetsOf(dir, spec, () => undefined),
            ...(unapplied.includes("postBuild") ? [{ field: "postBuild" }] : []),
          ],
          flux: { manifest, postBuild: readPostBuild(spec.postBuild) },
          // Flux adds its own patches to the kustomization it builds: they reach the Flux Kustomizations it applies.
          postBuildPatches,
        },
      });
    }
  }
  return result;
}

// ---- the view ----

interface Entry {
  readonly manifest: Manifest;
  readonly layers: readonly KustomizeLayer[];
}

export function renderKustomizations(files: readonly ParsedFile[]): KustomizeView {
  const notes: KustomizeNote[] = [];
  const byPath = new Map(files.map((file) => [file.path, file]));
  // The repository's directories, found when first asked (a reference to a directory without a kustomization, an
  // ApplicationSet's git directories).
  let directoryList: readonly string[] | undefined;
  const allDirectories = () => (directoryList ??= repositoryDirectories(files.map((file) => file.path)));
  let directorySet: ReadonlySet<string> | undefined;
  const isDirectory = (path: string) => (directorySet ??= new Set(allDirectories())).has(path);
  const kustomizations = new Map<string, Kustomization>();
  const kustomizationOfDir = new Map<string, Kustomization>();
  const kustomizationFiles = files.filter((file) => isKustomizationPath(file.path));
  for (const name of KUSTOMIZATION_FILE_NAMES) {
    for (const file of kustomizationFiles) {
      if (basename(file.path) !== name) continue;
      const dir = dirname(file.path);
      if (kustomizationOfDir.has(dir)) {
        notes.push({ file: file.path, message: "more than one kustomization file in this directory: ignored" });
        continue;
      }
      const kustomization = readKustomization(file, notes, (path) => byPath.get(path));
      if (!kustomization) continue;
      kustomizations.set(file.path, kustomization);
      kustomizationOfDir.set(dir, kustomization);
    }
  }

  for (const flux of fluxKustomizations(files, kustomizationOfDir, notes)) kustomizations.set(flux.path, flux);
  for (const argo of argoDirectoryApplications(files, kustomizationOfDir, allDirectories)) {
    kustomizations.set(argo.path, argo);
  }

  const nonResourceFiles = new Set<string>();
  for (const kustomization of kustomizations.values()) {
    nonResourceFiles.add(kustomization.path);
    for (const path of kustomization.auxiliary) nonResourceFiles.add(path);
  }

  const referencedFiles = new Set<string>(nonResourceFiles);
  type Target = { file: ParsedFile } | { kustomization: Kustomization };
  const resolveReference = (from: Kustomization, reference: string): Target | undefined => {
    if (isRemote(reference)) {
      notes.push({ file: from.path, message: `remote resource ${reference} not fetched: ignored` });
      return undefined;
    }
    const path = joinPath(from.dir, reference);
    const file = path === undefined ? undefined : byPath.get(path);
    if (path !== undefined && file) referencedFiles.add(path);
    if (file) return { file };
    const kustomization = path === undefined ? undefined : kustomizationOfDir.get(path);
    if (kustomization) return { kustomization };
    const what = path !== undefined && isDirectory(path) ? "a directory without a kustomization" : "not found";
    notes.push({ file: from.path, message: `${reference}: ${what}: ignored` });
    return undefined;
  };

  const referenced = new Set<string>();
  for (const kustomization of kustomizations.values()) {
    for (const reference of [...kustomization.resources, ...kustomization.components]) {
      if (isRemote(reference)) continue;
      const path = joinPath(kustomization.dir, reference);
      const target = path === undefined ? undefined : kustomizationOfDir.get(path);
      if (target) referenced.add(target.path);
    }
  }

  // Stands for a kustomization's chart output in the inclusions: it collects the layers that output receives.
  const chartOutputs = new Map<string, Manifest>();
  const chartOutputOf = (kustomization: Kustomization): Manifest => {
    let output = chartOutputs.get(kustomization.path);
    if (!output) {
      const location = { file: kustomization.path, line: 1, column: 1 };
      output = {
        file: kustomization.path,
        documentIndex: -1,
        apiVersion: "",
        kind: "",
        path: [],
        location,
      } as unknown as Manifest;
      chartOutputs.set(kustomization.path, output);
    }
    return output;
  };
  const reached = new Set<string>();
  const build = (kustomization: Kustomization, base: readonly Entry[], stack: readonly string[]): Entry[] => {
    if (stack.includes(kustomization.path)) {
      const from = stack[stack.length - 1] ?? kustomization.path;
      notes.push({ file: from, message: `cycle: ${[...stack, kustomization.path].join(" → ")}` });
      return [...base];
    }
    reached.add(kustomization.path);
    const inner = [...stack, kustomization.path];
    let entries: Entry[] = [...base];
    for (const reference of kustomization.resources) {
      const target = resolveReference(kustomization, reference);
      if (!target) continue;
      if ("file" in target) {
        for (const manifest of target.file.manifests) entries.push({ manifest, layers: [] });
      } else if (target.kustomization.component) {
        notes.push({ file: kustomization.path, message: `${reference} is a Component listed as a resource: ignored` });
      } else {
        entries.push(...build(target.kustomization, [], inner));
      }
    }
    if (kustomization.charts) entries.push({ manifest: chartOutputOf(kustomization), layers: [] });
    for (const reference of kustomization.components) {
      const target = resolveReference(kustomization, reference);
      if (!target) continue;
      if ("file" in target) {
        notes.push({ file: kustomization.path, message: `component ${reference} is a file, not a directory: ignored` });
        continue;
      }
      entries = build(target.kustomization, entries, inner);
    }
    return entries.map((entry) => ({ manifest: entry.manifest, layers: [...entry.layers, kustomization.layer] }));
  };

  // Which top-level kustomizations include a manifest, and through which layers; values are rendered when asked.
  const inclusions = new Map<Manifest, Array<{ root: string; layers: readonly KustomizeLayer[] }>>();
  const roots = [...kustomizations.values()]
    .filter((kustomization) => !referenced.has(kustomization.path) && !kustomization.component)
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const root of roots) {
    const seen = new Set<Manifest>();
    for (const { manifest, layers } of build(root, [], [])) {
      if (seen.has(manifest)) continue;
      seen.add(manifest);
      const list = inclusions.get(manifest);
      if (list) list.push({ root: root.path, layers });
      else inclusions.set(manifest, [{ root: root.path, layers }]);
    }
  }
  // A Cilium policy that a field not applied here may change in every rendering: its findings are about text the
  // cluster may never receive. (postBuild is applied; the policy view leaves unknown variables unchecked itself.)
  for (const [manifest, ways] of inclusions) {
    if (!isPolicyManifest(manifest)) continue;
    const changes = ways.map(({ layers }) =>
      matchingTargets(layers, manifest, (target) => target.field !== "postBuild"),
    );
    if (changes.some((matches) => matches.length === 0)) continue;
    const fields = [...new Set(changes.flat().map(({ layer, target }) => `${layer}: ${target.field}`))].sort();
    notes.push({
      file: manifest.file,
      message: `${fields.join(", ")}, not applied by this scan, may change ${manifest.kind} ${manifest.name ?? "?"}`,
      mayChange: manifest,
      changedPaths: changes.map((matches) =>
        matches.some(({ target }) => target.paths === undefined)
          ? undefined
          : matches.flatMap(({ target }) => target.paths ?? []),
      ),
    });
  }
  const substitutionOfFlux = fluxSubstitutions(files, inclusions, [...kustomizations.values()]);
  const render = (manifest: Manifest, root: string, layers: readonly KustomizeLayer[]): KustomizeRendering => {
    let value = layered(manifest.value as Mutable, layers);
    const flux = layers[layers.length - 1]?.flux;
    const substitution = flux && !substitutionDisabled(value) ? substitutionOfFlux(flux) : undefined;
    if (substitution) value = substituteValue(value, substitution) as Mutable;
    const metadata = asRecord(value.metadata) ?? {};
    return {
      root,
      layers,
      value,
      name: typeof metadata.name === "string" ? metadata.name : undefined,
      namespace: typeof metadata.namespace === "string" ? metadata.namespace : undefined,
      ...(substitution ? { substitution } : {}),
    };
  };
  // A policy in a kustomization's patch (or other input) file: kustomize merges it into what it targets, the cluster
  // never receives it as written (a partial policy, without the fields its target has, is no error of its own).
  for (const kustomization of kustomizations.values()) {
    for (const path of kustomization.auxiliary) {
      for (const manifest of byPath.get(path)?.manifests ?? []) {
        if (!isPolicyManifest(manifest) || inclusions.has(manifest)) continue;
        notes.push({
          file: path,
          message: `this file is a patch or input of ${kustomization.path}, merged into what it targets rather than applied as written`,
          mayChange: manifest,
          partial: true,
        });
      }
    }
  }
  // A policy file beside a kustomization that does not list it (nor does any other): kustomize and Flux do not
  // apply it, whatever its text says.
  for (const file of files) {
    if (referencedFiles.has(file.path) || !kustomizationOfDir.has(dirname(file.path))) continue;
    for (const manifest of file.manifests) {
      if (!isPolicyManifest(manifest) || inclusions.has(manifest)) continue;
      notes.push({
        file: file.path,
        message: `no kustomization includes this file, though ${kustomizationOfDir.get(dirname(file.path))!.path} lists the resources of its directory`,
        mayChange: manifest,
      });
    }
  }
  for (const kustomization of kustomizations.values()) {
    if (!reached.has(kustomization.path)) {
      notes.push({
        file: kustomization.path,
        message: kustomization.component
          ? "Component no kustomization uses: its resources are read as written"
          : "not reachable from a top-level kustomization (cycle): its resources are read as written",
      });
    }
    const { object } = kustomization;
    const unapplied = object?.said ?? kustomization.layer.unapplied;
    if (unapplied.length > 0) {
      notes.push({
        file: object?.file ?? kustomization.path,
        message: `${object ? `${object.name}: ` : ""}not applied here: ${unapplied.join(", ")}`,
      });
    }
  }

  return {
    kustomizations: [...kustomizations.keys()].sort(),
    renderingsOf: (manifest) =>
      (inclusions.get(manifest) ?? []).map(({ root, layers }) => render(manifest, root, layers)),
    nonResourceFiles,
    referencedFiles,
    notes,
    directories: allDirectories,
    chartLayersOf: (kustomization) => {
      const output = chartOutputs.get(kustomization);
      return output === undefined ? [] : (inclusions.get(output) ?? []).map(({ root, layers }) => ({ root, layers }));
    },
  };
}

// ---- Argo CD Applications of a directory (argoproj.io): top-level kustomizations of their own ----

const ARGO_GROUP = "argoproj.io";

/**
 * At most this many Argo CD directory sources are modelled: each is a top-level kustomization over its files, and a
 * pull request's Applications are untrusted (thousands of recursive ones would multiply every file's renderings).
 */
export const MAX_ARGO_DIRECTORY_SOURCES = 512;

/** A non-empty string, else undefined. */
function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * An Argo CD Application (or one an ApplicationSet's generators make) whose source is a `path` of this repository:
 * Argo CD builds the kustomization there (with the source's `kustomize.namespace`, `namePrefix`, `nameSuffix`,
 * `commonLabels` and `components`; its `patches` are not applied, their targets flagged as a kustomization's), or
 * applies the manifests of the directory (below it too with `directory.recurse`), or renders the chart there (the
 * templates without template actions are applied as written), and puts every namespaced resource that names no
 * namespace in `destination.namespace`.
 * Modelled as one more, outermost, kustomization whose namespace is only a default. A source whose repository is
 * another one is told apart only by its path not being here; `directory.include`/`exclude`, Jsonnet and plugins are
 * not modelled (such a source is left out, its files read as written).
 */
function argoDirectoryApplications(
  files: readonly ParsedFile[],
  kustomizationOfDir: ReadonlyMap<string, Kustomization>,
  directories: () => readonly string[],
): Kustomization[] {
  // Most repositories hold no Argo CD object: nothing below is worth building for them.
  const argoFiles = files.filter((file) =>
    file.manifests.some((manifest) => groupVersion(manifest.apiVersion).group === ARGO_GROUP),
  );
  if (argoFiles.length === 0) return [];
  const byPath = new Map(files.map((file) => [file.path, file]));
  const chartDirs = new Set(files.filter((file) => basename(file.path) === "Chart.yaml").map((f) => dirname(f.path)));
  // The manifest files of each directory, found once: a repository may hold many Applications.
  const manifestFilesOfDir = new Map<string, ParsedFile[]>();
  for (const file of files) {
    if (file.manifests.length === 0 || isKustomizationPath(file.path)) continue;
    const list = manifestFilesOfDir.get(dirname(file.path));
    if (list) list.push(file);
    else manifestFilesOfDir.set(dirname(file.path), [file]);
  }
  const result: Kustomization[] = [];
  for (const file of argoFiles) {
    for (const manifest of file.manifests) {
      if (groupVersion(manifest.apiVersion).group !== ARGO_GROUP) continue;
      const applications =
        manifest.kind === "Application"
          ? [manifest.value]
          : manifest.kind === "ApplicationSet"
            ? applicationsOfSet(manifest.value, directories())
            : [];
      for (const [index, application] of applications.entries()) {
        const spec = asRecord(application.spec) ?? {};
        const destination = nonEmpty(asRecord(spec.destination)?.namespace);
        const sources = Array.isArray(spec.sources) ? spec.sources : [spec.source];
        for (const [position, raw] of sources.entries()) {
          const source = asRecord(raw);
          const path = nonEmpty(source?.path);
          if (!source || path === undefined || source.chart !== undefined || source.plugin !== undefined) continue;
          const directory = asRecord(source.directory);
          if (directory && (directory.include !== undefined || directory.exclude !== undefined || directory.jsonnet))
            continue;
          const dir = joinPath("", path);
          if (dir === undefined) continue;
          const chart = chartDirs.has(dir);
          // A chart of the repository: helm renders it (render/chart-releases.ts); its templates without template
          // actions are what the cluster receives as written, in the release's namespace when they name none.
          if (chart && destination === undefined) continue;
          const root = chart ? (dir === "" ? "templates" : `${dir}/templates`) : dir;
          const within = (of: string, top: string) => top === "" || of === top || of.startsWith(`${top}/`);
          const below =
            chart || directory?.recurse === true
              ? [...manifestFilesOfDir].flatMap(([of, list]) =>
                  within(of, root) && !(chart && within(of, `${root}/tests`)) ? list : [],
                )
              : (manifestFilesOfDir.get(dir) ?? []);
          const resources =
            !chart && kustomizationOfDir.has(dir)
              ? ["."]
              : below.map((candidate) => (dir === "" ? candidate.path : candidate.path.slice(dir.length + 1))).sort();
          if (resources.length === 0) continue;
          if (result.length >= MAX_ARGO_DIRECTORY_SOURCES) return result;
          const kustomize = !chart && kustomizationOfDir.has(dir) ? asRecord(source.kustomize) : undefined;
          const commonLabels = labelPairs(kustomize?.commonLabels);
          // The source's patches are kustomize's (a target, inline content): what their content says they change is
          // read as for a kustomization's; its components are a kustomization's components.
          const patchTargets = (kustomize ? unappliedTargetsOf(dir, kustomize, (at) => byPath.get(at)) : []).map(
            (target) => ({ ...target, field: `kustomize.${target.field}` }),
          );
          const unapplied = [...new Set(patchTargets.map((target) => target.field))];
          const name = nonEmpty(asRecord(application.metadata)?.name) ?? "?";
          result.push({
            path: `${file.path}#${manifest.kind}/${manifest.name ?? "?"}/${index}/${name}/${position}`,
            dir,
            component: false,
            object: { file: file.path, name: `${manifest.kind} ${name}` },
            resources,
            components: strings(kustomize?.components),
            auxiliary: [],
            layer: {
              kustomization: file.path,
              namespace: nonEmpty(kustomize?.namespace),
              ...(destination !== undefined ? { defaultNamespace: destination } : {}),
              namePrefix: nonEmpty(kustomize?.namePrefix) ?? "",
              nameSuffix: nonEmpty(kustomize?.nameSuffix) ?? "",
              labels:
                Object.keys(commonLabels).length > 0
                  ? [{ pairs: commonLabels, fieldSpecs: COMMON_LABELS_FIELD_SPECS }]
                  : [],
              unapplied,
              unappliedTargets: patchTargets,
            },
          });
        }
      }
    }
  }
  return result;
}

// ---- Flux post-build substitution (render/flux-substitution.ts) ----

/** `kustomize.toolkit.fluxcd.io/substitute: disabled` as a label or an annotation of the rendered resource. */
function substitutionDisabled(value: Json): boolean {
  const metadata = asRecord(value.metadata);
  return (
    asRecord(metadata?.labels)?.[SUBSTITUTE_KEY] === "disabled" ||
    asRecord(metadata?.annotations)?.[SUBSTITUTE_KEY] === "disabled"
  );
}

/**
 * What a Flux Kustomization substitutes: its own postBuild with the postBuild patches of the kustomizations that
 * include its manifest, over ConfigMaps and Secrets of the repository in its namespace. Undefined when it has no
 * variable at all (Flux then substitutes nothing). Computed once per Flux Kustomization.
 */
function fluxSubstitutions(
  files: readonly ParsedFile[],
  inclusions: ReadonlyMap<Manifest, ReadonlyArray<{ root: string; layers: readonly KustomizeLayer[] }>>,
  kustomizations: readonly Kustomization[],
): (flux: NonNullable<KustomizeLayer["flux"]>) => Substitution | undefined {
  const generated = kustomizations.flatMap((kustomization) => kustomization.layer.generatedSources ?? []);
  const sources = new Map<string, Manifest[]>();
  for (const file of files) {
    for (const manifest of file.manifests) {
      if ((manifest.kind !== "ConfigMap" && manifest.kind !== "Secret") || manifest.apiVersion !== "v1") continue;
      const key = `${manifest.kind}/${manifest.name ?? ""}`;
      const list = sources.get(key);
      if (list) list.push(manifest);
      else sources.set(key, [manifest]);
    }
  }
  const namespaceOf = (manifest: Manifest): string | undefined => {
    const layers = inclusions.get(manifest)?.[0]?.layers ?? [];
    let namespace = manifest.namespace;
    for (const layer of layers) namespace = layer.namespace ?? namespace ?? layer.defaultNamespace;
    return namespace;
  };
  const memo = new Map<Manifest, Substitution | undefined>();
  const compute = (flux: NonNullable<KustomizeLayer["flux"]>): Substitution | undefined => {
    if (memo.has(flux.manifest)) return memo.get(flux.manifest);
    const namespace = namespaceOf(flux.manifest);
    const lookup = (reference: SubstituteReference): VariableSource | undefined => {
      const candidates = sources.get(`${reference.kind}/${reference.name}`) ?? [];
      const found = candidates.find((candidate) => {
        const own = namespaceOf(candidate);
        return own === undefined || namespace === undefined || own === namespace;
      });
      if (found) return variableSourceOf(reference.kind, found.value);
      return generated.find(
        (source) =>
          source.kind === reference.kind &&
          source.name === reference.name &&
          (source.namespace === undefined || namespace === undefined || source.namespace === namespace),
      )?.source;
    };
    const id = `${flux.manifest.file}#${flux.manifest.namespace ?? ""}/${flux.manifest.name ?? ""}`;
    // One postBuild per way its manifest is included (each with the patches on that way), or its own alone.
    const ways = inclusions.get(flux.manifest) ?? [{ root: "", layers: [] }];
    const substitutions: Substitution[] = [];
    // In progress: a Flux Kustomization applied (through others) by itself substitutes nothing into itself.
    memo.set(flux.manifest, undefined);
    const metadata = asRecord(flux.manifest.value.metadata);
    const annotations = labelPairs(metadata?.annotations);
    for (const { layers } of ways) {
      let postBuild = flux.postBuild;
      // The labels a layer's patches see: the manifest's own, with those of the layers inside it.
      let labels: Labels = labelPairs(metadata?.labels);
      for (const layer of layers) {
        for (const patch of layer.postBuildPatches ?? []) {
          if (!patchSelects(patch, flux.manifest.name, labels, annotations)) continue;
          postBuild = mergePostBuild(postBuild, patch.postBuild, patch.replaceSubstituteFrom);
        }
        for (const transform of layer.labels) labels = { ...labels, ...transform.pairs };
      }
      if (!postBuild) continue;
      // The Flux Kustomization that applies this one substitutes its variables into it too (its postBuild included).
      const parent = layers[layers.length - 1]?.flux;
      if (parent && parent.manifest !== flux.manifest && !substitutionDisabled(flux.manifest.value)) {
        const outer = memo.has(parent.manifest) ? memo.get(parent.manifest) : compute(parent);
        if (outer) postBuild = substitutePostBuild(postBuild, outer);
      }
      const substitution = substitutionOf(id, postBuild, lookup);
      if (substitution.values.size > 0 || substitution.unknownSources.length > 0) substitutions.push(substitution);
    }
    const combined = substitutions.length === ways.length ? combineSubstitutions(substitutions) : undefined;
    memo.set(flux.manifest, combined);
    return combined;
  };
  return compute;
}
