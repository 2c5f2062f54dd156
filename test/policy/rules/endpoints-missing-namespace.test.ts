import { describe, expect, it } from "vitest";
import { cnp, findings } from "./scan.js";

const RULE = "endpoints-missing-namespace";

const deployment = (name: string, namespace: string, labels: string) =>
  [
    "apiVersion: apps/v1",
    "kind: Deployment",
    `metadata: {name: ${name}, namespace: ${namespace}}`,
    "spec:",
    "  template:",
    `    metadata: {labels: {${labels}}}`,
    "    spec: {containers: [{name: c, image: i}]}",
  ].join("\n");

const policy = cnp(
  "to-vault",
  "minio",
  [
    "  egress:",
    "    - toEndpoints:",
    "        - matchLabels: {app: vault}", // line 12, column 11
    "      toPorts: [{ports: [{port: '8200', protocol: TCP}]}]",
    "  ingress:",
    "    - fromEndpoints:",
    "        - matchLabels: {k8s:app: prometheus}", // line 16
  ].join("\n"),
);

describe(RULE, () => {
  it("reports selectors whose pods live only in other namespaces, at the selector", async () => {
    const result = await findings(RULE, {
      "minio/policy.yaml": policy,
      "vault/deploy.yaml": deployment("vault", "vault", "app: vault"),
      "monitoring/prom.yaml": deployment("prometheus", "monitoring", "app: prometheus"),
    });
    expect(result.map((f) => [f.line, f.column, f.severity, f.policy])).toEqual([
      [12, 11, "warning", "minio/to-vault"],
      [16, 11, "warning", "minio/to-vault"],
    ]);
    expect(result[0]?.message).toContain("only matches pods in namespace minio");
    expect(result[0]?.message).toContain("namespace vault (Deployment vault at vault/deploy.yaml:1)");
    expect(result[0]?.message).toContain("add k8s:io.kubernetes.pod.namespace: vault to the selector");
    expect(result[1]?.message).toContain("fromEndpoints");
  });

  it("says nothing when matching pods exist in the policy's namespace, or nowhere", async () => {
    const files = {
      "p.yaml": policy,
      "vault/deploy.yaml": deployment("vault", "vault", "app: vault"),
      "minio/vault-agent.yaml": deployment("vault-agent", "minio", "app: vault"),
    };
    expect((await findings(RULE, files)).map((f) => f.line)).toEqual([]);
    expect(await findings(RULE, { "p.yaml": policy })).toEqual([]);
  });

  it("says nothing for selectors with a namespace key (either spelling), empty ones, and clusterwide policies", async () => {
    const scoped = cnp(
      "scoped",
      "minio",
      [
        "  egress:",
        "    - toEndpoints:",
        "        - matchLabels: {app: vault, k8s:io.kubernetes.pod.namespace: vault}",
        "        - matchLabels: {app: vault, io.kubernetes.pod.namespace: vault}",
        "        - matchExpressions: [{key: io.kubernetes.pod.namespace, operator: In, values: [vault]}]",
        "        - {}",
      ].join("\n"),
    );
    const clusterwide = policy
      .replace("kind: CiliumNetworkPolicy", "kind: CiliumClusterwideNetworkPolicy")
      .replace("  namespace: minio\n", "");
    const vault = deployment("vault", "vault", "app: vault");
    expect(await findings(RULE, { "a.yaml": scoped, "b.yaml": clusterwide, "v.yaml": vault })).toEqual([]);
  });

  it("names every namespace when the pods are spread, and can be turned off", async () => {
    const files = {
      "p.yaml": policy,
      "a.yaml": deployment("vault", "vault", "app: vault"),
      "b.yaml": deployment("vault", "vault-dr", "app: vault"),
    };
    const [finding] = await findings(RULE, files);
    expect(finding?.message).toContain("namespaces vault, vault-dr");
    expect(await findings(RULE, files, { rules: { [RULE]: "off" } })).toEqual([]);
  });

  it("answers every policy for its own namespace when many share one selector (matching is memoised per index)", async () => {
    const shared = (name: string, namespace: string) =>
      cnp(
        name,
        namespace,
        ["  ingress:", "    - fromEndpoints:", "        - matchLabels: {k8s:app: vault}"].join("\n"),
      );
    const byExpression = cnp(
      "by-expression",
      "cache",
      [
        "  ingress:",
        "    - fromEndpoints:",
        "        - matchExpressions: [{key: app, operator: In, values: [vault]}]",
      ].join("\n"),
    );
    const files = {
      "cache/p.yaml": shared("p3", "cache"),
      "cache/q.yaml": byExpression,
      "minio/p.yaml": shared("p1", "minio"),
      "vault/p.yaml": shared("p2", "vault"),
      "vault/deploy.yaml": deployment("vault", "vault", "app: vault"),
      // Carries the value "vault" under another key: not a match.
      "cache/deploy.yaml": deployment("cache", "cache", "app: cache, tier: vault"),
    };
    const result = await findings(RULE, files);
    expect(result.map((f) => [f.file, f.policy])).toEqual([
      ["cache/p.yaml", "cache/p3"],
      ["cache/q.yaml", "cache/by-expression"],
      ["minio/p.yaml", "minio/p1"],
    ]);
    for (const finding of result)
      expect(finding.message).toContain("namespace vault (Deployment vault at vault/deploy.yaml:1)");
  });
});
