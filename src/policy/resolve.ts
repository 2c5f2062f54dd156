// A toServices entry → the pods it means: selector, namespace, port map, and which source answered.
// Contract only for now; the implementation lands with the kustomize-aware repository index.
import type { Labels } from "./types.js";

/** Where an answer came from, most to least certain. */
export type Resolution = "repo" | "config" | "builtin" | "guessed" | "manual";

export interface ResolvedPort {
  readonly port: number;
  readonly protocol: string;
  /** The backend port `toPorts` must name after the rewrite: a number, or a container port name when unresolved. */
  readonly targetPort: number | string;
}

export interface ResolvedService {
  /** "namespace/name" of the Service, or "name" when its namespace is unknown. */
  readonly service: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly resolution: Resolution;
  /** Pods' labels for toEndpoints (without the namespace label, which the rewrite adds). */
  readonly selector?: Labels;
  /** Instead of toEndpoints: e.g. default/kubernetes → ["kube-apiserver"]. */
  readonly entities?: readonly string[];
  /** Instead of toEndpoints: a selector-less Service's Endpoints addresses, as /32 or /128. */
  readonly cidrs?: readonly string[];
  readonly ports: readonly ResolvedPort[];
  /** Why an answer is a guess or could not be given; shown in reports and as a YAML comment. */
  readonly note?: string;
}
