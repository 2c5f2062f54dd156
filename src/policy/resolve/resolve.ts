// A toServices entry → the pods it means: selector, namespace, port map, and which source answered.
// Order: the repository rendered as kustomize would (`repo`), the charts it installs rendered by helm (`chart`), the
// configuration (`config`), well-known cluster Services
// (`builtin`), a selector guessed from naming conventions (`guessed`, only with `unresolved: guess`), else `manual`.
// Pure: everything comes from the repository index (through its lookups) and the Config.
import type { IndexLookups } from "../index/lookups.js";
import { labelSelectorFrom, matchesLabels } from "../selectors.js";
import type {
  Config,
  EndpointsInfo,
  LabelSelector,
  Labels,
  ServiceInfo,
  ServiceOverride,
  ServicePort,
  WorkloadInfo,
} from "../types.js";

/** Where an answer came from, most to least certain. */
export type Resolution = "repo" | "chart" | "config" | "builtin" | "guessed" | "manual";

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
  /** The Service's ports and their backend ports; [] when unknown (toPorts then stays as written). */
  readonly ports: readonly ResolvedPort[];
  /** Why an answer is a guess or could not be given; shown in reports and as a YAML comment. */
  readonly note?: string;
  /** The manifest that answered (repo), or the installer of the chart that rendered it (chart), for reports. */
  readonly location?: ServiceInfo["location"];
  /** Source `chart`: the chart that rendered the Service, e.g. "traefik@33.2.1". */
  readonly chart?: string;
}

/** What resolution needs about the policy holding the entry. */
export interface ResolveContext {
  readonly policy: { readonly namespace: string | undefined; readonly clusterwide: boolean };
  /** The repository's index with its lookups, built once per analysis. */
  readonly lookups: IndexLookups;
  readonly config: Pick<Config, "services" | "unresolved">;
}

/** A toServices entry as written. */
export type ServiceEntry =
  | { readonly by: "name"; readonly name: string; readonly namespace: string | undefined }
  | { readonly by: "selector"; readonly selector: LabelSelector; readonly namespace: string | undefined }
  | { readonly by: "invalid" };

// ---- well-known cluster Services ----

interface BuiltinService {
  readonly selector?: Labels;
  readonly entities?: readonly string[];
  readonly ports: readonly ResolvedPort[];
  readonly note?: string;
}

/** Services every cluster has, with the labels their pods carry in standard installations. */
export const BUILTIN_SERVICES: Readonly<Record<string, BuiltinService>> = {
  "kube-system/kube-dns": {
    // kube-dns and CoreDNS deployments both label their pods k8s-app=kube-dns and serve DNS on 53.
    selector: { "k8s-app": "kube-dns" },
    ports: [
      { port: 53, protocol: "UDP", targetPort: 53 },
      { port: 53, protocol: "TCP", targetPort: 53 },
      { port: 9153, protocol: "TCP", targetPort: 9153 },
    ],
  },
  "default/kubernetes": {
    entities: ["kube-apiserver"],
    ports: [{ port: 443, protocol: "TCP", targetPort: 443 }],
    note:
      "the API server is reached with toEntities: [kube-apiserver]; its port behind the Service is 443 on most " +
      "managed clusters but 6443 on kubeadm-style clusters: verify toPorts",
  },
};

/** The Services Cilium's operator creates for the Gateways and Ingresses it implements (dedicated and shared). */
const CILIUM_MADE_SERVICE = /^cilium-(?:gateway-.|ingress(?:$|-.))/;

