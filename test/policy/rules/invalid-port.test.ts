import { describe, expect, it } from "vitest";
import { isPortName, readPort } from "../../../src/policy/rules/invalid-port.js";
import { cnp, findings } from "./scan.js";

const RULE = "invalid-port";

/** One egress rule with one toPorts entry; its `ports:` list starts at line 13. */
function withPorts(ports: string[], extra: string[] = []): string {
  return cnp(
    "ports",
    "app",
    ["  egress:", "    - toEndpoints: [{}]", "      toPorts:", "        - ports:", ...ports, ...extra].join("\n"),
  );
}

describe("readPort (Cilium's port parsing)", () => {
  it("reads numbers, names, octal and garbage as Cilium does", () => {
    expect(readPort("8200")).toEqual({ kind: "number", port: 8200 });
    expect(readPort(443)).toEqual({ kind: "number", port: 443 });
    expect(readPort("0")).toEqual({ kind: "number", port: 0 });
    expect(readPort("http-metrics")).toEqual({ kind: "name" });
    expect(readPort("0x10")).toEqual({ kind: "name" }); // IANA names win over numeric literals
    expect(readPort("010")).toEqual({ kind: "octal", port: 8 });
    expect(readPort("08").kind).toBe("invalid");
    expect(readPort("65536").kind).toBe("invalid");
    expect(readPort(70000).kind).toBe("invalid");
    expect(readPort("80-90").kind).toBe("invalid");
    expect(readPort("").kind).toBe("invalid");
  });

  it("recognises IANA service names", () => {
    expect(isPortName("http")).toBe(true);
    expect(isPortName("HTTP")).toBe(true); // Cilium lower-cases names
    expect(isPortName("a-b-c")).toBe(true);
    expect(isPortName("123")).toBe(false);
    expect(isPortName("-http")).toBe(false);
    expect(isPortName("http-")).toBe(false);
    expect(isPortName("ht--tp")).toBe(false);
    expect(isPortName("my_port")).toBe(false);
    expect(isPortName("a".repeat(16))).toBe(false);
  });
});

