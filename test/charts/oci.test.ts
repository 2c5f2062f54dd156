// OCI registries: a small stand-in for the distribution API on 127.0.0.1 (tags, manifest, blob behind a bearer
// token, the blob redirected to another host as registries redirect to their CDN), reached through the renderer's
// test-only loopback option; the chart is rendered by the real helm.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createChartRenderer } from "../../src/charts/renderer.js";
import { diskRepositoryCharts } from "../../src/charts/repository-charts.js";
import { hasHelm, hasSharedCharts, SHARED_CHARTS_DIR } from "../helpers/external.js";

const ready = hasSharedCharts() && hasHelm();

async function serve(
  host: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  return { server, url: `http://${host}:${typeof address === "object" && address ? address.port : 0}` };
}

describe.skipIf(!ready)("charts from an OCI registry", () => {
  const archive = ready ? readFileSync(join(SHARED_CHARTS_DIR, "vault-0.28.1.tgz")) : Buffer.alloc(0);
  const digest = `sha256:${createHash("sha256").update(archive).digest("hex")}`;
  const seen: Array<{ host: string; path: string; authorization: string | undefined }> = [];
  const temp = mkdtempSync(join(tmpdir(), "cpb-oci-"));
  let registry: { server: Server; url: string };
  let cdn: { server: Server; url: string };

  beforeAll(async () => {
    cdn = await serve("127.0.0.2", (req, res) => {
      seen.push({ host: "cdn", path: req.url ?? "", authorization: req.headers.authorization });
      res.writeHead(200).end(archive);
    });
    registry = await serve("127.0.0.1", (req, res) => {
      const path = req.url ?? "";
      seen.push({ host: "registry", path, authorization: req.headers.authorization });
      if (path.startsWith("/token")) return void res.writeHead(200).end(JSON.stringify({ token: "pull-token" }));
      if (req.headers.authorization !== "Bearer pull-token") {
        return void res
          .writeHead(401, { "www-authenticate": `Bearer realm="${registry.url}/token",service="test-registry"` })
          .end();
      }
      if (path === "/v2/charts/vault/tags/list?n=10000") {
        return void res
          .writeHead(200)
          .end(JSON.stringify({ name: "charts/vault", tags: ["0.27.0", "0.28.1", "latest"] }));
      }
      if (path === "/v2/charts/vault/manifests/0.28.1") {
        const layer = {
          mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
          digest,
          size: archive.length,
        };
        return void res.writeHead(200).end(JSON.stringify({ schemaVersion: 2, layers: [layer] }));
      }
      if (path === `/v2/charts/vault/blobs/${digest}`)
        return void res.writeHead(307, { location: `${cdn.url}/blob` }).end();
      res.writeHead(404).end();
    });
  });
  afterAll(async () => {
    for (const { server } of [registry, cdn]) await new Promise((resolve) => server?.close(resolve));
    rmSync(temp, { recursive: true, force: true });
  });

  test(
    "a range picks the highest tag; the token goes to the registry only, never to the CDN it redirects to",
    { timeout: 30_000 },
    async () => {
      const repository = registry.url.replace("http://", "oci://") + "/charts";
      const renderer = createChartRenderer({
        cacheDir: join(temp, "cache"),
        downloads: true,
        network: { testOnlyAllowLoopback: true },
        repositoryCharts: diskRepositoryCharts(temp),
        credentials: [
          { url: new URL(registry.url.replace("http://", "https://") + "/charts"), authorization: "Basic dTpw" },
        ],
      });
      const [result] = await renderer.render([
        {
          key: "vault",
          installer: "HelmRelease",
          releaseName: "vault",
          namespace: "vault",
          chart: { kind: "repository", repository, name: "vault", version: "~0.28.0" },
          values: {},
          apiVersions: [],
          location: { file: "vault.yaml", line: 1, column: 1 },
        },
      ]);
      expect(result).toMatchObject({ ok: true, chart: "vault", version: "0.28.1", from: repository });
      expect(result!.ok && result!.manifests).toContain("name: vault-agent-injector-svc");
      const tokenRequest = seen.find((r) => r.path.startsWith("/token"));
      expect(tokenRequest?.path).toContain("scope=repository%3Acharts%2Fvault%3Apull");
      // The configured credential goes to the token service because it is the registry's own origin.
      expect(tokenRequest?.authorization).toBe("Basic dTpw");
      expect(seen.filter((r) => r.host === "cdn")).toEqual([{ host: "cdn", path: "/blob", authorization: undefined }]);
      expect(
        seen.filter((r) => r.host === "registry" && r.authorization === "Bearer pull-token").map((r) => r.path),
      ).toEqual([
        "/v2/charts/vault/tags/list?n=10000",
        "/v2/charts/vault/manifests/0.28.1",
        `/v2/charts/vault/blobs/${digest}`,
      ]);
    },
  );
});
