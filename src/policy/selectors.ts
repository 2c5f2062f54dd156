// Cilium label selectors over Kubernetes labels: source prefixes, the namespace key, and matching. Pure functions.
import type { LabelSelector, Labels } from "./types.js";

/** The pod label Cilium derives from a pod's namespace (written with or without the `k8s:` source). */
export const NAMESPACE_LABEL = "io.kubernetes.pod.namespace";
/** The namespace label as the rewrite writes it. */
export const NAMESPACE_KEY = `k8s:${NAMESPACE_LABEL}`;
/** Keys under this prefix select the labels of the pod's namespace, not of the pod. */
export const NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels.";
/** Cilium's own identity labels for pods (service account, cluster, …): not among a workload's pod labels. */
const CILIUM_POD_LABEL_PREFIX = "io.cilium.k8s.policy.";

/** Sources under which a selector key can match a Kubernetes pod's labels. */
const POD_SOURCES: ReadonlySet<string> = new Set(["k8s", "any"]);

export interface SelectorKey {
  /** The label source (`k8s`, `any`, `reserved`, …), undefined when the key has none (Cilium reads it as `any`). */
  readonly source: string | undefined;
  readonly key: string;
}

/** Splits `k8s:app` into source and key. Kubernetes label keys cannot contain ':', so the first one separates. */
export function parseSelectorKey(raw: string): SelectorKey {
  const colon = raw.indexOf(":");
  if (colon <= 0) return { source: undefined, key: raw };
  return { source: raw.slice(0, colon), key: raw.slice(colon + 1) };
}

/** Whether a selector key is the pod-namespace label (`k8s:io.kubernetes.pod.namespace`, `io.kubernetes.pod.namespace`). */
export function isNamespaceKey(raw: string): boolean {
  const { source, key } = parseSelectorKey(raw);
  return key === NAMESPACE_LABEL && (source === undefined || POD_SOURCES.has(source));
}

/** Whether a selector key constrains the namespace: the namespace label, or a namespace's own labels. */
export function constrainsNamespace(raw: string): boolean {
  const { source, key } = parseSelectorKey(raw);
  if (source !== undefined && !POD_SOURCES.has(source)) return false;
  return key === NAMESPACE_LABEL || key.startsWith(NAMESPACE_LABELS_PREFIX);
}

function selectorKeys(selector: LabelSelector): string[] {
  return [
    ...Object.keys(selector.matchLabels ?? {}),
    ...(selector.matchExpressions ?? []).map((expression) => expression.key),
  ];
}

/** Whether any requirement of the selector is about the namespace. */
export function hasNamespaceConstraint(selector: LabelSelector): boolean {
  return selectorKeys(selector).some(constrainsNamespace);
}

/** Whether the selector has no requirement at all (it selects every endpoint in its scope). */
export function isEmptySelector(selector: LabelSelector): boolean {
  return selectorKeys(selector).length === 0;
}

/**
 * Whether every requirement is about a pod's own Kubernetes labels, so that matching against a workload's pod
 * template labels gives Cilium's answer. Keys of other sources (`reserved:`, `cidr:`…) or Cilium-derived labels
 * (namespace labels, service account, cluster) make the answer unknowable from pod templates alone.
 */
export function isPodLabelSelector(selector: LabelSelector): boolean {
  return selectorKeys(selector).every((raw) => {
    const { source, key } = parseSelectorKey(raw);
    if (source !== undefined && !POD_SOURCES.has(source)) return false;
    return key !== NAMESPACE_LABEL && !isCiliumDerivedKey(raw);
  });
}

/**
 * Whether a key names a label Cilium derives for an endpoint rather than one of the pod's own: its namespace's labels,
 * its service account, its cluster's name. A pod template or another pod selector says nothing about them.
 */
export function isCiliumDerivedKey(raw: string): boolean {
  const { source, key } = parseSelectorKey(raw);
  if (source !== undefined && !POD_SOURCES.has(source)) return false;
  return key.startsWith(NAMESPACE_LABELS_PREFIX) || key.startsWith(CILIUM_POD_LABEL_PREFIX);
}

/** The namespaces a selector pins through the namespace label (matchLabels or an `In` expression), if any. */
export function selectorNamespaces(selector: LabelSelector): string[] | undefined {
  const found: string[][] = [];
  for (const [raw, value] of Object.entries(selector.matchLabels ?? {})) {
    if (isNamespaceKey(raw)) found.push([value]);
  }
  for (const expression of selector.matchExpressions ?? []) {
    if (isNamespaceKey(expression.key) && expression.operator === "In") found.push([...(expression.values ?? [])]);
  }
  if (found.length === 0) return undefined;
  // Several requirements on the namespace: a pod must satisfy all of them.
  return found.reduce((a, b) => a.filter((namespace) => b.includes(namespace)));
}

