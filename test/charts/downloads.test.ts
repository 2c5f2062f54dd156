// Downloads a pull request names are untrusted: only https:// and oci://, public addresses only (checked after DNS
// resolution and on every redirect), a size cap, and credentials for their own origin only.
import type { LookupAddress } from "node:dns";
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { forbiddenAddressReason } from "../../src/charts/address.js";
import { authorizationFor, parseCredentials } from "../../src/charts/credentials.js";
import { guardedGet } from "../../src/charts/guarded-fetch.js";
import type { NetworkPolicy } from "../../src/charts/guarded-fetch.js";
import { httpRepository } from "../../src/charts/remote.js";
import { hasHelm, hasSharedCharts, SHARED_CHARTS_DIR } from "../helpers/external.js";
import { startHelmRepository } from "../helpers/helm-repository.js";
import type { HelmRepositoryServer } from "../helpers/helm-repository.js";

describe("forbidden addresses", () => {
  test.each([
    ["127.0.0.1", "a loopback address"],
    ["127.8.9.10", "a loopback address"],
    ["::1", "a loopback address"],
    ["::ffff:127.0.0.1", "a loopback address"],
    ["::ffff:7f00:1", "a loopback address"],
    ["0.0.0.0", "an unspecified address"],
    ["::", "an unspecified address"],
    ["10.0.0.1", "a private address"],
    ["172.31.255.255", "a private address"],
    ["192.168.1.1", "a private address"],
    ["::ffff:192.168.1.1", "a private address"],
    ["fd12:3456::1", "a private address"],
    ["169.254.169.254", "a metadata address"],
    ["fd00:ec2::254", "a metadata address"],
    ["169.254.1.1", "a link-local address"],
    ["fe80::1", "a link-local address"],
    ["fe80::1%eth0", "a link-local address"],
    ["100.64.0.1", "a carrier-grade NAT address"],
    ["224.0.0.1", "a multicast address"],
    ["ff02::1", "a multicast address"],
    ["64:ff9b::a00:1", "an address-translation address"],
    ["2002:7f00:1::", "an address-translation address"],
    ["::ffff:0:7f00:1", "an address-translation address"],
    ["::ffff:0:169.254.169.254", "an address-translation address"],
    ["255.255.255.255", "a reserved address"],
  ])("%s is %s", (address, reason) => {
    expect(forbiddenAddressReason(address)).toBe(reason);
  });

  test.each(["140.82.112.3", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "172.32.0.1"])(
    "%s is public",
    (address) => {
      expect(forbiddenAddressReason(address)).toBeNull();
    },
  );
});

describe("credentials", () => {
  const credentials = parseCredentials(
    JSON.stringify([
      { url: "https://charts.example.com/private", username: "u", password: "p" },
      { url: "https://charts.example.com/private/team", token: "t" },
      { url: "oci://registry.example.com/org", token: "o" },
    ]),
  );
  test("go to their own origin under their path only, the longest prefix winning", () => {
    expect(authorizationFor(credentials, new URL("https://charts.example.com/private/index.yaml"))).toBe(
      `Basic ${btoa("u:p")}`,
    );
    expect(authorizationFor(credentials, new URL("https://charts.example.com/private/team/x.tgz"))).toBe("Bearer t");
    expect(authorizationFor(credentials, new URL("https://charts.example.com/privateer/index.yaml"))).toBeUndefined();
    expect(
      authorizationFor(credentials, new URL("https://charts.example.com:8443/private/index.yaml")),
    ).toBeUndefined();
    expect(authorizationFor(credentials, new URL("https://cdn.example.com/private/x.tgz"))).toBeUndefined();
    expect(authorizationFor(credentials, new URL("https://registry.example.com/org/chart"))).toBe("Bearer o");
  });
  test("are refused unless https:// or oci:// and complete", () => {
    expect(() => parseCredentials('[{"url":"http://x.example.com","token":"t"}]')).toThrow(/only https/);
    expect(() => parseCredentials('[{"url":"https://x.example.com"}]')).toThrow(/needs "token"/);
    expect(() => parseCredentials("{}")).toThrow(/list/);
  });
});

const ready = hasSharedCharts() && hasHelm();

