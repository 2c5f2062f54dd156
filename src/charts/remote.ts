// Chart repositories a release names: HTTP Helm repositories (index.yaml + archives) and OCI registries (the
// distribution API, the chart being the layer of media type application/vnd.cncf.helm.chart.content.v1.tar+gzip).
// Every request goes through guardedGet; every archive is checked against the digest its index or manifest gives.
import { parse } from "yaml";
import { authorizationFor } from "./credentials.js";
import type { ChartCredential } from "./credentials.js";
import { DownloadError, guardedGet, guardedGetOk } from "./guarded-fetch.js";
import type { FetchOptions, NetworkPolicy } from "./guarded-fetch.js";
import { sha256 } from "./sha256.js";

export interface DownloadLimits {
  readonly archiveBytes: number;
  readonly indexBytes: number;
  readonly timeoutMs: number;
}

export interface RemoteContext {
  readonly network: NetworkPolicy;
  readonly credentials: readonly ChartCredential[];
  readonly limits: DownloadLimits;
}

/** A chart repository: which versions of a chart it offers, and one version's archive. */
export interface RemoteRepository {
  versions(chart: string): Promise<string[]>;
  archive(chart: string, version: string): Promise<Buffer>;
}

function checkDigest(data: Buffer, expected: string | undefined, what: string): void {
  if (expected === undefined || expected === "") return;
  const hex = expected.replace(/^sha256:/, "").toLowerCase();
  if (sha256(data) !== hex) throw new DownloadError(`${what} does not match its digest ${expected}`);
}

interface IndexEntry {
  readonly version: string;
  readonly urls: readonly string[];
  readonly digest?: string;
}

