// The fields of a Cilium policy (cilium.io/v2 CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy, which share
// one schema): what the CRD's structural schema knows, so that a field it does not know can be named. The API server
// refuses such a field under strict field validation (kubectl's default, server-side apply) and drops it otherwise.
// test/policy/rules/policy-fields.test.ts holds this tree equal to the CRD schema in ../shared/cilium/schemas.

/** A value the schema describes: a scalar, a map with keys of its own (labels), an object of named fields, a list. */
export type FieldShape =
  | { readonly kind: "scalar" }
  | { readonly kind: "labels" }
  | { readonly kind: "object"; readonly fields: Readonly<Record<string, FieldShape>> }
  | { readonly kind: "list"; readonly items: FieldShape };

const scalar: FieldShape = { kind: "scalar" };
const labels: FieldShape = { kind: "labels" };
const object = (fields: Record<string, FieldShape>): FieldShape => ({ kind: "object", fields });
const list = (items: FieldShape): FieldShape => ({ kind: "list", items });

/** Everything a field holds that this tool does not look into (metadata, status). */
const opaque: FieldShape = labels;

const selector = object({
  matchLabels: labels,
  matchExpressions: list(object({ key: scalar, operator: scalar, values: list(scalar) })),
});
const cidrRule = object({ cidr: scalar, cidrGroupRef: scalar, cidrGroupSelector: selector, except: list(scalar) });
const fqdn = object({ matchName: scalar, matchPattern: scalar });
const groups = object({
  aws: object({ labels, region: scalar, securityGroupsIds: list(scalar), securityGroupsNames: list(scalar) }),
});
const secretRef = object({ name: scalar, namespace: scalar });
const tls = object({ certificate: scalar, privateKey: scalar, secret: secretRef, trustedCA: scalar });
const ports = list(object({ port: scalar, endPort: scalar, protocol: scalar }));
const l7Rules = object({
  dns: list(fqdn),
  http: list(
    object({
      headerMatches: list(object({ mismatch: scalar, name: scalar, secret: secretRef, value: scalar })),
      headers: list(scalar),
      host: scalar,
      method: scalar,
      path: scalar,
    }),
  ),
  kafka: list(object({ apiKey: scalar, apiVersion: scalar, clientID: scalar, role: scalar, topic: scalar })),
  l7: list(labels),
  l7proto: scalar,
});
const portRule = object({
  listener: object({ envoyConfig: object({ kind: scalar, name: scalar }), name: scalar, priority: scalar }),
  originatingTLS: tls,
  ports,
  rules: l7Rules,
  serverNames: list(scalar),
  terminatingTLS: tls,
});
const services = object({
  k8sService: object({ namespace: scalar, serviceName: scalar }),
  k8sServiceSelector: object({ namespace: scalar, selector }),
});
const icmps = list(object({ fields: list(object({ family: scalar, type: scalar })) }));
const authentication = object({ mode: scalar });

const egressPeers = {
  toCIDR: list(scalar),
  toCIDRSet: list(cidrRule),
  toEndpoints: list(selector),
  toEntities: list(scalar),
  toGroups: list(groups),
  toNodes: list(selector),
  toRequires: list(selector),
  toServices: list(services),
};
const ingressPeers = {
  fromCIDR: list(scalar),
  fromCIDRSet: list(cidrRule),
  fromEndpoints: list(selector),
  fromEntities: list(scalar),
  fromGroups: list(groups),
  fromNodes: list(selector),
  fromRequires: list(selector),
};

/** Deny rules have no L7 parts, no authentication and (egress) no toFQDNs: only ports. */
const denyPortRule = object({ ports });

export const EGRESS_RULE = object({
  ...egressPeers,
  authentication,
  icmps,
  toFQDNs: list(fqdn),
  toPorts: list(portRule),
});
export const EGRESS_DENY_RULE = object({ ...egressPeers, icmps, toPorts: list(denyPortRule) });
export const INGRESS_RULE = object({ ...ingressPeers, authentication, icmps, toPorts: list(portRule) });
export const INGRESS_DENY_RULE = object({ ...ingressPeers, icmps, toPorts: list(denyPortRule) });

export const POLICY_SPEC = object({
  description: scalar,
  egress: list(EGRESS_RULE),
  egressDeny: list(EGRESS_DENY_RULE),
  enableDefaultDeny: object({ egress: scalar, ingress: scalar }),
  endpointSelector: selector,
  ingress: list(INGRESS_RULE),
  ingressDeny: list(INGRESS_DENY_RULE),
  labels: list(object({ key: scalar, source: scalar, value: scalar })),
  log: object({ value: scalar }),
  nodeSelector: selector,
});

/** A whole policy object. */
export const POLICY = object({
  apiVersion: scalar,
  kind: scalar,
  metadata: opaque,
  spec: POLICY_SPEC,
  specs: list(POLICY_SPEC),
  status: opaque,
});
