// The one HTTP client for downloads a pull request names. Node's https with a `lookup` that refuses forbidden
// addresses after DNS resolution (the address checked is the address connected to, so DNS rebinding cannot slip
// through), redirects followed by hand and checked like the first URL, a byte cap and one deadline for the whole
// download. helm's own client (`helm pull`) would bypass all of this, so charts are fetched here and helm only renders.
import { lookup as dnsLookup } from "node:dns";
import type { LookupAddress, LookupOneOptions, LookupAllOptions } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { forbiddenAddressReason, isLoopback } from "./address.js";

export interface NetworkPolicy {
  /** TEST ONLY: allow http:// and loopback addresses (a Helm repository a test serves on 127.0.0.1). Never set from configuration. */
  readonly testOnlyAllowLoopback?: boolean;
  /** Resolver, replaceable in tests; defaults to the system's (dns.lookup). */
  readonly lookup?: typeof dnsLookup;
}

export interface FetchOptions {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly accept?: string;
  /** The Authorization header for a URL (credentials for their own host only), or undefined. Asked again on every redirect. */
  readonly authorize?: (url: URL) => string | undefined;
  readonly network: NetworkPolicy;
  /** Sent as is, on every request of this fetch (no credentials here). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FetchResult {
  readonly status: number;
  readonly url: URL;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A download refused or failed; the message says why in plain words, for the report. */
export class DownloadError extends Error {}

const MAX_REDIRECTS = 5;

function addressAllowed(address: string, network: NetworkPolicy): string | null {
  if (network.testOnlyAllowLoopback && isLoopback(address)) return null;
  return forbiddenAddressReason(address);
}

/** Why `url` may not be requested at all (scheme, literal address), or null. */
export function refusedUrlReason(url: URL, network: NetworkPolicy): string | null {
  const allowHttp = network.testOnlyAllowLoopback === true && url.protocol === "http:";
  if (url.protocol !== "https:" && !allowHttp) return `${url.protocol}// is not allowed (only https:// and oci://)`;
  if (url.username || url.password) return "credentials in URLs are not used (configure them for the app instead)";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host)) {
    const reason = addressAllowed(host, network);
    if (reason) return `${host} is ${reason}`;
  } else if (/^localhost$|\.localhost$/i.test(host)) return `${host} is a loopback address`;
  return null;
}

function guardedLookup(network: NetworkPolicy) {
  const resolve = network.lookup ?? dnsLookup;
  return (
    hostname: string,
    options: LookupOneOptions | LookupAllOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    resolve(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "");
      if (addresses.length === 0) return callback(new DownloadError(`${hostname} has no address`), "");
      for (const { address } of addresses) {
        const reason = addressAllowed(address, network);
        // One forbidden address refuses the host: the client could pick any of them.
        if (reason) return callback(new DownloadError(`${hostname} resolves to ${address}, ${reason}`), "");
      }
      if ((options as LookupAllOptions).all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function requestOnce(url: URL, options: FetchOptions, deadline: number): Promise<FetchResult> {
  return new Promise((resolvePromise, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(new DownloadError(`timed out after ${options.timeoutMs} ms`));
    const headers: Record<string, string> = { "user-agent": "cilium-policy-bot", ...options.headers };
    if (options.accept) headers.accept = options.accept;
    const authorization = options.authorize?.(url);
    if (authorization) headers.authorization = authorization;
    const client = url.protocol === "https:" ? https : http;
    const request = client.request(url, {
      method: "GET",
      headers,
      lookup: guardedLookup(options.network) as never,
      agent: false,
    });
    let settled = false;
    // Settles once: the first of success, refusal, error or the deadline wins and the socket is destroyed.
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(error instanceof DownloadError ? error : new DownloadError(error.message));
    };
    const timer = setTimeout(() => fail(new DownloadError(`timed out after ${options.timeoutMs} ms`)), remaining);
    const tooLarge = () => new DownloadError(`larger than the limit of ${options.maxBytes} bytes`);
    request.on("error", fail);
    request.on("response", (response) => {
      const declared = Number(response.headers["content-length"] ?? NaN);
      if (declared > options.maxBytes) return fail(tooLarge());
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) fail(tooLarge());
        else chunks.push(chunk);
      });
      response.on("error", fail);
      response.on("aborted", () => fail(new DownloadError("the connection was closed mid-response")));
      response.on("end", () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolvePromise({
          status: response.statusCode ?? 0,
          url,
          headers: response.headers,
          body: Buffer.concat(chunks),
        });
      });
    });
    request.end();
  });
}

/**
 * GETs `start`, following redirects, each hop checked as the first. Resolves with the final response whatever its
 * status (the caller decides what a 401 or 404 means); rejects with a DownloadError saying why it was refused.
 */
export async function guardedGet(start: URL, options: FetchOptions): Promise<FetchResult> {
  const deadline = Date.now() + options.timeoutMs;
  let url = start;
  for (let hop = 0; ; hop++) {
    const refused = refusedUrlReason(url, options.network);
    if (refused) throw new DownloadError(hop === 0 ? refused : `redirected to ${url.origin}: ${refused}`);
    const result = await requestOnce(url, options, deadline);
    const location = result.headers.location;
    if (![301, 302, 303, 307, 308].includes(result.status) || !location) return result;
    if (hop >= MAX_REDIRECTS) throw new DownloadError(`more than ${MAX_REDIRECTS} redirects`);
    try {
      url = new URL(location, url);
    } catch {
      throw new DownloadError(`redirected to an invalid URL`);
    }
  }
}

/** guardedGet that expects 200. */
export async function guardedGetOk(url: URL, options: FetchOptions): Promise<FetchResult> {
  const result = await guardedGet(url, options);
  if (result.status !== 200)
    throw new DownloadError(`${result.url.origin}${result.url.pathname} answered ${result.status}`);
  return result;
}
