// Property test: policies whose keys are right but whose values are anything never make a rule throw.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resolveConfig } from "../../../src/policy/config.js";
import { INTERNAL_ERROR } from "../../../src/policy/rules/index.js";
import { analyse } from "../../../src/policy/api.js";
import { EGRESS_PEER_KEYS, INGRESS_PEER_KEYS } from "../../../src/policy/read/policy.js";
import { source } from "../../helpers/sources.js";

/** The peer keys Cilium knows, and the other keys the rules read in a rule. */
const RULE_KEYS = [...EGRESS_PEER_KEYS, ...INGRESS_PEER_KEYS, "toRequires", "fromRequires", "toPorts", "icmps"];

/** Values of every shape, biased towards the shapes the rules read. */
const anything: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(null, "", "53", "0", "010", "TCP", "tcp", "ICMP", "http", 8200, -1, 70000, 1.5, true),
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom(
        "ports",
        "port",
        "endPort",
        "protocol",
        "rules",
        "dns",
        "http",
        "kafka",
        "l7",
        "l7proto",
        "listener",
        "serverNames",
        "matchLabels",
        "matchExpressions",
        "key",
        "operator",
        "values",
        "k8sService",
        "k8sServiceSelector",
        "serviceName",
        "namespace",
        "selector",
      ),
      tie("value"),
      { maxKeys: 4 },
    ),
  ),
})).value;

const scalar = fc.constantFrom<unknown>(
  null,
  "",
  "53",
  "0",
  "010",
  "80-90",
  "http",
  "TCP",
  "tcp",
  "VRRP",
  8200,
  99999,
  -1,
);
const portEntry = fc.record(
  { port: scalar, protocol: scalar, endPort: fc.oneof(scalar, fc.integer()) },
  { requiredKeys: [] },
);
const toPorts = fc.array(
  fc.record(
    {
      ports: fc.oneof(fc.array(portEntry, { maxLength: 42 }), anything),
      rules: fc.oneof(
        fc.record(
          { dns: anything, http: anything, kafka: anything, l7: anything, l7proto: scalar },
          { requiredKeys: [] },
        ),
        anything,
      ),
      listener: anything,
      serverNames: anything,
    },
    { requiredKeys: [] },
  ),
  { maxLength: 3 },
);
const selector = fc.record(
  {
    matchLabels: fc.oneof(
      fc.dictionary(fc.constantFrom("app", "k8s:app", "io.kubernetes.pod.namespace"), scalar),
      anything,
    ),
    matchExpressions: anything,
  },
  { requiredKeys: [] },
);
const toServices = fc.array(
  fc.oneof(
    fc.record({
      k8sService: fc.record(
        { serviceName: fc.constantFrom<unknown>("svc", "x", 3, null), namespace: scalar },
        { requiredKeys: [] },
      ),
    }),
    fc.record({ k8sServiceSelector: fc.record({ selector, namespace: scalar }, { requiredKeys: [] }) }),
    anything,
  ),
  { maxLength: 3 },
);
const rule = fc.oneof(
  fc.record(
    {
      toServices,
      toPorts,
      toEndpoints: fc.array(selector, { maxLength: 2 }),
      fromEndpoints: fc.array(selector, { maxLength: 2 }),
      toFQDNs: anything,
      icmps: anything,
      toCIDR: anything,
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.constantFrom(...RULE_KEYS), anything, { maxKeys: 4 }),
);
const spec = fc.record(
  {
    endpointSelector: fc.oneof(fc.constant({}), anything),
    nodeSelector: anything,
    egress: fc.oneof(fc.array(rule, { maxLength: 3 }), anything),
    ingress: fc.oneof(fc.array(rule, { maxLength: 3 }), anything),
    egressDeny: fc.array(rule, { maxLength: 2 }),
    ingressDeny: fc.array(rule, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "svc", namespace: "ns", labels: { app: "x" } },
  spec: { selector: { app: "x" }, ports: [{ port: 80 }] },
};
const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", namespace: "other" },
  spec: { template: { metadata: { labels: { app: "x" } } } },
};

describe("rules on arbitrary policy shapes", () => {
  it("never throw (no internal-error finding) and always point inside the file", async () => {
    await fc.assert(
      fc.asyncProperty(
        spec,
        fc.boolean(),
        fc.constantFrom(">=1.13", ">=1.17", "<1.14", "1.15.x"),
        async (body, clusterwide, range) => {
          const policy = {
            apiVersion: "cilium.io/v2",
            kind: clusterwide ? "CiliumClusterwideNetworkPolicy" : "CiliumNetworkPolicy",
            metadata: { name: "p", ...(clusterwide ? {} : { namespace: "ns" }) },
            spec: body,
          };
          const text = stringify(policy);
          const files = [
            source("policy.yaml", text),
            source("objects.yaml", `${stringify(service)}---\n${stringify(deployment)}`),
          ];
          const result = await analyse(files, { config: resolveConfig({ ciliumVersion: range }) });
          expect(result.findings.filter((finding) => finding.ruleId === INTERNAL_ERROR.id)).toEqual([]);
          const lines = text.split("\n").length;
          for (const finding of result.findings.filter((f) => f.file === "policy.yaml")) {
            expect(finding.line).toBeGreaterThanOrEqual(1);
            expect(finding.line).toBeLessThanOrEqual(lines);
            expect(finding.message.length).toBeGreaterThan(20);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
