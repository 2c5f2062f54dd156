// An egress rule with `toServices` → the rule(s) that say the same thing without it: pure planning over plain
// values. The text edit that applies a plan is splice.ts's job.
import type { ResolvedPort, ResolvedService } from "../resolve/resolve.js";
import { EGRESS_PEER_KEYS } from "../read/policy.js";
import { isNamespaceKey, NAMESPACE_KEY } from "../selectors.js";
import type { Labels } from "../types.js";

/** The key that replaces `toServices` in a rewritten rule ("toServices" for entries kept as they are). */
export type PeerKey = "toEndpoints" | "toEntities" | "toCIDRSet" | "toServices";

export type RuleValue = Record<string, unknown>;

/** One toServices entry and the Services it names (several for a namespace-less k8sService or a selector). */
export interface EntryResolution {
  readonly entry: unknown;
  readonly services: readonly ResolvedService[];
}

/** A YAML comment to write above one item of a planned rule's peer list. */
export interface PeerNote {
  readonly index: number;
  readonly text: string;
}

export interface PlannedRule {
  /** The whole rule: the original's keys in their order, `toServices` replaced by `peerKey`. */
  readonly value: RuleValue;
  readonly peerKey: PeerKey;
  readonly notes: readonly PeerNote[];
}

export type RulePlan =
  | {
      readonly kind: "rewrite";
      /** Replaces the original rule in place. */
      readonly inPlace: PlannedRule;
      /** Appended after the last rule of the same list, in this order (duplicates of existing rules removed later). */
      readonly appended: readonly PlannedRule[];
      readonly services: readonly ResolvedService[];
    }
  | { readonly kind: "manual"; readonly reason: string; readonly services: readonly ResolvedService[] }
  | { readonly kind: "unchanged" };

export interface PlanOptions {
  /**
   * Whether the Cilium range includes versions below 1.17, where `toServices` without `toPorts` works only for
   * selector-less Services: rules naming a Service with a selector are rewritten even without `toPorts`. Where it
   * does not, Cilium translates every such rule itself, and no guessed selector is written into one.
   */
  readonly translateSelectorServices: boolean;
}

/** The YAML comment above a guessed selector (leading space: yaml writes `#` + text). */
function guessedNote(services: readonly string[]): string {
  return ` cilium-policy-bot: guessed selector for ${services.join(", ")}, verify it`;
}

/** The YAML comment above a peer whose resolution carries a caveat (a port or selector to verify). */
function caveatNote(service: string, note: string): string {
  return ` cilium-policy-bot: ${service}: ${note.replace(/\s*\r?\n\s*/g, " ")}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Structural equality of plain YAML values (key order ignored, as Kubernetes ignores it). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

function uniqueBy<T>(items: readonly T[]): T[] {
  const out: T[] = [];
  for (const item of items) if (!out.some((seen) => deepEqual(seen, item))) out.push(item);
  return out;
}

function hasSelector(service: ResolvedService): boolean {
  return service.selector !== undefined && Object.keys(service.selector).length > 0;
}

/** Whether a rule is one the rewrite acts on (whatever the resolution then says). */
export function needsRewrite(rule: unknown, options: PlanOptions): boolean {
  if (!isRecord(rule) || !Array.isArray(rule.toServices) || rule.toServices.length === 0) return false;
  return hasPorts(rule) || options.translateSelectorServices;
}

/** Whether a rule has toPorts that restrict it (Cilium ignores an empty list, and so does its validation). */
function hasPorts(rule: RuleValue): boolean {
  return Array.isArray(rule.toPorts) && rule.toPorts.length > 0;
}

function peerOf(service: ResolvedService): { key: PeerKey; items: unknown[] } | undefined {
  if (hasSelector(service) && service.namespace !== undefined) {
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(service.selector as Labels)) {
      if (!isNamespaceKey(key)) labels[key] = value;
    }
    labels[NAMESPACE_KEY] = service.namespace;
    return { key: "toEndpoints", items: [{ matchLabels: labels }] };
  }
  if (service.entities && service.entities.length > 0) return { key: "toEntities", items: [...service.entities] };
  if (service.cidrs && service.cidrs.length > 0) {
    return { key: "toCIDRSet", items: service.cidrs.map((cidr) => ({ cidr })) };
  }
  return undefined;
}

function whyManual(service: ResolvedService): string | undefined {
  if (service.resolution === "manual") return `${service.service}: ${service.note ?? "could not be resolved"}`;
  if (hasSelector(service) && service.namespace === undefined) {
    return `${service.service}: the Service's namespace is unknown`;
  }
  if (!peerOf(service)) return `${service.service}: resolved to neither a selector, entities nor addresses`;
  return undefined;
}

function numericPort(port: unknown): number | undefined {
  if (typeof port === "number" && Number.isInteger(port)) return port;
  if (typeof port === "string" && /^[0-9]+$/.test(port)) return Number(port);
  return undefined;
}

function protocolOf(entry: Record<string, unknown>): string {
  return typeof entry.protocol === "string" ? entry.protocol.toUpperCase() : "ANY";
}

function protocolMatches(ruleProtocol: string, servicePort: ResolvedPort): boolean {
  return ruleProtocol === "ANY" || servicePort.protocol.toUpperCase() === ruleProtocol;
}

/** Writes a target port the way the original port was written: "8080" stays a string, 8080 a number. */
function portLike(original: unknown, target: number | string): number | string {
  if (typeof target === "string") return target;
  return typeof original === "number" ? target : String(target);
}