describe.skipIf(!ready)("guarded downloads against a local Helm repository", () => {
  let repo: HelmRepositoryServer;
  let other: HelmRepositoryServer;
  const limits = { archiveBytes: 10 * 1024 * 1024, indexBytes: 1024 * 1024, timeoutMs: 10_000 };
  const testNetwork: NetworkPolicy = { testOnlyAllowLoopback: true };
  const archives = ready ? readdirSync(SHARED_CHARTS_DIR).filter((name) => name.endsWith(".tgz")) : [];

  beforeAll(async () => {
    repo = await startHelmRepository(archives.map((archive) => join(SHARED_CHARTS_DIR, archive)));
    other = await startHelmRepository([join(SHARED_CHARTS_DIR, "vault-0.28.1.tgz")], "127.0.0.2");
  });
  afterAll(async () => {
    await repo?.close();
    await other?.close();
  });

  test("without the test-only option, loopback and http:// are refused before any request", async () => {
    const before = repo.requests.length;
    const https = repo.url.replace("http://", "https://");
    await expect(httpRepository(https, { network: {}, credentials: [], limits }).versions("vault")).rejects.toThrow(
      "127.0.0.1 is a loopback address",
    );
    await expect(httpRepository(repo.url, { network: {}, credentials: [], limits }).versions("vault")).rejects.toThrow(
      "http:// is not allowed (only https:// and oci://)",
    );
    // Other spellings of the same address, as the URL parser normalises them
    for (const host of ["2130706433", "0x7f.0.0.1", "127.1", "[::1]"]) {
      await expect(
        guardedGet(new URL(`https://${host}/index.yaml`), { maxBytes: 1000, timeoutMs: 1000, network: {} }),
      ).rejects.toThrow("a loopback address");
    }
    const mapped = https.replace("127.0.0.1", "[::ffff:127.0.0.1]");
    await expect(guardedGet(new URL(mapped), { maxBytes: 1000, timeoutMs: 1000, network: {} })).rejects.toThrow(
      "a loopback address",
    );
    expect(repo.requests.length).toBe(before);
  });

  test("a host name is checked after DNS resolution: one forbidden address refuses it", async () => {
    const lookup = ((_host: string, _options: unknown, callback: (e: null, a: LookupAddress[]) => void) =>
      callback(null, [
        { address: "140.82.112.3", family: 4 },
        { address: "10.1.2.3", family: 4 },
      ])) as unknown as NetworkPolicy["lookup"];
    await expect(
      guardedGet(new URL("https://charts.internal.example/index.yaml"), {
        maxBytes: 1000,
        timeoutMs: 2000,
        network: { lookup },
      }),
    ).rejects.toThrow("charts.internal.example resolves to 10.1.2.3, a private address");
    await expect(
      guardedGet(new URL("https://localhost/index.yaml"), { maxBytes: 1000, timeoutMs: 2000, network: {} }),
    ).rejects.toThrow("localhost is a loopback address");
  });

  test("every redirect is checked like the first URL", async () => {
    repo.redirect("/meta.yaml", "http://169.254.169.254/latest/meta-data/");
    await expect(
      guardedGet(new URL(`${repo.url}/meta.yaml`), { maxBytes: 1000, timeoutMs: 2000, network: testNetwork }),
    ).rejects.toThrow("redirected to http://169.254.169.254: 169.254.169.254 is a metadata address");
    repo.redirect("/private.yaml", "https://10.0.0.1/x");
    await expect(
      guardedGet(new URL(`${repo.url}/private.yaml`), { maxBytes: 1000, timeoutMs: 2000, network: testNetwork }),
    ).rejects.toThrow("10.0.0.1 is a private address");
  });

  test("a server that does not answer in time is given up on", async () => {
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      await expect(
        guardedGet(new URL(`http://127.0.0.1:${port}/index.yaml`), {
          maxBytes: 1000,
          timeoutMs: 300,
          network: testNetwork,
        }),
      ).rejects.toThrow("timed out after 300 ms");
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test("an archive above the size cap is refused", async () => {
    const source = httpRepository(repo.url, {
      network: testNetwork,
      credentials: [],
      limits: { ...limits, archiveBytes: 10_000 },
    });
    expect(await source.versions("vault")).toEqual(["0.28.1"]);
    await expect(source.archive("vault", "0.28.1")).rejects.toThrow("larger than the limit of 10000 bytes");
  });

  test("credentials go to their own origin, never along a redirect to another", async () => {
    const credentials = [{ url: new URL(repo.url), authorization: "Bearer s3cret" }];
    repo.redirect("/vault-0.28.1.tgz", `${other.url}/vault-0.28.1.tgz`);
    const start = repo.requests.length;
    const source = httpRepository(repo.url, { network: testNetwork, credentials, limits });
    const archive = await source.archive("vault", "0.28.1");
    expect(archive.length).toBe(48908);
    expect(repo.requests.slice(start)).toEqual([
      { path: "/index.yaml", authorization: "Bearer s3cret" },
      { path: "/vault-0.28.1.tgz", authorization: "Bearer s3cret" },
    ]);
    expect(other.requests.at(-1)).toEqual({ path: "/vault-0.28.1.tgz", authorization: undefined });
  });
});
