// Cilium's own example policies are (nearly all) valid: every rule finding on them is listed here and explained,
// so a rule that starts reporting valid policies fails this test.
import { describe, expect, it } from "vitest";
import { readSourceFiles } from "../../../src/cli/files.js";
import { resolveConfig } from "../../../src/policy/config.js";
import { analyse } from "../../../src/policy/api.js";
import { CILIUM_EXAMPLES_DIR, hasShared } from "../../helpers/external.js";

const EXPECTED = [
  // An old example: current Cilium rejects toCIDR with toCIDRSet in one rule (l3/cidr/cidr.yaml splits them).
  "combined-peer-types cidr.yaml:12:5",
  // No to-fqdns-without-dns-rule: the toFQDNs examples rely on a DNS-proxy rule from another policy, and the
  // examples include namespace-less policies with `endpointSelector: {}` sending DNS through the proxy.
  // The deliberately malformed example uses podSelector, which Cilium does not know.
  "invalid-subject-selector other/minikube/malformed_policy.yaml:8:3",
  // Lower-case "in" operators: older CRDs took them, the current CRD schema's enum (In, NotIn, …) does not.
  "invalid-selector l3/match-expressions/and-statement.yaml:10:9",
  "invalid-selector l3/match-expressions/and-statement.yaml:14:9",
  "invalid-selector l3/match-expressions/or-statement.yaml:10:9",
  "invalid-selector l3/match-expressions/or-statement.yaml:15:9",
  // fromRequires examples: removed in 1.19, within the default range >=1.13.
  "requires-deprecated l3/requires/requires.yaml:11:7",
  "requires-deprecated requires.yaml:10:7",
  // Fields the CRD schema does not have (kubectl's strict validation refuses them; pruning drops them otherwise):
  // a top-level `description` in older examples,
  "unknown-field getting-started/kafka.yaml:3:1",
  "unknown-field host/lock-down-dev-vms.yaml:3:1",
  "unknown-field host/lock-down-gke.yaml:3:1",
  "unknown-field host/lock-down-ingress.yaml:3:1",
  "unknown-field kubernetes/clusterwide/wildcard-from-endpoints.yaml:3:1",
  "unknown-field l3/host/host-policy.yaml:3:1",
  "unknown-field l3/requires/requires.yaml:3:1",
  "unknown-field l7.yaml:3:1",
  "unknown-field l7/http/simple/l7.yaml:3:1",
  "unknown-field l7/kafka/kafka-Role.yaml:3:1",
  "unknown-field l7/kafka/kafka.yaml:3:1",
  "unknown-field other/kubernetes-cassandra/cass-sw-security-policy.yaml:3:1",
  "unknown-field other/kubernetes-es/es-policy.yaml:3:1",
  "unknown-field other/kubernetes-es/es-sw-policy.yaml:3:1",
  "unknown-field other/kubernetes-tls-inspection/l7-visibility-tls.yaml:3:1",
  "unknown-field other/minikube/l3_l4_policy.yaml:3:1",
  "unknown-field other/minikube/malformed_policy.yaml:4:1",
  "unknown-field other/minikube/sw_l3_l4_policy.yaml:3:1",
  // the pre-1.14 `auth` (now `authentication`),
  "unknown-field auth/auth.yaml:13:5",
  // `role: frontend` indented as a sibling of an empty `matchLabels:`, so the selector selects every endpoint,
  "unknown-field l4/l3_l4_combined.yaml:12:7",
  "unknown-field multi_rule.yaml:12:7",
  // `HTTP` and `Role`, which Go's JSON decoding once took for `http` and `role`, but the schema does not,
  "unknown-field l7/http/http.yaml:15:9",
  "unknown-field l7/kafka/kafka-Role.yaml:20:11",
  "unknown-field l7/kafka/kafka-Role.yaml:22:11",
  // and the malformed example's podSelector (a Kubernetes NetworkPolicy field).
  "unknown-field other/minikube/malformed_policy.yaml:8:3",
];

describe.skipIf(!hasShared())("rules on Cilium's example policies", () => {
  it("report exactly the known findings", async () => {
    const result = await analyse(readSourceFiles(CILIUM_EXAMPLES_DIR), { config: resolveConfig({}) });
    const found = result.findings.map((f) => `${f.ruleId} ${f.file}:${f.line}:${f.column}`).sort();
    expect(found).toEqual([...EXPECTED].sort());
  });

  it("report no requires-deprecated finding when every version is below 1.17", async () => {
    const result = await analyse(readSourceFiles(CILIUM_EXAMPLES_DIR), {
      config: resolveConfig({ ciliumVersion: "<1.17" }),
    });
    expect(result.findings.filter((f) => f.ruleId === "requires-deprecated")).toEqual([]);
  });
});
