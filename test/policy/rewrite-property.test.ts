// Property tests: generated policies and Services. The rewrite's output must be schema-valid, a fixed point, and
// allow exactly the (peer, backend port) pairs the original rule meant, computed here from the inputs.
import fc from "fast-check";
import { Document, parse, visit } from "yaml";
import type { Node } from "yaml";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/policy/config.js";
import { fixOf } from "../helpers/analysis.js";
import type { ServiceResolver } from "../../src/policy/plan/fix.js";
import type { ResolvedService } from "../../src/policy/resolve/resolve.js";
import { hasShared } from "../helpers/external.js";
import { schemaErrors } from "../helpers/schema.js";
import { source } from "../helpers/sources.js";

const NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace";
const PROTOCOLS = ["TCP", "UDP"] as const;

interface GeneratedService {
  readonly name: string;
  readonly namespace: string;
  readonly target:
    | { readonly kind: "selector"; readonly labels: Record<string, string> }
    | { readonly kind: "entities"; readonly entities: string[] }
    | { readonly kind: "cidrs"; readonly cidrs: string[] };
  readonly ports: Array<{ port: number; protocol: string; targetPort: number | string }>;
  readonly guessed: boolean;
}

interface PortEntry {
  port: string;
  protocol?: string;
}
interface PortRule {
  ports: PortEntry[];
  rules?: { http: Array<{ method: string }> };
}

const servicePort = fc.record({
  port: fc.constantFrom(53, 80, 443, 8080, 9090),
  protocol: fc.constantFrom(...PROTOCOLS),
  targetPort: fc.oneof(fc.constantFrom(53, 80, 8080, 9000, 9443), fc.constantFrom("http", "grpc")),
});

const generatedService: fc.Arbitrary<GeneratedService> = fc
  .record({
    name: fc.constantFrom("api", "web", "db", "cache", "auth"),
    namespace: fc.constantFrom("shop", "data", "kube-system"),
    target: fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .dictionary(
            fc.constantFrom("app", "tier", "app.kubernetes.io/name"),
            fc.constantFrom("a", "b", "true", "1"),
            {
              minKeys: 1,
              maxKeys: 2,
            },
          )
          .map((labels) => ({ kind: "selector" as const, labels })),
      },
      { weight: 1, arbitrary: fc.constant({ kind: "entities" as const, entities: ["kube-apiserver"] }) },
      {
        weight: 1,
        arbitrary: fc
          .uniqueArray(fc.integer({ min: 1, max: 254 }), { minLength: 1, maxLength: 2 })
          .map((hosts) => ({ kind: "cidrs" as const, cidrs: hosts.map((h) => `10.0.0.${h}/32`) })),
      },
    ),
    ports: fc.uniqueArray(servicePort, { maxLength: 3, selector: (p) => `${p.port}/${p.protocol}` }),
    guessed: fc.boolean(),
  })
  .map((s): GeneratedService => s as GeneratedService);

const portEntry: fc.Arbitrary<PortEntry> = fc.record(
  { port: fc.constantFrom("53", "80", "443", "8080", "9090", "http"), protocol: fc.constantFrom(...PROTOCOLS) },
  { requiredKeys: ["port"] },
);

const portRule: fc.Arbitrary<PortRule> = fc.record(
  {
    ports: fc.array(portEntry, { minLength: 1, maxLength: 3 }),
    rules: fc.constantFrom("GET", "POST").map((method) => ({ http: [{ method }] })),
  },
  { requiredKeys: ["ports"] },
);