// ---- reading the entry ----

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Reads one `toServices` item: `k8sService` or `k8sServiceSelector`. */
export function readServiceEntry(entry: unknown): ServiceEntry {
  if (entry === null || typeof entry !== "object") return { by: "invalid" };
  const { k8sService, k8sServiceSelector } = entry as { k8sService?: unknown; k8sServiceSelector?: unknown };
  if (k8sService !== null && typeof k8sService === "object") {
    const { serviceName, namespace } = k8sService as { serviceName?: unknown; namespace?: unknown };
    const name = nonEmptyString(serviceName);
    if (name !== undefined) return { by: "name", name, namespace: nonEmptyString(namespace) };
  }
  if (k8sServiceSelector !== null && typeof k8sServiceSelector === "object") {
    const { selector: raw, namespace } = k8sServiceSelector as { selector?: unknown; namespace?: unknown };
    const selector = labelSelectorFrom(raw);
    if (selector) return { by: "selector", selector, namespace: nonEmptyString(namespace) };
  }
  return { by: "invalid" };
}

function idOf(name: string, namespace: string | undefined): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

function hasLabels(labels: Labels | undefined): labels is Labels {
  return labels !== undefined && Object.keys(labels).length > 0;
}

function joinNotes(...notes: (string | undefined)[]): string | undefined {
  const present = notes.filter((note): note is string => note !== undefined && note !== "");
  return present.length === 0 ? undefined : present.join("; ");
}

// ---- ports ----

/**
 * The workloads of a namespace that can match `selector`: those carrying its first plain label (the same pair), or
 * all of the namespace's when it has none. A superset of the matches: the caller still matches each.
 */
function workloadCandidates(
  lookups: IndexLookups,
  namespace: string | undefined,
  selector: Labels,
): readonly WorkloadInfo[] {
  const plainLabel = Object.entries(selector).find(([key]) => !key.includes(":"));
  if (!plainLabel) return lookups.workloadsIn(namespace);
  return lookups.workloadsLabelled(namespace, plainLabel[0], plainLabel[1]);
}

/**
 * A named targetPort → the container port number, through the workloads of the Service's namespace whose pod labels
 * its selector matches. Only when all of them agree; otherwise the name stays (Cilium accepts named ports) and a note
 * says why.
 */
function resolveNamedPort(
  name: string,
  protocol: string,
  service: ServiceInfo,
  selector: Labels,
  lookups: IndexLookups,
): { targetPort: number | string; note?: string } {
  const workloads = workloadCandidates(lookups, service.namespace, selector).filter(
    (workload) =>
      workload.namespace === service.namespace && matchesLabels({ matchLabels: selector }, workload.podLabels),
  );
  const numbers = new Set<number>();
  for (const workload of workloads) {
    const found = workload.containerPorts.filter((port) => port.name === name && port.protocol === protocol);
    if (found.length === 0) {
      return {
        targetPort: name,
        note: `named targetPort ${name}: ${workload.kind} ${workload.name} has no such container port, kept the name`,
      };
    }
    for (const port of found) numbers.add(port.containerPort);
  }
  if (workloads.length === 0) {
    return { targetPort: name, note: `named targetPort ${name}: no workload in the repository matches, kept the name` };
  }
  if (numbers.size !== 1) {
    return {
      targetPort: name,
      note: `named targetPort ${name}: the matching workloads disagree (${[...numbers].join(", ")}), kept the name`,
    };
  }
  return { targetPort: [...numbers][0] as number };
}

function servicePorts(
  service: ServiceInfo,
  selector: Labels,
  lookups: IndexLookups,
): { ports: ResolvedPort[]; notes: string[] } {
  const notes: string[] = [];
  const ports = service.ports.map((port): ResolvedPort => {
    if (typeof port.targetPort === "string") {
      const resolved = resolveNamedPort(port.targetPort, port.protocol, service, selector, lookups);
      if (resolved.note) notes.push(resolved.note);
      return { port: port.port, protocol: port.protocol, targetPort: resolved.targetPort };
    }
    return { port: port.port, protocol: port.protocol, targetPort: port.targetPort ?? port.port };
  });
  return { ports, notes };
}

