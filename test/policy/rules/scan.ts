// Runs the real engine with the registered rules on inline files, keeping only one rule's findings.
import { resolveConfig } from "../../../src/policy/config.js";
import type { Config } from "../../../src/policy/config.js";
import { analyse } from "../../../src/policy/api.js";
import type { RepoIndex } from "../../../src/policy/index/repo-index.js";
import type { Finding, Labels, ServiceInfo, WorkloadInfo } from "../../../src/policy/types.js";
import { sources } from "../../helpers/sources.js";

export async function findings(
  ruleId: string,
  files: Record<string, string>,
  config: Partial<Record<keyof Config, unknown>> = {},
): Promise<Finding[]> {
  const result = await analyse(sources(files), { config: resolveConfig(config) });
  const internal = result.findings.filter((finding) => finding.ruleId === "internal-error");
  if (internal.length > 0) throw new Error(`internal error: ${internal.map((f) => f.message).join("; ")}`);
  return result.findings.filter((finding) => finding.ruleId === ruleId);
}

/** A CiliumNetworkPolicy document; `body` is the spec's content, indented by 2. */
export function cnp(name: string, namespace: string | undefined, body: string): string {
  return [
    "apiVersion: cilium.io/v2",
    "kind: CiliumNetworkPolicy",
    "metadata:",
    `  name: ${name}`,
    ...(namespace === undefined ? [] : [`  namespace: ${namespace}`]),
    "spec:",
    "  endpointSelector:",
    "    matchLabels:",
    "      app: client",
    body,
  ].join("\n");
}

/** A hand-built repository index, for rule logic tested below the engine. */
export function repoIndex(services: ServiceInfo[] = [], workloads: WorkloadInfo[] = []): RepoIndex {
  return {
    services,
    workloads,
    endpoints: [],
    releases: [],
    rendered: (manifest) => ({ name: manifest.name, namespace: manifest.namespace }),
  };
}

export function service(
  name: string,
  namespace: string | undefined,
  selector: Labels | undefined,
  labels: Labels = {},
): ServiceInfo {
  return {
    name,
    namespace,
    labels,
    selector,
    ports: [{ port: 80, protocol: "TCP" }],
    location: { file: `${namespace ?? "any"}/${name}.yaml`, line: 1, column: 1 },
  };
}

export function workload(name: string, namespace: string | undefined, podLabels: Labels): WorkloadInfo {
  return {
    kind: "Deployment",
    name,
    namespace,
    podLabels,
    containerPorts: [],
    location: { file: `${namespace ?? "any"}/${name}.yaml`, line: 1, column: 1 },
  };
}
