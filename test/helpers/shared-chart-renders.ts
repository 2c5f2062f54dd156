// A chart renderer for tests without helm: it answers with `helm template` output rebuilt from
// ../shared/charts/services.json (each shared chart's Services and workloads as helm v3.17.3 rendered them for release
// `demo` in namespace `demo`). Expected results in tests are computed from the same data, never written by hand.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { stringify } from "yaml";
import type { ChartRelease, ChartRender, ChartRenderer } from "../../src/policy/api.js";
import { SHARED_CHARTS_DIR } from "./external.js";

export interface SharedPort {
  readonly name: string | null;
  readonly port: number;
  readonly targetPort: number | string;
  readonly protocol: string;
  readonly resolved: ReadonlyArray<readonly [number, string, string]> | null;
}

export interface SharedService {
  readonly name: string;
  readonly type: string;
  readonly clusterIP: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>> | null;
  readonly ports: readonly SharedPort[];
  readonly matches: readonly string[];
}

export interface SharedWorkload {
  readonly kind: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: Readonly<
    Record<string, ReadonlyArray<{ container: string; containerPort: number; protocol: string }>>
  >;
  readonly hook: string | null;
}

export interface SharedRender {
  readonly set: readonly string[];
  readonly services: readonly SharedService[];
  readonly workloads: readonly SharedWorkload[];
}

export interface SharedChart {
  readonly archive: string;
  readonly name: string;
  readonly version: string;
  readonly renders: readonly SharedRender[];
}

/** The release and namespace services.json was rendered for. */
export const SHARED_RELEASE = "demo";
export const SHARED_NAMESPACE = "demo";

const SERVICES_JSON = resolve(SHARED_CHARTS_DIR, "services.json");

export function sharedChartData(): SharedChart[] | undefined {
  if (!existsSync(SERVICES_JSON)) return undefined;
  const data = JSON.parse(readFileSync(SERVICES_JSON, "utf8")) as {
    charts: Record<string, { renders: SharedRender[] }>;
  };
  return Object.entries(data.charts).map(([archive, chart]) => {
    const match = /^(.*)-(v?\d+\.\d+\.\d+.*)\.tgz$/.exec(archive);
    return { archive, name: match?.[1] ?? archive, version: match?.[2] ?? "", renders: chart.renders };
  });
}

const API_VERSIONS: Record<string, string> = {
  Deployment: "apps/v1",
  StatefulSet: "apps/v1",
  DaemonSet: "apps/v1",
  ReplicaSet: "apps/v1",
  Job: "batch/v1",
  Pod: "v1",
};

/** One render as a `helm template` stream: its Services and workloads (pod labels, containers and their ports). */
export function templateStream(render: SharedRender): string {
  const documents: unknown[] = [];
  for (const service of render.services) {
    documents.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: service.name, labels: service.labels },
      spec: {
        type: service.type,
        ...(service.clusterIP !== null ? { clusterIP: service.clusterIP } : {}),
        ...(service.selector !== null ? { selector: service.selector } : {}),
        ports: service.ports.map((port) => ({
          ...(port.name !== null ? { name: port.name } : {}),
          port: port.port,
          targetPort: port.targetPort,
          protocol: port.protocol,
        })),
      },
    });
  }
  for (const workload of render.workloads) {
    const containers = new Map<string, Array<{ name: string; containerPort: number; protocol: string }>>();
    for (const [portName, entries] of Object.entries(workload.ports)) {
      for (const entry of entries) {
        const list = containers.get(entry.container) ?? [];
        list.push({ name: portName, containerPort: entry.containerPort, protocol: entry.protocol });
        containers.set(entry.container, list);
      }
    }
    const podSpec = {
      containers:
        containers.size === 0
          ? [{ name: "main", image: "example" }]
          : [...containers].map(([name, ports]) => ({ name, image: "example", ports })),
    };
    const metadata = {
      name: workload.name,
      ...(workload.hook !== null ? { annotations: { "helm.sh/hook": workload.hook } } : {}),
    };
    documents.push(
      workload.kind === "Pod"
        ? { apiVersion: "v1", kind: "Pod", metadata: { ...metadata, labels: workload.labels }, spec: podSpec }
        : {
            apiVersion: API_VERSIONS[workload.kind] ?? "apps/v1",
            kind: workload.kind,
            metadata,
            spec: {
              ...(workload.kind === "Job" ? {} : { selector: { matchLabels: workload.labels } }),
              template: { metadata: { labels: workload.labels }, spec: podSpec },
            },
          },
    );
  }
  return documents.map((document) => `---\n# Source: shared/templates\n${stringify(document)}`).join("");
}

/**
 * Renders releases of the shared charts named by version, for release `demo` in namespace `demo` with default values
 * (or a `--set` services.json holds, given as `values`); answers like a shell for anything else.
 */
export class SharedChartRenderer implements ChartRenderer {
  readonly asked: ChartRelease[][] = [];

  constructor(private readonly charts: readonly SharedChart[]) {}

  render(releases: readonly ChartRelease[]): Promise<readonly ChartRender[]> {
    this.asked.push([...releases]);
    return Promise.resolve(releases.map((release) => this.renderOne(release)));
  }

  private renderOne(release: ChartRelease): ChartRender {
    const source = release.chart;
    const name = source.kind === "repository" ? source.name : source.path.split("/").pop();
    const version = source.kind === "repository" ? source.version : undefined;
    const chart = this.charts.find((c) => c.name === name && (version === undefined || c.version === version));
    const from = source.kind === "repository" ? source.repository : source.path;
    if (!chart) {
      return {
        key: release.key,
        ok: false,
        reason: `chart ${name ?? "?"} ${version ?? ""} from ${from} is not in the chart cache and downloads are off`,
      };
    }
    if (release.releaseName !== SHARED_RELEASE || release.namespace !== SHARED_NAMESPACE) {
      return { key: release.key, ok: false, reason: "the test renderer has renders of release demo in demo only" };
    }
    const set = Object.keys(release.values).length === 0 ? [] : flatten(release.values);
    const render = chart.renders.find((r) => JSON.stringify([...r.set].sort()) === JSON.stringify(set.sort()));
    if (!render) return { key: release.key, ok: false, reason: `no recorded render with ${set.join(", ")}` };
    return {
      key: release.key,
      ok: true,
      chart: chart.name,
      version: chart.version,
      from,
      manifests: templateStream(render),
    };
  }
}

function flatten(values: Readonly<Record<string, unknown>>, prefix = ""): string[] {
  return Object.entries(values).flatMap(([key, value]) =>
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? flatten(value as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key}=${String(value)}`],
  );
}

/** What resolution must answer for a shared Service: its selector, and target ports as the rendered pods declare them. */
export function expectedPorts(
  service: SharedService,
): Array<{ port: number; protocol: string; targetPort: number | string }> {
  return service.ports.map((port) => {
    if (typeof port.targetPort === "number")
      return { port: port.port, protocol: port.protocol, targetPort: port.targetPort };
    const numbers = new Set((port.resolved ?? []).map(([number]) => number));
    return {
      port: port.port,
      protocol: port.protocol,
      targetPort: numbers.size === 1 ? ([...numbers][0] as number) : port.targetPort,
    };
  });
}