describe(RULE, () => {
  it("reports a port that is neither a number nor a name at its key", async () => {
    const result = await findings(RULE, {
      "p.yaml": withPorts(["            - port: '80-90'", "              protocol: TCP"]),
    });
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ severity: "error", line: 14, column: 15, policy: "app/ports" });
    expect(result[0]?.message).toContain('Port "80-90" is neither a port number');
  });

  it("reports out-of-range numbers, a missing port and octal-looking strings", async () => {
    const result = await findings(RULE, {
      "p.yaml": withPorts(["            - port: 70000", "            - protocol: TCP", "            - port: '010'"]),
    });
    expect(result.map((f) => [f.line, f.severity])).toEqual([
      [14, "error"],
      [15, "error"],
      [16, "error"],
    ]);
    expect(result[1]?.message).toContain("The port is missing");
    expect(result[2]?.message).toContain("reads it as octal port 8");
  });

  it("accepts numeric strings, names, port 0 without L7 rules and any protocol case Cilium's CRD allows", async () => {
    const ok = withPorts([
      "            - port: '8200'",
      "              protocol: TCP",
      "            - port: '53'",
      "              protocol: UDP",
      "            - port: metrics",
      "              protocol: SCTP",
      "            - port: '0'",
      "              protocol: ANY",
      "            - port: '8000'",
      "              endPort: 8100",
    ]);
    expect(await findings(RULE, { "p.yaml": ok })).toEqual([]);
  });

  it("reports a port written as a YAML number, which the CRD's string type rejects", async () => {
    const result = await findings(RULE, {
      "p.yaml": withPorts(["            - port: 8200", "              protocol: TCP"]),
    });
    expect(result.map((f) => [f.line, f.column, f.severity])).toEqual([[14, 15, "error"]]);
    expect(result[0]?.message).toContain('quote it: "8200"');
  });

  it("reports an inverted range, unknown and lower-case protocols, and ICMP", async () => {
    const result = await findings(RULE, {
      "p.yaml": withPorts([
        "            - port: '9000'",
        "              endPort: 8000", // 15
        "            - port: '80'",
        "              protocol: tcp", // 17
        "            - port: '80'",
        "              protocol: QUIC", // 19
        "            - port: '0'",
        "              protocol: ICMP", // 21
      ]),
    });
    expect(result.map((f) => [f.line, f.column])).toEqual([
      [15, 15],
      [17, 15],
      [19, 15],
      [21, 15],
    ]);
    expect(result[0]?.message).toContain("endPort 8000 is below port 9000");
    expect(result[1]?.message).toContain("must be written TCP");
    expect(result[2]?.message).toContain('Protocol "QUIC" is unknown');
    expect(result[3]?.message).toContain("icmps");
  });

  it("reports more than 40 ports in one entry at the ports key", async () => {
    const many = Array.from({ length: 41 }, (_, i) => `            - port: '${1000 + i}'`);
    const result = await findings(RULE, { "p.yaml": withPorts(many) });
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ line: 13, column: 11 });
    expect(result[0]?.message).toContain("41 ports");
    expect(await findings(RULE, { "p.yaml": withPorts(many.slice(0, 40)) })).toEqual([]);
  });

  it("reports L7 rules on a non-TCP or omitted protocol, and on port 0", async () => {
    const result = await findings(RULE, {
      "p.yaml": withPorts(
        ["            - port: '80'", "            - port: '0'", "              protocol: TCP"],
        ["          rules:", "            http: [{method: GET}]"],
      ),
    });
    expect(result.map((f) => f.line)).toEqual([14, 15]);
    expect(result[0]?.message).toContain("http rules only apply to TCP");
    expect(result[0]?.message).toContain("protocol ANY (the default when protocol is omitted)");
    expect(result[1]?.message).toContain("Port 0 means all ports");
  });

  it("accepts DNS rules on UDP/ANY port 53 and HTTP on TCP", async () => {
    const dns = withPorts(
      ["            - port: '53'", "              protocol: ANY"],
      ["          rules:", "            dns: [{matchPattern: '*'}]"],
    );
    const http = withPorts(
      ["            - port: '8080'", "              protocol: TCP"],
      ["          rules:", "            http: [{}]"],
    );
    expect(await findings(RULE, { "a.yaml": dns, "b.yaml": http })).toEqual([]);
  });

  it("reports DNS rules without ports and DNS port ranges (both rejected), accepts DNS on another port", async () => {
    const noPorts = cnp(
      "dns",
      "app",
      [
        "  egress:",
        "    - toEndpoints: [{}]",
        "      toPorts:",
        "        - rules:", // 13, column 11
        "            dns: [{matchPattern: '*'}]",
      ].join("\n"),
    );
    expect((await findings(RULE, { "p.yaml": noPorts })).map((f) => [f.line, f.column, f.severity])).toEqual([
      [13, 11, "error"],
    ]);
    const otherPort = withPorts(
      ["            - port: '5353'", "              protocol: UDP"],
      ["          rules:", "            dns: [{matchPattern: '*'}]"],
    );
    // Cilium only requires a port; OpenShift's DNS runs on 5353 (Cilium's own example does this).
    expect(await findings(RULE, { "p.yaml": otherPort })).toEqual([]);
    const range = withPorts(
      ["            - port: '53'", "              endPort: 54"],
      ["          rules:", "            dns: [{matchPattern: '*'}]"],
    );
    expect((await findings(RULE, { "p.yaml": range }))[0]?.message).toContain("DNS rules do not support port ranges");
  });

  it("accepts port-less extended IP protocols and rejects a port with them", async () => {
    const vrrp = withPorts(["            - protocol: VRRP", "            - protocol: GRE", "              port: '0'"]);
    expect(await findings(RULE, { "p.yaml": vrrp })).toEqual([]);
    const withPort = await findings(RULE, {
      "p.yaml": withPorts(["            - protocol: ESP", "              port: '50'"]),
    });
    expect(withPort.map((f) => [f.line, f.column])).toEqual([[15, 15]]);
    expect(withPort[0]?.message).toContain("Protocol ESP has no ports");
  });

  it("checks ingress and deny rules too, and can be turned off", async () => {
    const text = cnp(
      "deny",
      "app",
      ["  ingressDeny:", "    - fromEntities: [world]", "      toPorts: [{ports: [{port: '99999'}]}]"].join("\n"),
    );
    expect(await findings(RULE, { "p.yaml": text })).toHaveLength(1);
    expect(await findings(RULE, { "p.yaml": text }, { rules: { [RULE]: "off" } })).toEqual([]);
  });
});