/** For a selector-less Service, the backend port of a Service port is the Endpoints port of the same name. */
function endpointPorts(service: ServiceInfo, endpoints: EndpointsInfo): ResolvedPort[] {
  return service.ports.map((port: ServicePort) => {
    const single = service.ports.length === 1 && endpoints.ports.length === 1;
    const match = single
      ? endpoints.ports[0]
      : endpoints.ports.find((candidate) => (candidate.name ?? "") === (port.name ?? ""));
    const fallback = typeof port.targetPort === "number" ? port.targetPort : port.port;
    return { port: port.port, protocol: port.protocol, targetPort: match?.port ?? fallback };
  });
}

function cidrOf(address: string): string {
  return address.includes(":") ? `${address}/128` : `${address}/32`;
}

// ---- sources ----

function manual(name: string, namespace: string | undefined, note: string): ResolvedService {
  return { service: idOf(name, namespace), name, namespace, resolution: "manual", ports: [], note };
}

/** A repository Service → its answer. */
function fromRepository(service: ServiceInfo, lookups: IndexLookups, extraNote?: string): ResolvedService {
  const base = { service: idOf(service.name, service.namespace), name: service.name, namespace: service.namespace };
  const where = `${service.location.file}:${service.location.line}`;
  if (service.type === "ExternalName") {
    return {
      ...manual(
        service.name,
        service.namespace,
        `ExternalName Service (${service.externalName ?? "?"}) at ${where}: it has no pods or addresses to select; consider toFQDNs`,
      ),
      location: service.location,
    };
  }
  if (service.namespace === undefined) {
    return {
      ...manual(
        service.name,
        undefined,
        `the Service at ${where} has no namespace, neither in its manifest nor from a kustomization`,
      ),
      location: service.location,
    };
  }
  const caveats: string[] = [];
  if (service.chart) caveats.push(chartNote(service));
  if (extraNote) caveats.push(extraNote);
  if (service.unapplied && service.unapplied.length > 0) {
    caveats.push(`kustomize fields not applied here may change this Service (${service.unapplied.join(", ")}): verify`);
  }
  const uncertain =
    (service.unapplied !== undefined && service.unapplied.length > 0) ||
    (service.chart?.uncertain !== undefined && service.chart.uncertain.length > 0) ||
    variablesReaching(service).length > 0;
  const certain: Resolution = service.chart ? "chart" : "repo";
  const origin = service.chart ? { chart: `${service.chart.chart}@${service.chart.version}` } : {};
  if (hasLabels(service.selector)) {
    if (service.selectorAdded) {
      caveats.push(
        "its selector comes only from kustomize labels (commonLabels or labels with includeSelectors): verify",
      );
    }
    const { ports, notes } = servicePorts(service, service.selector, lookups);
    return {
      ...base,
      resolution: uncertain || extraNote !== undefined ? "guessed" : certain,
      selector: service.selector,
      ports,
      location: service.location,
      ...origin,
      ...optionalNote(joinNotes(...caveats, ...notes)),
    };
  }
  const endpoints = lookups
    .endpointsOf(service.namespace, service.name)
    .filter((entry) => entry.serviceName === service.name && entry.namespace === service.namespace);
  if (endpoints.length === 0) {
    return {
      ...manual(
        service.name,
        service.namespace,
        `selector-less Service at ${where} without Endpoints or EndpointSlices in the repository`,
      ),
      location: service.location,
    };
  }
  const portSets = endpoints.map((entry) => endpointPorts(service, entry));
  const first = portSets[0] ?? [];
  if (!portSets.every((ports) => JSON.stringify(ports) === JSON.stringify(first))) {
    return {
      ...manual(
        service.name,
        service.namespace,
        `the Endpoints of the selector-less Service at ${where} serve different ports per subset`,
      ),
      location: service.location,
    };
  }
  const cidrs = [...new Set(endpoints.flatMap((entry) => entry.addresses.map(cidrOf)))];
  return {
    ...base,
    resolution: uncertain || extraNote !== undefined ? "guessed" : certain,
    cidrs,
    ports: first,
    location: service.location,
    ...origin,
    ...optionalNote(joinNotes(...caveats)),
  };
}