/**
 * Kubernetes label-selector semantics over `labels`, with Cilium's source prefixes understood: `k8s:app` and `app`
 * both match the label `app`. Keys of sources that are not pod labels never match. An unknown operator never matches.
 */
export function matchesLabels(selector: LabelSelector, labels: Labels): boolean {
  const valueOf = (raw: string): { known: boolean; value: string | undefined } => {
    const { source, key } = parseSelectorKey(raw);
    if (source !== undefined && !POD_SOURCES.has(source)) return { known: false, value: undefined };
    return { known: true, value: Object.hasOwn(labels, key) ? labels[key] : undefined };
  };
  for (const [raw, expected] of Object.entries(selector.matchLabels ?? {})) {
    const { known, value } = valueOf(raw);
    if (!known || value !== expected) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const { known, value } = valueOf(expression.key);
    if (!known) return false;
    const values = expression.values ?? [];
    switch (expression.operator) {
      case "In":
        if (value === undefined || !values.includes(value)) return false;
        break;
      case "NotIn":
        if (value !== undefined && values.includes(value)) return false;
        break;
      case "Exists":
        if (value === undefined) return false;
        break;
      case "DoesNotExist":
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Reads a LabelSelector out of plain data (parsed YAML), ignoring anything malformed. */
export function labelSelectorFrom(value: unknown): LabelSelector | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const raw = value as { matchLabels?: unknown; matchExpressions?: unknown };
  const matchLabels: Record<string, string> = {};
  if (raw.matchLabels !== null && typeof raw.matchLabels === "object" && !Array.isArray(raw.matchLabels)) {
    for (const [key, labelValue] of Object.entries(raw.matchLabels as Record<string, unknown>)) {
      if (labelValue === null || typeof labelValue === "object") continue;
      matchLabels[key] = String(labelValue);
    }
  }
  const matchExpressions: NonNullable<LabelSelector["matchExpressions"]>[number][] = [];
  if (Array.isArray(raw.matchExpressions)) {
    for (const item of raw.matchExpressions as unknown[]) {
      if (item === null || typeof item !== "object") continue;
      const { key, operator, values } = item as { key?: unknown; operator?: unknown; values?: unknown };
      if (typeof key !== "string" || typeof operator !== "string") continue;
      matchExpressions.push({
        key,
        operator,
        ...(Array.isArray(values) ? { values: values.filter((v) => v !== null).map(String) } : {}),
      });
    }
  }
  return { matchLabels, matchExpressions };
}

// One requirement each, trimmed; the key's class excludes whitespace, so no two parts compete for the same characters
// (linear time on any input).
const ABSENT = /^!\s*([^\s!=(),]+)$/;
const EQUALITY = /^([^\s!=(),]+)\s*(==?|!=)\s*([^\s!=(),]*)$/;
const SET = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/;
const EXISTS = /^[^\s!=(),]+$/;
/** Far above any real selector; a longer text is not read. */
const MAX_SELECTOR_TEXT = 16_384;

/**
 * A label selector written as text, as Kubernetes reads `-l` and kustomize a patch target's `labelSelector`:
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas. Undefined when it is not one.
 */
export function parseLabelSelectorText(text: string): LabelSelector | undefined {
  if (text.length > MAX_SELECTOR_TEXT) return undefined;
  const requirements: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === "(") depth++;
    else if (char === ")") depth--;
    else if (char === "," && depth === 0) {
      requirements.push(text.slice(start, index));
      start = index + 1;
    }
    if (depth < 0 || depth > 1) return undefined;
  }
  if (depth !== 0) return undefined;
  requirements.push(text.slice(start));
  if (requirements.length === 1 && requirements[0]!.trim() === "") return { matchLabels: {}, matchExpressions: [] };
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<LabelSelector["matchExpressions"]>[number][] = [];
  for (const raw of requirements) {
    const requirement = raw.trim();
    let match: RegExpExecArray | null;
    if ((match = ABSENT.exec(requirement))) {
      matchExpressions.push({ key: match[1]!, operator: "DoesNotExist" });
    } else if ((match = EQUALITY.exec(requirement))) {
      const [, key, operator, value] = match as unknown as [string, string, string, string];
      if (operator === "!=") matchExpressions.push({ key, operator: "NotIn", values: [value] });
      else if (Object.hasOwn(matchLabels, key) && matchLabels[key] !== value) {
        matchExpressions.push({ key, operator: "In", values: [value] });
      } else matchLabels[key] = value;
    } else if ((match = SET.exec(requirement))) {
      const values = match[3]!.split(",").map((item) => item.trim());
      if (values.some((item) => item === "" || /\s/.test(item))) return undefined;
      matchExpressions.push({ key: match[1]!, operator: match[2] === "in" ? "In" : "NotIn", values });
    } else if (EXISTS.test(requirement)) {
      matchExpressions.push({ key: requirement, operator: "Exists" });
    } else {
      return undefined;
    }
  }
  return { matchLabels, matchExpressions };
}
