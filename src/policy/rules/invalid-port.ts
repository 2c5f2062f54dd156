// toPorts entries Cilium rejects at load time (pkg/policy/api/rule_validation.go, PortRule and PortProtocol
// validation) or the CRD schema rejects at apply time (protocol enum).
import { isScalar } from "yaml";
import type { Node, YAMLMap } from "yaml";
import { rulesOf } from "../read/policy.js";
import type { PolicyRule, PolicyRuleContext } from "./rule.js";
import { mapAt, mapItems, pairOf, scalarAt, seqItems, uncheckedAt } from "./yaml-access.js";

/** Cilium's maxPorts: more ports in one toPorts entry is rejected ("too many ports, the max is 40"). */
const MAX_PORTS_PER_ENTRY = 40;
/** The protocols the CRD schema's enum accepts (Cilium's ParseL4Proto also upper-cases, the API server does not). */
export const PROTOCOLS = ["TCP", "UDP", "SCTP", "ANY"] as const;
/** Cilium's iana.IsSvcName: 1-15 characters, letters, digits and non-consecutive inner dashes, one letter at least. */
const SERVICE_NAME = /^([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$/;
const L7_KEYS = ["http", "kafka", "dns", "l7proto"] as const;
/**
 * IP protocols without ports that recent Cilium accepts in toPorts when started with --enable-extended-ip-protocols
 * (isExtendedIPProtocol in rule_validation.go): the port must then be empty or 0.
 */
const EXTENDED_PROTOCOLS = ["VRRP", "IGMP", "GRE", "IPIP", "IPV6", "ESP", "AH"] as const;

export function isPortName(value: string): boolean {
  return value.length > 0 && value.length <= 15 && SERVICE_NAME.test(value);
}

export type PortValue =
  | { readonly kind: "number"; readonly port: number }
  | { readonly kind: "name" }
  | { readonly kind: "octal"; readonly port: number }
  | { readonly kind: "invalid"; readonly reason: string };

/**
 * Reads a port as Cilium does: an IANA service name first, else Go's strconv.ParseUint(port, 0, 16), where a
 * leading 0 means octal ("010" is 8).
 */
export function readPort(value: unknown): PortValue {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0 && value <= 65535
      ? { kind: "number", port: value }
      : { kind: "invalid", reason: "is not a port number between 1 and 65535" };
  }
  if (typeof value !== "string" || value === "") return { kind: "invalid", reason: "is not a port number or name" };
  if (isPortName(value)) return { kind: "name" };
  if (/^0[0-9]+$/.test(value)) {
    return /^0[0-7]+$/.test(value)
      ? { kind: "octal", port: parseInt(value, 8) }
      : { kind: "invalid", reason: "starts with 0, so Cilium reads it as octal, and it is not an octal number" };
  }
  if (/^[0-9]+$/.test(value) && Number(value) <= 65535) return { kind: "number", port: Number(value) };
  return {
    kind: "invalid",
    reason:
      "is neither a port number (1–65535) nor a port name (up to 15 letters, digits and single inner dashes, with a letter)",
  };
}

function show(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}

function l7KindsOf(portRule: YAMLMap): string[] {
  const rules = mapAt(portRule, "rules");
  if (!rules) return [];
  return L7_KEYS.filter((key) => {
    const value = rules.get(key, true);
    return value !== undefined && !(isScalar(value) && (value.value === null || value.value === ""));
  });
}

function checkPortRule(context: PolicyRuleContext, portRule: YAMLMap): void {
  const portsAt = pairOf(portRule, "ports");
  const ports = mapItems(portRule, "ports");
  const l7 = l7KindsOf(portRule);
  const rules = mapAt(portRule, "rules");
  // Cilium's hasDNSRules is a non-empty dns list; an empty one still counts as "L7 rules present".
  const hasDns = rules !== undefined && seqItems(rules, "dns") !== undefined;
  const otherL7 = l7.filter((kind) => kind !== "dns");

  if (portsAt && ports.length > MAX_PORTS_PER_ENTRY) {
    context.report({
      at: portsAt,
      message: `This toPorts entry lists ${ports.length} ports and Cilium rejects more than ${MAX_PORTS_PER_ENTRY} ("too many ports"), so the whole policy is not loaded; split it into several toPorts entries.`,
    });
  }

  for (const entry of ports) {
    // A `${VAR}` nothing defines: not judged (unchecked-variables says so).
    if (uncheckedAt(entry, "port") || uncheckedAt(entry, "protocol") || uncheckedAt(entry, "endPort")) continue;
    const portAt = pairOf(entry, "port");
    const raw = scalarAt(entry, "port");
    const port = readPort(raw);
    const at: Node | NonNullable<typeof portAt> = portAt ?? entry;
    const protocolName = String(scalarAt(entry, "protocol") ?? "").toUpperCase();
    if ((EXTENDED_PROTOCOLS as readonly string[]).includes(protocolName)) {
      if (raw !== undefined && raw !== null && raw !== "" && raw !== "0" && raw !== 0) {
        context.report({
          at,
          message: `Protocol ${protocolName} has no ports and Cilium rejects a port with it ("port must be empty or 0"); remove port ${show(raw)}.`,
        });
      }
      continue;
    }
    if (port.kind === "invalid") {
      const what =
        raw === undefined || raw === null || raw === "" ? "The port is missing" : `Port ${show(raw)} ${port.reason}`;
      context.report({
        at,
        message: `${what}, so Cilium rejects the whole policy; write a number from 1 to 65535 or a container port name.`,
      });
      continue;
    }
    if (typeof raw === "number" && port.kind === "number") {
      // The CRD types port as a string: `port: 80` fails at apply time ("must be of type string").
      context.report({
        at,
        message: `Port ${raw} is written as a number, and the API server rejects it (the CRD types port as a string: "must be of type string"); quote it: "${raw}".`,
      });
    }
    if (port.kind === "octal") {
      context.report({
        at,
        message: `Port ${show(raw)} starts with 0, so Cilium reads it as octal port ${port.port}; write ${port.port} if that is meant, or drop the leading zeros.`,
      });
    }
    const number = port.kind === "name" ? undefined : port.port;
    if (number === 0 && l7.length > 0) {
      context.report({
        at,
        message: `Port 0 means all ports, and Cilium rejects L7 rules on it ("L7 rules can not be used when a port is 0"); name the ports the ${l7.join("/")} rules apply to.`,
      });
    }

    const endPortAt = pairOf(entry, "endPort");
    const endPort = scalarAt(entry, "endPort");
    if (endPortAt && endPort !== undefined && endPort !== null) {
      if (typeof endPort !== "number" || !Number.isInteger(endPort) || endPort < 0 || endPort > 65535) {
        context.report({
          at: endPortAt,
          message: `endPort ${show(endPort)} is not a port number; write a number from 1 to 65535 (at least port).`,
        });
      } else if (number !== undefined && number > 0 && endPort > 0 && endPort < number) {
        context.report({
          at: endPortAt,
          message: `endPort ${endPort} is below port ${number}, so the range is inverted and does not cover the ports meant; set endPort to at least ${number} or remove it.`,
        });
      } else if (hasDns && number !== undefined && endPort > number) {
        context.report({
          at: endPortAt,
          message: `DNS rules do not support port ranges and Cilium rejects this one (port ${number} to ${endPort}); remove endPort and use port 53.`,
        });
      }
    }

    const protocolAt = pairOf(entry, "protocol");
    const protocolRaw = scalarAt(entry, "protocol");
    let protocol = "ANY";
    if (protocolAt && protocolRaw !== undefined && protocolRaw !== null && protocolRaw !== "") {
      const upper = String(protocolRaw).toUpperCase();
      if ((PROTOCOLS as readonly string[]).includes(upper)) {
        protocol = upper;
        if (protocolRaw !== upper) {
          context.report({
            at: protocolAt,
            message: `Protocol ${show(protocolRaw)} must be written ${upper}: the CiliumNetworkPolicy schema only accepts ${PROTOCOLS.join(", ")}, so the API server rejects the manifest.`,
          });
        }
      } else {
        protocol = upper;
        context.report({
          at: protocolAt,
          message: upper.startsWith("ICMP")
            ? `Protocol ${show(protocolRaw)} is not accepted in toPorts; match ICMP with an \`icmps\` block in a separate rule.`
            : `Protocol ${show(protocolRaw)} is unknown; use one of ${PROTOCOLS.join(", ")} (or omit it for any).`,
        });
      }
    }
    // Cilium: "L7 rules can only apply to TCP (not …) except for DNS rules"; an omitted protocol is ANY.
    if (otherL7.length > 0 && !hasDns && protocol !== "TCP" && (PROTOCOLS as readonly string[]).includes(protocol)) {
      context.report({
        at: protocolAt ?? at,
        message: `${otherL7.join("/")} rules only apply to TCP and Cilium rejects them on protocol ${protocol}${protocolAt ? "" : " (the default when protocol is omitted)"}; set protocol: TCP.`,
      });
    }
  }

  if (l7.includes("dns")) {
    const rulesAt = pairOf(portRule, "rules");
    if (ports.length === 0) {
      context.report({
        at: rulesAt ?? portRule,
        message: `DNS rules need an explicit port and Cilium rejects them without one ("port 53 must be specified for DNS rules"); add ports: [{port: "53", protocol: ANY}].`,
      });
    }
  }
}

export const invalidPort: PolicyRule = {
  meta: {
    id: "invalid-port",
    defaultSeverity: "error",
    description:
      "A toPorts entry Cilium or the API server rejects: bad port or protocol, inverted range, over 40 ports, L7 rules on non-TCP, DNS rules without a port.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    for (const rule of rulesOf(context.policy)) {
      for (const portRule of mapItems(rule.node, "toPorts")) checkPortRule(context, portRule);
    }
  },
};
