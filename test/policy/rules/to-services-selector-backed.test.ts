import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../../src/policy/config.js";
import { fixOf } from "../../helpers/analysis.js";
import { sources } from "../../helpers/sources.js";
import { cnp, findings } from "./scan.js";

const RULE = "to-services-selector-backed";

const policy = cnp(
  "to-vault",
  "minio",
  [
    "  egress:",
    "    - toServices:",
    "        - k8sService: {serviceName: cluster-vault, namespace: vault}", // line 12, column 11
    "        - k8sService: {serviceName: external-db, namespace: data}", // line 13
    "        - k8sServiceSelector: {selector: {matchLabels: {team: search}}}", // line 14
  ].join("\n"),
);

const services = [
  "apiVersion: v1",
  "kind: Service",
  "metadata: {name: cluster-vault, namespace: vault}",
  "spec: {selector: {app: vault}, ports: [{port: 8200}]}",
  "---",
  "apiVersion: v1",
  "kind: Service",
  "metadata: {name: external-db, namespace: data}",
  "spec: {ports: [{port: 5432}]}",
  "---",
  "apiVersion: v1",
  "kind: Service",
  "metadata: {name: elastic, namespace: search, labels: {team: search}}",
  "spec: {selector: {app: elastic}, ports: [{port: 9200}]}",
].join("\n");

describe(RULE, () => {
  it("reports each entry naming a Service with a selector, by name or by the Service's labels", async () => {
    const result = await findings(RULE, { "minio/policy.yaml": policy, "services.yaml": services });
    expect(result.map((f) => [f.line, f.column, f.severity])).toEqual([
      [12, 11, "warning"],
      [14, 11, "warning"],
    ]);
    expect(result[0]?.message).toContain("Service vault/cluster-vault with a pod selector (services.yaml:1)");
    expect(result[0]?.message).toContain("use toEndpoints with {app: vault, k8s:io.kubernetes.pod.namespace: vault}");
    expect(result[1]?.message).toContain("search/elastic");
    // The rewrite translates selector-backed Services for ranges below 1.17: repository answers make it auto.
    expect(result.map((f) => f.fix)).toEqual(["auto", "auto"]);
    expect(result[0]?.message).toContain("(`cilium-policy-bot fix` rewrites it)");
  });

  it("says nothing when every version in the range is 1.17 or later", async () => {
    expect(await findings(RULE, { "p.yaml": policy, "s.yaml": services }, { ciliumVersion: ">=1.17" })).toEqual([]);
    expect(await findings(RULE, { "p.yaml": policy, "s.yaml": services }, { ciliumVersion: ">=1.16" })).toHaveLength(2);
  });

  it("says nothing for Services the repository does not define, in another namespace, or rules with toPorts", async () => {
    expect(await findings(RULE, { "p.yaml": policy })).toEqual([]);
    const elsewhere = services.replace("namespace: vault}", "namespace: other}");
    expect((await findings(RULE, { "p.yaml": policy, "s.yaml": elsewhere })).map((f) => f.line)).toEqual([14]);
    const withPorts = policy + "\n      toPorts: [{ports: [{port: '8200', protocol: TCP}]}]";
    expect(await findings(RULE, { "p.yaml": withPorts, "s.yaml": services })).toEqual([]);
  });

  it("matches k8sService without a namespace in any namespace, and can be turned off", async () => {
    const anyNamespace = cnp(
      "any",
      "minio",
      ["  egress:", "    - toServices: [{k8sService: {serviceName: cluster-vault}}]"].join("\n"),
    );
    expect(await findings(RULE, { "p.yaml": anyNamespace, "s.yaml": services })).toHaveLength(1);
    expect(await findings(RULE, { "p.yaml": anyNamespace, "s.yaml": services }, { rules: { [RULE]: "off" } })).toEqual(
      [],
    );
  });
});

describe(`${RULE} on deny rules`, () => {
  it("reports an egressDeny rule as left to a person, and the fix does not touch it", async () => {
    const deny = policy.replace("  egress:", "  egressDeny:");
    const result = await findings(RULE, { "minio/policy.yaml": deny, "services.yaml": services });
    expect(result.map((f) => [f.line, f.fix])).toEqual([
      [12, "manual"],
      [14, "manual"],
    ]);
    expect(result[0]?.message).toContain("this rule denies nothing there");
    const fixed = await fixOf(sources({ "minio/policy.yaml": deny, "services.yaml": services }), {
      config: resolveConfig({}),
    });
    expect(fixed).toEqual({ changes: [], rewrites: [] });
  });
});
