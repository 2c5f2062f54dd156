// Credentials for private chart repositories, given by the operator (never by a repository): a JSON list of
// { "url": "<prefix>", "username": "...", "password": "..." } or { "url": "<prefix>", "token": "..." }, from the
// environment variable CHART_CREDENTIALS or the file CHART_CREDENTIALS_FILE. A credential is sent only on requests
// to the same scheme, host and port as its url, under its path: never on a redirect elsewhere, never to a token
// service on another host.
import { readFileSync } from "node:fs";

export interface ChartCredential {
  readonly url: URL;
  readonly authorization: string;
}

export class CredentialsError extends Error {}

function parseEntry(entry: unknown, index: number): ChartCredential {
  if (typeof entry !== "object" || entry === null) throw new CredentialsError(`entry ${index}: not an object`);
  const { url, username, password, token } = entry as Record<string, unknown>;
  if (typeof url !== "string") throw new CredentialsError(`entry ${index}: "url" must be a string`);
  let parsed: URL;
  try {
    // oci://host/path is matched as the https:// requests the registry API makes.
    parsed = new URL(url.replace(/^oci:\/\//, "https://"));
  } catch {
    throw new CredentialsError(`entry ${index}: "${url}" is not a URL`);
  }
  if (parsed.protocol !== "https:") throw new CredentialsError(`entry ${index}: only https:// and oci:// URLs`);
  if (typeof token === "string") return { url: parsed, authorization: `Bearer ${token}` };
  if (typeof username === "string" && typeof password === "string") {
    return { url: parsed, authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` };
  }
  throw new CredentialsError(`entry ${index}: needs "token", or "username" and "password"`);
}

export function parseCredentials(text: string): ChartCredential[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new CredentialsError(`not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(data)) throw new CredentialsError("expected a JSON list");
  return data.map(parseEntry);
}

/** CHART_CREDENTIALS (JSON) or CHART_CREDENTIALS_FILE (a path to the same JSON); none: no credentials. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): ChartCredential[] {
  if (env.CHART_CREDENTIALS) return parseCredentials(env.CHART_CREDENTIALS);
  if (env.CHART_CREDENTIALS_FILE) return parseCredentials(readFileSync(env.CHART_CREDENTIALS_FILE, "utf8"));
  return [];
}

/** The Authorization header for `url`: the credential with the longest matching prefix on the same origin, if any. */
export function authorizationFor(credentials: readonly ChartCredential[], url: URL): string | undefined {
  let best: ChartCredential | undefined;
  for (const credential of credentials) {
    if (credential.url.origin !== url.origin) continue;
    const prefix = credential.url.pathname.endsWith("/") ? credential.url.pathname : `${credential.url.pathname}/`;
    const path = url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`;
    if (!path.startsWith(prefix)) continue;
    if (!best || credential.url.pathname.length > best.url.pathname.length) best = credential;
  }
  return best?.authorization;
}
