// What a failed GitHub request means for the job: worth another attempt (transient), and how to say it to a person.
import { isSecondaryRateLimit } from "./retry.js";
import { statusOf } from "./types.js";

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

function isRateLimited(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 429 || isSecondaryRateLimit(error)) return true;
  if (status !== 403) return false;
  const headers = (error as { response?: { headers?: Record<string, string | undefined> } }).response?.headers;
  return headers?.["x-ratelimit-remaining"] === "0" || /rate limit/i.test((error as Error).message ?? "");
}

/** 5xx, rate limits and network failures: another attempt later may succeed. */
export function isTransient(error: unknown): boolean {
  for (const e of causes(error)) {
    const status = statusOf(e);
    if (status !== undefined) return status >= 500 || isRateLimited(e);
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
    const name = (e as { name?: unknown } | null)?.name;
    if (name === "AbortError" || name === "TimeoutError") return true;
    if (/fetch failed|socket hang up|network/i.test((e as Error | null)?.message ?? "")) return true;
  }
  return false;
}

/** GitHub's own words for a failure, without Octokit's documentation link. */
function githubText(error: unknown): string {
  const message = (error as Error | null)?.message ?? String(error);
  return message.replace(/\s+-\s+https:\/\/docs\.github\.com\S*$/, "").slice(0, 300);
}

/**
 * A failure in plain words: what GitHub answered and what it most likely means. `quote` makes GitHub's own message
 * (which may quote what the pull request holds) inert where the words go into Markdown.
 */
export function describeFailure(error: unknown, quote: (message: string) => string = (message) => message): string {
  const githubMessage = (e: unknown) => quote(githubText(e));
  const cause = causes(error).find((e) => statusOf(e) !== undefined) ?? error;
  const status = statusOf(cause);
  if (status === undefined) {
    return isTransient(error)
      ? `GitHub could not be reached (${githubMessage(error)})`
      : `it failed (${githubMessage(error)})`;
  }
  if (isRateLimited(cause)) return `GitHub's rate limit was reached (${status})`;
  if (status === 403) return `the app may not write to this repository (403)`;
  if (status === 401) return `GitHub refused the app's credentials (401)`;
  if (status === 404) return `GitHub answered "not found" (404)`;
  if (status === 409 || status === 422) return `GitHub refused it (${status}: ${githubMessage(cause)})`;
  if (status >= 500) return `GitHub failed (${status})`;
  return `GitHub answered ${status} (${githubMessage(cause)})`;
}

/** What the repository's owner can do about a follow-up step that failed with `error`. */
export function adviceFor(error: unknown): string {
  const cause = causes(error).find((e) => statusOf(e) !== undefined) ?? error;
  const status = statusOf(cause);
  if (isTransient(error)) return "The app tries again; the next push to this pull request does too.";
  if (status === 403 || status === 422) {
    return (
      "Grant the app `contents: write` and `pull_requests: write` on this repository, and let it create " +
      "`cilium-policy-bot/*` branches (branch protection and rulesets), or turn the follow-up off with " +
      "`followUp: false`."
    );
  }
  return "The next push to this pull request tries again.";
}

/** A job's error is worth another attempt: it says so itself (`transient`), or it is a transient GitHub failure. */
export function isRetryable(error: unknown): boolean {
  const transient = (error as { transient?: unknown } | null)?.transient;
  return typeof transient === "boolean" ? transient : isTransient(error);
}