/** An HTTP Helm repository: `<url>/index.yaml`, archives at the (possibly relative) URLs it lists. */
export function httpRepository(url: string, context: RemoteContext): RemoteRepository {
  const base = new URL(url.endsWith("/") ? url : `${url}/`);
  const authorize = (target: URL) => authorizationFor(context.credentials, target);
  let index: Promise<Map<string, IndexEntry[]>> | undefined;
  const loadIndex = async () => {
    const { body } = await guardedGetOk(new URL("index.yaml", base), {
      maxBytes: context.limits.indexBytes,
      timeoutMs: context.limits.timeoutMs,
      network: context.network,
      authorize,
    });
    let data: unknown;
    try {
      data = parse(body.toString("utf8"), { maxAliasCount: 1000 });
    } catch (error) {
      throw new DownloadError(`index.yaml is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
    }
    const entries = (data as { entries?: unknown } | null)?.entries;
    if (typeof entries !== "object" || entries === null) throw new DownloadError("index.yaml has no entries");
    const byName = new Map<string, IndexEntry[]>();
    for (const [name, list] of Object.entries(entries as Record<string, unknown>)) {
      if (!Array.isArray(list)) continue;
      byName.set(
        name,
        list.flatMap((entry: unknown) => {
          const { version, urls, digest } = (entry ?? {}) as Record<string, unknown>;
          if (typeof version !== "string" || !Array.isArray(urls)) return [];
          const strings = urls.filter((u): u is string => typeof u === "string");
          return [{ version, urls: strings, ...(typeof digest === "string" ? { digest } : {}) }];
        }),
      );
    }
    return byName;
  };
  const entries = async (chart: string) => {
    index ??= loadIndex();
    try {
      return (await index).get(chart) ?? [];
    } catch (error) {
      index = undefined; // a failed index is not remembered: the next release tries again
      throw error;
    }
  };
  return {
    async versions(chart) {
      return (await entries(chart)).map((entry) => entry.version);
    },
    async archive(chart, version) {
      const entry = (await entries(chart)).find((candidate) => candidate.version === version);
      const first = entry?.urls[0];
      if (!entry || first === undefined) throw new DownloadError(`index.yaml lists no archive for ${chart} ${version}`);
      let archiveUrl: URL;
      try {
        archiveUrl = new URL(first, base);
      } catch {
        throw new DownloadError(`index.yaml lists an invalid URL for ${chart} ${version}`);
      }
      const { body } = await guardedGetOk(archiveUrl, {
        maxBytes: context.limits.archiveBytes,
        timeoutMs: context.limits.timeoutMs,
        network: context.network,
        authorize,
      });
      checkDigest(body, entry.digest, `${chart}-${version}.tgz`);
      return body;
    },
  };
}

const HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json";

/** `oci://host[:port]/path`: the registry's https origin (http for loopback in tests) and the repository path. */
function ociParts(url: string, network: NetworkPolicy): { origin: URL; path: string } {
  const parsed = new URL(url.replace(/^oci:\/\//, "https://"));
  const loopbackTest =
    network.testOnlyAllowLoopback === true && /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/.test(parsed.hostname);
  const origin = new URL(`${loopbackTest ? "http" : "https"}://${parsed.host}`);
  return { origin, path: parsed.pathname.replace(/^\/+|\/+$/g, "") };
}

function bearerChallenge(header: string | undefined): Record<string, string> | null {
  if (!header || !/^bearer\s/i.test(header)) return null;
  const params: Record<string, string> = {};
  for (const match of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params[match[1]!.toLowerCase()] = match[2]!;
  return params.realm ? params : null;
}

/** An OCI registry holding Helm charts: tags are versions (Helm writes "+" as "_"). */
export function ociRepository(url: string, context: RemoteContext): RemoteRepository {
  const { origin, path } = ociParts(url, context.network);
  const tokens = new Map<string, string>();
  const base: Omit<FetchOptions, "maxBytes"> = { timeoutMs: context.limits.timeoutMs, network: context.network };

  const registryGet = async (chart: string, suffix: string, maxBytes: number, accept?: string) => {
    const repository = path === "" ? chart : `${path}/${chart}`;
    const target = new URL(`/v2/${repository}/${suffix}`, origin);
    // Credentials for oci://host/path apply to that registry host only; a token is sent only to the registry too.
    const configured = authorizationFor(context.credentials, new URL(`https://${origin.host}/${repository}`));
    const authorize = (at: URL) => (at.origin === origin.origin ? (tokens.get(repository) ?? configured) : undefined);
    const options = { ...base, maxBytes, authorize, ...(accept ? { accept } : {}) };
    let result = await guardedGet(target, options);
    if (result.status === 401 && !tokens.has(repository)) {
      const challenge = bearerChallenge(result.headers["www-authenticate"] as string | undefined);
      if (challenge) {
        const realm = new URL(challenge.realm!);
        if (challenge.service) realm.searchParams.set("service", challenge.service);
        realm.searchParams.set("scope", challenge.scope ?? `repository:${repository}:pull`);
        const answer = await guardedGetOk(realm, {
          ...base,
          maxBytes: 64 * 1024,
          // The configured credential goes to the token service only when it is the registry's own host.
          authorize: (at) => (at.origin === origin.origin ? configured : undefined),
        });
        let token: unknown;
        try {
          const json = JSON.parse(answer.body.toString("utf8")) as { token?: unknown; access_token?: unknown };
          token = json.token ?? json.access_token;
        } catch {
          token = undefined;
        }
        if (typeof token !== "string") throw new DownloadError(`the registry's token service gave no token`);
        tokens.set(repository, `Bearer ${token}`);
        result = await guardedGet(target, options);
      }
    }
    if (result.status !== 200) throw new DownloadError(`${origin.host} answered ${result.status} for ${repository}`);
    return result.body;
  };

  return {
    async versions(chart) {
      const body = await registryGet(chart, "tags/list?n=10000", context.limits.indexBytes);
      const tags = (JSON.parse(body.toString("utf8")) as { tags?: unknown }).tags;
      return Array.isArray(tags)
        ? tags.filter((t): t is string => typeof t === "string").map((t) => t.replace(/_/g, "+"))
        : [];
    },
    async archive(chart, version) {
      const tag = version.replace(/\+/g, "_");
      const manifestBody = await registryGet(
        chart,
        `manifests/${encodeURIComponent(tag)}`,
        1024 * 1024,
        MANIFEST_TYPES,
      );
      let layers: unknown;
      try {
        layers = (JSON.parse(manifestBody.toString("utf8")) as { layers?: unknown }).layers;
      } catch {
        throw new DownloadError(`the manifest of ${chart} ${version} is not JSON`);
      }
      const layer = Array.isArray(layers)
        ? (layers as Array<{ mediaType?: unknown; digest?: unknown; size?: unknown }>).find(
            (candidate) => candidate.mediaType === HELM_CHART_LAYER,
          )
        : undefined;
      if (!layer || typeof layer.digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) {
        throw new DownloadError(`${chart} ${version} has no Helm chart layer`);
      }
      if (typeof layer.size === "number" && layer.size > context.limits.archiveBytes) {
        throw new DownloadError(`${chart} ${version} is larger than the limit of ${context.limits.archiveBytes} bytes`);
      }
      const blob = await registryGet(chart, `blobs/${layer.digest}`, context.limits.archiveBytes);
      checkDigest(blob, layer.digest, `${chart} ${version}`);
      return blob;
    },
  };
}
