// A local HTTP Helm repository for tests: the given chart archives plus an index.yaml that `helm repo index`
// generates, served on 127.0.0.1 (reachable only through the renderer's test-only loopback option). Records every
// request (path and Authorization header) so tests can assert what was fetched and with which credentials.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { HELM_BIN } from "./external.js";

export interface RecordedRequest {
  readonly path: string;
  readonly authorization: string | undefined;
}

export interface HelmRepositoryServer {
  readonly url: string;
  readonly dir: string;
  readonly requests: RecordedRequest[];
  /** Answers `path` with a redirect to `location` instead of the file. */
  redirect(path: string, location: string): void;
  close(): Promise<void>;
}

export async function startHelmRepository(
  archives: readonly string[],
  host = "127.0.0.1",
): Promise<HelmRepositoryServer> {
  const dir = mkdtempSync(join(tmpdir(), "cpb-helm-repo-"));
  for (const archive of archives) copyFileSync(archive, join(dir, basename(archive)));
  const requests: RecordedRequest[] = [];
  const redirects = new Map<string, string>();
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    requests.push({ path, authorization: request.headers.authorization });
    const location = redirects.get(path);
    if (location) {
      response.writeHead(302, { location }).end();
      return;
    }
    const file = join(dir, basename(path));
    if (path.includes("..") || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const url = `http://${host}:${typeof address === "object" && address ? address.port : 0}`;
  execFileSync(HELM_BIN, ["repo", "index", dir, "--url", url], { stdio: "ignore", env: { ...process.env, HOME: dir } });
  return {
    url,
    dir,
    requests,
    redirect: (path, location) => void redirects.set(path, location),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