/** The unknown Flux variables of a chart-made Service's release that its rendered name, selector or ports hold. */
function variablesReaching(service: ServiceInfo): string[] {
  const unknown = service.chart?.unknownVariables ?? [];
  if (unknown.length === 0) return [];
  const text = JSON.stringify([service.name, service.selector, service.ports]);
  return unknown.filter((variable) => text.includes(variable));
}

/** Where a chart-made Service came from, e.g. "rendered from chart traefik@33.2.1 (https://…), HelmRelease at a.yaml:3". */
function chartNote(service: ServiceInfo): string {
  const chart = service.chart as NonNullable<ServiceInfo["chart"]>;
  const where = `${service.location.file}:${service.location.line}`;
  const parts = [`rendered from chart ${chart.chart}@${chart.version} (${chart.from}), ${chart.installer} at ${where}`];
  if (chart.uncertain && chart.uncertain.length > 0) {
    parts.push(`without values the repository does not hold (${chart.uncertain.join("; ")}): verify`);
  }
  const reaching = variablesReaching(service);
  if (reaching.length > 0) {
    parts.push(`its selector or ports hold Flux variables nothing here defines (${reaching.join(", ")}): verify`);
  }
  return parts.join(", ");
}

function optionalNote(note: string | undefined): { note?: string } {
  return note === undefined ? {} : { note };
}

/**
 * Several renderings of the same namespace/name (a base shared by overlays): one answer when they agree; when they
 * differ (selector, ports, addresses), no answer is right for all of them.
 */
function mergeSameService(answers: readonly ResolvedService[]): ResolvedService[] {
  const groups = new Map<string, ResolvedService[]>();
  for (const answer of answers) {
    const group = groups.get(answer.service);
    if (group) group.push(answer);
    else groups.set(answer.service, [answer]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as ResolvedService;
    const key = (a: ResolvedService) =>
      JSON.stringify([
        a.resolution,
        a.selector ? Object.entries(a.selector).sort() : null,
        a.cidrs,
        a.entities,
        a.ports,
      ]);
    if (group.every((answer) => key(answer) === key(first))) return first;
    const where = group.map((answer) => (answer.location ? `${answer.location.file}:${answer.location.line}` : "?"));
    return manual(
      first.name,
      first.namespace,
      `rendered differently by several kustomizations (${[...new Set(where)].join(", ")})`,
    );
  });
}

function fromConfig(key: string, override: ServiceOverride): ResolvedService {
  const slash = key.indexOf("/");
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  // The configuration's port map has no protocol: it applies to whichever protocol toPorts names.
  const ports = Object.entries(override.ports ?? {}).flatMap(([port, target]) =>
    ["TCP", "UDP", "SCTP"].map((protocol) => ({ port: Number(port), protocol, targetPort: target })),
  );
  return {
    service: key,
    name,
    namespace,
    resolution: "config",
    selector: override.selector,
    ports,
    ...(override.ports === undefined ? { note: "no ports in the configuration: toPorts kept as written" } : {}),
  };
}

function fromBuiltin(key: string, builtin: BuiltinService): ResolvedService {
  const slash = key.indexOf("/");
  return {
    service: key,
    name: key.slice(slash + 1),
    namespace: key.slice(0, slash),
    resolution: "builtin",
    ...(builtin.selector ? { selector: builtin.selector } : {}),
    ...(builtin.entities ? { entities: builtin.entities } : {}),
    ports: builtin.ports,
    ...optionalNote(builtin.note),
  };
}