/** One `ports` entry of a PortRule, seen through one Service's port map. */
function mapPortEntry(entry: unknown, service: ResolvedService): unknown[] {
  if (!isRecord(entry)) return [entry];
  const port = numericPort(entry.port);
  if (port === undefined) return [entry];
  const protocol = protocolOf(entry);
  const endPort = numericPort(entry.endPort);
  if (endPort !== undefined && endPort > port) {
    // A range stays; service ports inside it that map elsewhere add their target ports.
    const extra = service.ports
      .filter((p) => p.port >= port && p.port <= endPort && protocolMatches(protocol, p) && p.targetPort !== p.port)
      .map((p) => {
        const { endPort: _dropped, ...single } = entry;
        return { ...single, port: portLike(entry.port, p.targetPort) };
      });
    return [entry, ...extra];
  }
  const matches = service.ports.filter((p) => p.port === port && protocolMatches(protocol, p));
  if (matches.length === 0) return [entry];
  const targets = uniqueBy(matches.map((p) => p.targetPort));
  if (targets.length === 1) return [{ ...entry, port: portLike(entry.port, targets[0] as number | string) }];
  // The same port number maps to different backends per protocol: one entry per protocol.
  return matches.map((p) => ({ ...entry, port: portLike(entry.port, p.targetPort), protocol: p.protocol }));
}

/** A rule's `toPorts` as it must read once the Service is replaced by its backends. */
function mapToPorts(toPorts: unknown, service: ResolvedService): unknown {
  if (!Array.isArray(toPorts)) return toPorts;
  return toPorts.map((portRule) => {
    if (!isRecord(portRule) || !Array.isArray(portRule.ports)) return portRule;
    return { ...portRule, ports: uniqueBy(portRule.ports.flatMap((entry) => mapPortEntry(entry, service))) };
  });
}

interface Group {
  readonly peerKey: PeerKey;
  readonly toPorts: unknown;
  items: unknown[];
  /** item index → the guessed Services it stands for */
  guesses: Map<number, string[]>;
  /** item index → caveats of the certain answers it stands for, as YAML comments */
  caveats: Map<number, string[]>;
}

function ruleWith(original: RuleValue, peerKey: PeerKey, peers: unknown[], toPorts: unknown): RuleValue {
  const out: RuleValue = {};
  for (const [key, value] of Object.entries(original)) {
    if (key === "toServices") out[peerKey] = peers;
    else if (key === "toPorts") out.toPorts = toPorts;
    else out[key] = value;
  }
  return out;
}

/**
 * Plans the rewrite of one rule. `entries` are its toServices entries, resolved, in order. The plan never widens
 * what the rule allows: a Service that cannot be resolved with certainty (`manual`) leaves the whole rule unchanged.
 */
export function planRule(rule: unknown, entries: readonly EntryResolution[], options: PlanOptions): RulePlan {
  if (!needsRewrite(rule, options)) return { kind: "unchanged" };
  const original = rule as RuleValue;
  const withPorts = hasPorts(original);
  // Without toPorts, only Services known to have a selector need translating: selector-less ones work as they are,
  // and a guessed selector is no evidence that the Service has one.
  const translated = entries.filter(
    (e) => withPorts || e.services.some((s) => hasSelector(s) && s.resolution !== "guessed"),
  );
  if (translated.length === 0) return { kind: "unchanged" };
  const services = translated.flatMap((e) => e.services);
  const otherPeer = EGRESS_PEER_KEYS.find((key) => key !== "toServices" && original[key] !== undefined);
  if (otherPeer) {
    return { kind: "manual", reason: `the rule also has ${otherPeer}; one rule may carry one peer kind`, services };
  }
  const empty = translated.find((e) => e.services.length === 0);
  if (empty) return { kind: "manual", reason: "a toServices entry names no Service that could be found", services };
  for (const service of services) {
    const reason = whyManual(service);
    if (reason) return { kind: "manual", reason, services };
  }

  const groups: Group[] = [];
  const groupFor = (peerKey: PeerKey, toPorts: unknown): Group => {
    let group = groups.find((g) => g.peerKey === peerKey && deepEqual(g.toPorts, toPorts));
    if (!group) {
      group = { peerKey, toPorts, items: [], guesses: new Map(), caveats: new Map() };
      groups.push(group);
    }
    return group;
  };
  for (const resolution of entries) {
    if (!translated.includes(resolution)) {
      const kept = groupFor("toServices", original.toPorts);
      if (!kept.items.some((item) => deepEqual(item, resolution.entry))) kept.items.push(resolution.entry);
      continue;
    }
    for (const service of resolution.services) {
      const peer = peerOf(service) as { key: PeerKey; items: unknown[] };
      const group = groupFor(peer.key, withPorts ? mapToPorts(original.toPorts, service) : original.toPorts);
      for (const item of peer.items) {
        const at = group.items.findIndex((seen) => deepEqual(seen, item));
        const index = at === -1 ? group.items.push(item) - 1 : at;
        if (service.resolution === "guessed") {
          const guessed = group.guesses.get(index) ?? [];
          if (!guessed.includes(service.service)) guessed.push(service.service);
          group.guesses.set(index, guessed);
        } else if (service.note) {
          const caveats = group.caveats.get(index) ?? [];
          const text = caveatNote(service.service, service.note);
          if (!caveats.includes(text)) caveats.push(text);
          group.caveats.set(index, caveats);
        }
      }
    }
  }
  const planned = groups.map((g): PlannedRule => ({
    value: ruleWith(original, g.peerKey, g.items, g.toPorts),
    peerKey: g.peerKey,
    notes: [
      ...[...g.guesses].map(([index, services]) => ({ index, text: guessedNote(services) })),
      ...[...g.caveats].flatMap(([index, texts]) => texts.map((text) => ({ index, text }))),
    ].sort((a, b) => a.index - b.index),
  }));
  const [inPlace, ...appended] = planned as [PlannedRule, ...PlannedRule[]];
  return { kind: "rewrite", inPlace, appended, services };
}
