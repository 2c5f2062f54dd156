// Which network addresses a download named by a pull request may reach: public unicast only. The hosted app must not
// become a way into its own network (the cluster, the node, the cloud's metadata service).
import { BlockList, isIP } from "node:net";

type Subnet = readonly [address: string, prefix: number, family: "ipv4" | "ipv6"];

/** Forbidden ranges by the reason given for them. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match the IPv4 ranges. */
const FORBIDDEN: ReadonlyArray<readonly [reason: string, subnets: readonly Subnet[]]> = [
  [
    "a metadata address",
    [
      ["169.254.169.254", 32, "ipv4"],
      ["fd00:ec2::254", 128, "ipv6"],
      ["100.100.100.200", 32, "ipv4"],
    ],
  ],
  [
    "a loopback address",
    [
      ["127.0.0.0", 8, "ipv4"],
      ["::1", 128, "ipv6"],
    ],
  ],
  [
    "an unspecified address",
    [
      ["0.0.0.0", 8, "ipv4"],
      ["::", 128, "ipv6"],
    ],
  ],
  [
    "a private address",
    [
      ["10.0.0.0", 8, "ipv4"],
      ["172.16.0.0", 12, "ipv4"],
      ["192.168.0.0", 16, "ipv4"],
      ["fc00::", 7, "ipv6"],
      ["fec0::", 10, "ipv6"],
    ],
  ],
  [
    "a link-local address",
    [
      ["169.254.0.0", 16, "ipv4"],
      ["fe80::", 10, "ipv6"],
    ],
  ],
  ["a carrier-grade NAT address", [["100.64.0.0", 10, "ipv4"]]],
  [
    "a multicast address",
    [
      ["224.0.0.0", 4, "ipv4"],
      ["ff00::", 8, "ipv6"],
    ],
  ],
  [
    "a reserved address",
    [
      ["192.0.0.0", 24, "ipv4"],
      ["192.0.2.0", 24, "ipv4"],
      ["198.18.0.0", 15, "ipv4"],
      ["198.51.100.0", 24, "ipv4"],
      ["203.0.113.0", 24, "ipv4"],
      ["240.0.0.0", 4, "ipv4"],
      ["100::", 64, "ipv6"],
      ["2001:db8::", 32, "ipv6"],
    ],
  ],
  // Addresses that embed an IPv4 address another way than ::ffff: (NAT64, 6to4, Teredo, IPv4-compatible,
  // SIIT's IPv4-translated ::ffff:0:a.b.c.d) could lead
  // to any of the above through a translator: refused as a whole.
  [
    "an address-translation address",
    [
      ["64:ff9b::", 96, "ipv6"],
      ["64:ff9b:1::", 48, "ipv6"],
      ["2002::", 16, "ipv6"],
      ["2001::", 32, "ipv6"],
      ["::", 96, "ipv6"],
      ["::ffff:0:0:0", 96, "ipv6"],
    ],
  ],
];

const LISTS = FORBIDDEN.map(([reason, subnets]) => {
  const list = new BlockList();
  for (const [address, prefix, family] of subnets) list.addSubnet(address, prefix, family);
  return [reason, list] as const;
});

/** Why `address` (an IP literal) may not be reached, or null for a public unicast address. */
export function forbiddenAddressReason(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 0) return "not an IP address";
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const [reason, list] of LISTS) if (list.check(bare, type)) return reason;
  return null;
}

/** Loopback only: what the test-only option lets through (a Helm repository a test serves on 127.0.0.1). */
export function isLoopback(address: string): boolean {
  return forbiddenAddressReason(address) === "a loopback address";
}