/** A selector from naming conventions: a Helm release that explains the name, else app.kubernetes.io/name. */
function guess(name: string, namespace: string, lookups: IndexLookups): ResolvedService {
  // The longest release name that explains the Service's name: Helm charts name Services <release>[-<suffix>].
  const release = lookups.index.releases
    .filter(
      (candidate) =>
        candidate.chart !== undefined &&
        (candidate.namespace === undefined || candidate.namespace === namespace) &&
        (name === candidate.releaseName || name.startsWith(`${candidate.releaseName}-`)),
    )
    .sort((a, b) => b.releaseName.length - a.releaseName.length)[0];
  const base = { service: idOf(name, namespace), name, namespace, resolution: "guessed" as const, ports: [] };
  if (release?.chart !== undefined) {
    const where = `${release.location.file}:${release.location.line}`;
    const why = release.rendered
      ? `; its chart ${release.rendered.chart}@${release.rendered.version} was rendered and makes no Service ${name}`
      : release.notRendered !== undefined
        ? `; not rendered: ${release.notRendered}`
        : "";
    return {
      ...base,
      selector: { "app.kubernetes.io/name": release.chart, "app.kubernetes.io/instance": release.releaseName },
      note:
        `no Service ${idOf(name, namespace)} in the repository; guessed from the Helm release ${release.releaseName} ` +
        `(chart ${release.chart}, ${release.kind} at ${where}) using the chart's conventional labels${why}; target ` +
        "ports unknown, toPorts kept as written: verify",
    };
  }
  return {
    ...base,
    selector: { "app.kubernetes.io/name": name },
    note:
      `no Service ${idOf(name, namespace)} in the repository, the configuration or the builtins; guessed the ` +
      "conventional label app.kubernetes.io/name; target ports unknown, toPorts kept as written: verify",
  };
}

function byName(entry: Extract<ServiceEntry, { by: "name" }>, context: ResolveContext): ResolvedService[] {
  const { lookups, config, policy } = context;
  const { name, namespace } = entry;
  // repo: every rendered Service of that name (any namespace when the entry has none: Cilium's semantics).
  const exact = lookups
    .servicesNamed(name)
    .filter((service) => service.name === name && (namespace === undefined || service.namespace === namespace));
  // The repository's own manifests win over what its charts render.
  const own = exact.filter((service) => service.chart === undefined);
  const chosen = own.length > 0 ? own : exact;
  if (chosen.length > 0) return mergeSameService(chosen.map((service) => fromRepository(service, lookups)));
  {
    const renamed = lookups
      .servicesWrittenAs(name)
      .filter(
        (service) => service.writtenName === name && (namespace === undefined || service.namespace === namespace),
      );
    if (renamed.length > 0) {
      return mergeSameService(
        renamed.map((service) =>
          fromRepository(
            service,
            lookups,
            `no Service named ${name} is rendered; kustomize renamed ${name} to ${service.name} (namePrefix/nameSuffix) ` +
              "and does not rename references inside Cilium policies: verify which one the policy means",
          ),
        ),
      );
    }
  }
  // config
  const configured = Object.entries(config.services).filter(([key]) =>
    namespace === undefined ? key.endsWith(`/${name}`) : key === `${namespace}/${name}`,
  );
  if (configured.length > 0) return configured.map(([key, override]) => fromConfig(key, override));
  // builtin
  const builtins = Object.entries(BUILTIN_SERVICES).filter(([key]) =>
    namespace === undefined ? key.endsWith(`/${name}`) : key === `${namespace}/${name}`,
  );
  if (builtins.length > 0) return builtins.map(([key, builtin]) => fromBuiltin(key, builtin));
  // Services Cilium itself makes have no pods to guess: it serves them from its Envoy proxy.
  if (CILIUM_MADE_SERVICE.test(name)) {
    return [
      manual(
        name,
        namespace ?? (policy.clusterwide ? undefined : policy.namespace),
        "a Service made by Cilium for a Gateway or an Ingress it implements (cilium-gateway-<gateway>, " +
          "cilium-ingress[-<ingress>]): it has no selector and no pods, as Cilium's Envoy proxy serves it, so no " +
          "toEndpoints can stand for it: rewrite this rule by hand",
      ),
    ];
  }
  // guessed or manual
  if (config.unresolved !== "guess") {
    return [
      manual(name, namespace, "not found in the repository, the configuration or the builtins (unresolved: skip)"),
    ];
  }
  const guessNamespace = namespace ?? (policy.clusterwide ? undefined : policy.namespace);
  if (guessNamespace === undefined) {
    return [
      manual(
        name,
        undefined,
        "not found in the repository, the configuration or the builtins, and its namespace is unknown " +
          "(the entry names none and the policy's namespace is not known): add it to the configuration's services",
      ),
    ];
  }
  // A Service of that name whose namespace nothing in the repository sets (applied with `-n`, or by a tool we do not
  // model): its selector is known, its namespace only assumed.
  const namespaceless = lookups
    .servicesNamed(name)
    .filter((service) => service.namespace === undefined && hasLabels(service.selector));
  if (namespaceless.length > 0) {
    return mergeSameService(
      namespaceless.map((service) => {
        const answer = fromRepository({ ...service, namespace: guessNamespace }, lookups);
        const where = `${service.location.file}:${service.location.line}`;
        const assumed =
          `the Service ${name} at ${where} has no namespace in the repository; assumed to be ${guessNamespace}` +
          `${namespace === undefined ? " (the policy's namespace)" : ""}: verify`;
        return {
          ...answer,
          resolution: answer.resolution === "manual" ? "manual" : "guessed",
          note: joinNotes(assumed, answer.note) ?? assumed,
        };
      }),
    );
  }
  const guessed = guess(name, guessNamespace, lookups);
  if (namespace !== undefined) return [guessed];
  // Cilium matches an entry without a namespace in every namespace: the guess narrows it to one, and says so.
  const assumed =
    `the entry names no namespace, so Cilium matches a Service ${name} in any namespace; assumed the policy's ` +
    `namespace ${guessNamespace}`;
  return [{ ...guessed, note: guessed.note === undefined ? `${assumed}: verify` : `${assumed}: ${guessed.note}` }];
}

