import { describe, expect, it } from "vitest";
import { cnp, findings } from "./scan.js";

const RULE = "unknown-field";

async function unknownFields(files: Record<string, string>, config = {}) {
  return (await findings(RULE, files, config)).map((f) => ({
    at: `${f.line}:${f.column}`,
    severity: f.severity,
    message: f.message,
  }));
}

describe("unknown-field", () => {
  it("names a slip of a known field as an error at its key, with the field meant", async () => {
    const text = cnp(
      "slips",
      "shop",
      [
        "  egress:",
        "    - toEndpoints:",
        "        - matchLabel: {app: db}", // 12:11
        "      toPort:", // 13:7
        "        - ports: [{port: '5432', protocol: TCP}]",
        "    - toCidr: [10.0.0.0/8]", // 15:7
        "    - toEntity: [world]", // 16:7
        "      toPorts: [{Ports: [{port: '443'}]}]", // 17:18
      ].join("\n"),
    );
    const found = await unknownFields({ "p.yaml": text });
    expect(found.map(({ at, severity }) => [at, severity])).toEqual([
      ["12:11", "error"],
      ["13:7", "error"],
      ["15:7", "error"],
      ["16:7", "error"],
      ["17:18", "error"],
    ]);
    expect(found[0]!.message).toContain(
      "`matchLabel` is not a field of `spec.egress[0].toEndpoints[0]`; did you mean `matchLabels`?",
    );
    expect(found[1]!.message).toContain("did you mean `toPorts`?");
    expect(found[1]!.message).toContain("refuses the policy for it under strict field validation");
    expect(found[2]!.message).toContain("did you mean `toCIDR`?");
    expect(found[3]!.message).toContain("did you mean `toEntities`?");
    expect(found[4]!.message).toContain("`Ports` is not a field of `spec.egress[2].toPorts[0]`; did you mean `ports`?");
  });

  it("warns about a field it cannot place, listing the fields there; and about allow-only fields in deny rules", async () => {
    const text = cnp(
      "odd",
      "shop",
      [
        "  podSelector: {}", // 10:3
        "  egressDeny:",
        "    - toFQDNs: [{matchName: example.com}]", // 12:7
        "      toPorts: [{ports: [{port: '443'}]}]",
      ].join("\n"),
    );
    const found = await unknownFields({ "p.yaml": text });
    expect(found.map(({ at, severity }) => [at, severity])).toEqual([
      ["10:3", "warning"],
      ["12:7", "warning"],
    ]);
    expect(found[0]!.message).toContain("`podSelector` is not a field of `spec` in the Cilium schema this tool knows");
    expect(found[0]!.message).toContain("Its fields: description, egress, egressDeny,");
    expect(found[1]!.message).toContain(
      "`toFQDNs` is a field of allow rules, not of deny rules like `spec.egressDeny[0]`",
    );
  });

  it("accepts every field of the schema, label keys of any name, and what metadata and status hold", async () => {
    const text = [
      "apiVersion: cilium.io/v2",
      "kind: CiliumNetworkPolicy",
      "metadata: {name: full, namespace: shop, labels: {anything: goes}, annotations: {toPort: x}}",
      "spec:",
      "  description: every field",
      "  endpointSelector: {matchLabels: {matchLabel: x}, matchExpressions: [{key: a, operator: In, values: [b]}]}",
      "  enableDefaultDeny: {egress: true, ingress: false}",
      "  log: {value: audit}",
      "  labels: [{key: k, value: v, source: s}]",
      "  egress:",
      "    - toFQDNs: [{matchPattern: '*.example.com'}]",
      "      authentication: {mode: required}",
      "      toPorts:",
      "        - ports: [{port: '443', endPort: 444, protocol: TCP}]",
      "          serverNames: [example.com]",
      "          terminatingTLS: {secret: {name: s, namespace: n}, certificate: c, privateKey: k, trustedCA: t}",
      "          originatingTLS: {secret: {name: s}}",
      "          rules:",
      "            http: [{method: GET, path: /, host: h, headers: ['X: y'], headerMatches: [{name: a, value: b, mismatch: LOG, secret: {name: s}}]}]",
      "    - toServices: [{k8sService: {serviceName: a, namespace: b}}, {k8sServiceSelector: {selector: {matchLabels: {a: b}}, namespace: c}}]",
      "    - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}, {cidrGroupRef: g}, {cidrGroupSelector: {matchLabels: {a: b}}}]",
      "    - toGroups: [{aws: {labels: {a: b}, region: eu, securityGroupsIds: [x], securityGroupsNames: [y]}}]",
      "    - toNodes: [{matchLabels: {a: b}}]",
      "      icmps: [{fields: [{family: IPv4, type: 8}]}]",
      "    - toEndpoints: [{}]",
      "      toPorts: [{ports: [{port: '6379'}], rules: {l7proto: r2d2, l7: [{cmd: READ, anyKey: x}]}}]",
      "    - toEndpoints: [{}]",
      "      toPorts: [{ports: [{port: '9092'}], rules: {kafka: [{role: produce, topic: t, apiKey: k, apiVersion: '1', clientID: c}]}}]",
      "    - toEndpoints: [{}]",
      "      toPorts: [{ports: [{port: '80'}], listener: {envoyConfig: {kind: CiliumEnvoyConfig, name: e}, name: l, priority: 1}}]",
      "  ingress:",
      "    - fromEndpoints: [{matchLabels: {a: b}}]",
      "      fromRequires: [{matchLabels: {env: prod}}]",
      "      toPorts: [{ports: [{port: '53', protocol: UDP}]}]",
      "    - fromCIDR: [10.0.0.0/8]",
      "    - fromEntities: [cluster]",
      "    - fromNodes: [{matchLabels: {a: b}}]",
      "  ingressDeny:",
      "    - fromCIDRSet: [{cidr: 0.0.0.0/0}]",
      "      toPorts: [{ports: [{port: '22'}]}]",
      "status: {derivativePolicies: {x: {}}}",
      "",
    ].join("\n");
    expect(await unknownFields({ "p.yaml": text })).toEqual([]);
  });

  it("reads every spec of `specs` and clusterwide policies, as rendered (merge keys expanded)", async () => {
    const text = [
      "apiVersion: cilium.io/v2",
      "kind: CiliumClusterwideNetworkPolicy",
      "metadata: {name: cw}",
      "specs:",
      "  - nodeSelector: {matchLabels: {role: worker}}",
      "    ingress: [{fromEntities: [cluster]}]",
      "  - endpointSelector: {}",
      "    egress:",
      "      - &base",
      "        toEndpoints: [{}]",
      "        toPort: [{ports: [{port: '80'}]}]", // 11:9
      "      - <<: *base",
      "        toEntities: [world]",
      "",
    ].join("\n");
    const found = await unknownFields({ "cw.yaml": text });
    // The anchored rule's slip, once where it is written and once at the merge key that reads it.
    expect(found.map(({ at }) => at)).toEqual(["11:9", "12:9"]);
    expect(found[0]!.message).toContain("`specs[1].egress[0]`");
    expect(found[1]!.message).toContain("`specs[1].egress[1]`");
  });

  it("leaves kustomize's strategic-merge directives in a patch file alone", async () => {
    const patch = cnp(
      "patched",
      "shop",
      ["  egress:", "    - $patch: replace", "      toEntities: [world]"].join("\n"),
    );
    expect(await unknownFields({ "p.yaml": patch })).toEqual([]);
  });

  it("leaves keys holding Flux variables alone, and says nothing when turned off", async () => {
    const variable = cnp(
      "vars",
      "shop",
      ["  egress:", "    - toEndpoints: [{matchLabels: {app: x}}]", "      ${EXTRA}: []"].join("\n"),
    );
    expect(await unknownFields({ "p.yaml": variable })).toEqual([]);
    const slip = cnp("slip", "shop", ["  egress:", "    - toEndpoint: [{}]"].join("\n"));
    expect(await unknownFields({ "p.yaml": slip })).toHaveLength(1);
    expect(await unknownFields({ "p.yaml": slip }, { rules: { [RULE]: "off" } })).toEqual([]);
  });
});