const scenario = fc.record({
  services: fc.uniqueArray(generatedService, {
    minLength: 1,
    maxLength: 3,
    selector: (s) => `${s.namespace}/${s.name}`,
  }),
  toPorts: fc.array(portRule, { minLength: 1, maxLength: 2 }),
  /** A second rule to the same Services, after the unrelated one: several rules of one file in one splice. */
  secondToPorts: fc.option(fc.array(portRule, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  clusterwide: fc.boolean(),
  extraBefore: fc.boolean(),
  style: fc.record({ indent: fc.constantFrom(2, 4), indentSeq: fc.boolean(), flowRule: fc.boolean() }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

const EXTRA_RULE = { toCIDR: ["192.0.2.0/24"], toPorts: [{ ports: [{ port: "25", protocol: "TCP" }] }] };

function policyText(s: Scenario): string {
  const rule = {
    toServices: s.services.map((svc) => ({ k8sService: { serviceName: svc.name, namespace: svc.namespace } })),
    toPorts: s.toPorts,
  };
  const egress: unknown[] = s.extraBefore ? [EXTRA_RULE, rule] : [rule, EXTRA_RULE];
  if (s.secondToPorts) egress.push({ toServices: rule.toServices, toPorts: s.secondToPorts });
  const policy = {
    apiVersion: "cilium.io/v2",
    kind: s.clusterwide ? "CiliumClusterwideNetworkPolicy" : "CiliumNetworkPolicy",
    metadata: s.clusterwide ? { name: "generated" } : { name: "generated", namespace: "app" },
    spec: { endpointSelector: { matchLabels: { app: "client" } }, egress },
  };
  const document = new Document(policy);
  if (s.style.flowRule) {
    const node = document.getIn(["spec", "egress", s.extraBefore ? 1 : 0], true) as Node;
    visit(node, {
      Collection(_, collection) {
        collection.flow = true;
      },
    });
  }
  return document.toString({ indent: s.style.indent, indentSeq: s.style.indentSeq, lineWidth: 0 });
}

function resolverFor(s: Scenario): ServiceResolver {
  return (entry) => {
    const { serviceName, namespace } = (entry as { k8sService: { serviceName: string; namespace: string } }).k8sService;
    const svc = s.services.find((g) => g.name === serviceName && g.namespace === namespace) as GeneratedService;
    const base = {
      service: `${namespace}/${serviceName}`,
      name: serviceName,
      namespace,
      ports: svc.ports,
    };
    const resolved: ResolvedService =
      svc.target.kind === "selector"
        ? { ...base, resolution: svc.guessed ? "guessed" : "repo", selector: svc.target.labels }
        : svc.target.kind === "entities"
          ? { ...base, resolution: "builtin", entities: svc.target.entities }
          : { ...base, resolution: "repo", cidrs: svc.target.cidrs };
    return [resolved];
  };
}

function sortedJson(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The peers a Service stands for, written as strings comparable with the output's. */
function peersOf(svc: GeneratedService): string[] {
  switch (svc.target.kind) {
    case "selector":
      return [`endpoints:${sortedJson({ ...svc.target.labels, [NAMESPACE_LABEL]: svc.namespace })}`];
    case "entities":
      return svc.target.entities.map((e) => `entity:${e}`);
    case "cidrs":
      return svc.target.cidrs.map((c) => `cidr:${c}`);
  }
}

/**
 * The intent: every Service's peers, on the backend port each toPorts entry reaches through the Service. A port that
 * is a Service port (same number, a compatible protocol) reaches its targetPort; when one number reaches different
 * targets per protocol, each protocol is its own pair; any other port is the backend port itself.
 */
function intendedPairs(s: Scenario): Set<string> {
  const pairs = new Set<string>();
  for (const svc of s.services) {
    for (const rule of [...s.toPorts, ...(s.secondToPorts ?? [])]) {
      const l7 = JSON.stringify(rule.rules ?? null);
      for (const entry of rule.ports) {
        const written = entry.protocol ?? "ANY";
        const reached = svc.ports.filter(
          (p) => String(p.port) === entry.port && (written === "ANY" || p.protocol === written),
        );
        const targets = new Set(reached.map((p) => String(p.targetPort)));
        const backends: Array<[string, string]> =
          reached.length === 0
            ? [[entry.port, written]]
            : targets.size === 1
              ? [[[...targets][0] as string, written]]
              : reached.map((p) => [String(p.targetPort), p.protocol]);
        for (const peer of peersOf(svc)) {
          for (const [port, protocol] of backends) pairs.add(`${peer}|${port}|${protocol}|${l7}`);
        }
      }
    }
  }
  return pairs;
}

/** What the rewritten policy allows, read from its text. */
function allowedPairs(text: string): Set<string> {
  const policy = parse(text) as { spec: { egress: Array<Record<string, unknown>> } };
  const pairs = new Set<string>();
  for (const rule of policy.spec.egress) {
    if (rule.toCIDR) continue; // the unrelated rule
    const peers: string[] = [];
    for (const e of (rule.toEndpoints as Array<{ matchLabels: Record<string, string> }> | undefined) ?? []) {
      peers.push(`endpoints:${sortedJson(e.matchLabels)}`);
    }
    for (const e of (rule.toEntities as string[] | undefined) ?? []) peers.push(`entity:${e}`);
    for (const c of (rule.toCIDRSet as Array<{ cidr: string }> | undefined) ?? []) peers.push(`cidr:${c.cidr}`);
    if (rule.toServices) peers.push("toServices-left");
    for (const portRule of rule.toPorts as PortRule[]) {
      const l7 = JSON.stringify(portRule.rules ?? null);
      for (const entry of portRule.ports) {
        for (const peer of peers) pairs.add(`${peer}|${entry.port}|${entry.protocol ?? "ANY"}|${l7}`);
      }
    }
  }
  return pairs;
}

const config = resolveConfig({});
const sharedPresent = hasShared();

describe("rewrite properties", () => {
  it("allows exactly the intended (peer, port) pairs, is a fixed point and stays schema-valid", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const text = policyText(s);
        const resolve = resolverFor(s);
        const result = await fixOf([source("p.yaml", text)], { config, resolve });
        expect(result.rewrites.map((r) => r.status)).toEqual(
          s.secondToPorts ? ["rewritten", "rewritten"] : ["rewritten"],
        );
        const after = result.changes[0]?.after ?? text;
        expect([...allowedPairs(after)].sort()).toEqual([...intendedPairs(s)].sort());
        // The unrelated rule keeps its index.
        const egress = (parse(after) as { spec: { egress: unknown[] } }).spec.egress;
        expect(egress[s.extraBefore ? 0 : 1]).toEqual(EXTRA_RULE);
        const again = await fixOf([source("p.yaml", after)], { config, resolve });
        expect(again.changes).toEqual([]);
        expect(again.rewrites).toEqual([]);
        if (sharedPresent) expect(schemaErrors(parse(after) as Record<string, unknown>)).toEqual([]);
        // Every guessed selector is marked in the text.
        for (const svc of s.services) {
          if (svc.guessed && svc.target.kind === "selector") {
            // One comment names every guessed Service behind the same selector: "for a/x, a/y, verify it".
            const marks = after
              .split("\n")
              .filter((line) => line.includes("# cilium-policy-bot: guessed selector for "));
            expect(marks.some((line) => line.split(/for |, /).includes(`${svc.namespace}/${svc.name}`))).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