function bySelector(entry: Extract<ServiceEntry, { by: "selector" }>, context: ResolveContext): ResolvedService[] {
  const { lookups, config } = context;
  const services = lookups.index.services.filter(
    (service) =>
      (entry.namespace === undefined || service.namespace === entry.namespace) &&
      matchesLabels(entry.selector, service.labels),
  );
  // Configured Services with labels (imported from a cluster) match as the repository's do, unless the repository
  // or its charts define the same Service.
  const defined = new Set(services.map((service) => idOf(service.name, service.namespace)));
  const configured = Object.entries(config.services).filter(
    ([key, override]) =>
      override.labels !== undefined &&
      !defined.has(key) &&
      (entry.namespace === undefined || key.startsWith(`${entry.namespace}/`)) &&
      matchesLabels(entry.selector, override.labels),
  );
  if (services.length === 0 && configured.length > 0) {
    return configured.map(([key, override]) => fromConfig(key, override));
  }
  if (services.length === 0) {
    const labels = Object.entries(entry.selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
    const what = labels.length > 0 ? `labelled ${labels.join(",")}` : "matching the selector";
    const where = entry.namespace === undefined ? "" : ` in ${entry.namespace}`;
    return [manual(`(Services ${what}${where})`, entry.namespace, `no Service ${what}${where} in the repository`)];
  }
  return [
    ...mergeSameService(services.map((service) => fromRepository(service, lookups))),
    ...configured.map(([key, override]) => fromConfig(key, override)),
  ];
}

/**
 * Resolves one toServices entry (the plain-JS value of the list item) to the Services it names, each with its pods'
 * selector (or entities, or CIDRs), namespace, port map and the source of the answer. Never throws; every guess and
 * every failure carries a note.
 */
export function resolveServices(entry: unknown, context: ResolveContext): ResolvedService[] {
  const read = readServiceEntry(entry);
  switch (read.by) {
    case "name":
      return byName(read, context);
    case "selector":
      return bySelector(read, context);
    default:
      return [
        manual(
          "(unreadable toServices entry)",
          undefined,
          "neither k8sService.serviceName nor k8sServiceSelector.selector",
        ),
      ];
  }
}
