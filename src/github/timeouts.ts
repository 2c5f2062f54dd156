// Every GitHub request is bounded in time: a stalled connection or download must not hold a job's slot for good.
// One deadline per request covers connecting, waiting for the answer and reading its body (a tarball streams
// through the job: its deadline is longer). An expired deadline is a TimeoutError, which the job treats as transient.
import type { GitHub } from "./types.js";

export interface RequestTimeouts {
  /** API requests (default 30 s). */
  readonly apiMs?: number;
  /** Repository archives (`/tarball/`), read while the job streams them (default 120 s). */
  readonly archiveMs?: number;
}

export const DEFAULT_API_TIMEOUT_MS = 30_000;
export const DEFAULT_ARCHIVE_TIMEOUT_MS = 120_000;

export class RequestTimeoutError extends Error {
  override readonly name = "TimeoutError";
  constructor(method: string, url: string, ms: number, options?: { cause: unknown }) {
    super(`GitHub did not answer ${method} ${url} within ${ms / 1000} s`, options);
  }
}

const bounded = new WeakSet<object>();

/** Bounds every request of `octokit` (once: an instance handed out again is not wrapped twice). */
export function boundRequests<T extends Pick<GitHub, "hook">>(octokit: T, timeouts: RequestTimeouts = {}): T {
  if (bounded.has(octokit)) return octokit;
  bounded.add(octokit);
  octokit.hook.wrap("request", async (request, options) => {
    const ms = /\/tarball\//.test(options.url)
      ? (timeouts.archiveMs ?? DEFAULT_ARCHIVE_TIMEOUT_MS)
      : (timeouts.apiMs ?? DEFAULT_API_TIMEOUT_MS);
    const deadline = AbortSignal.timeout(ms);
    const original = options.request;
    const own = original?.signal as AbortSignal | undefined;
    // Octokit's hooks hand the inner ones the options object they were called with, not the one passed on: the
    // signal goes into that object for this attempt, and the caller's is put back after it (retries reuse it).
    options.request = { ...original, signal: own ? AbortSignal.any([own, deadline]) : deadline };
    try {
      return await request(options);
    } catch (error) {
      if (deadline.aborted) throw new RequestTimeoutError(options.method, options.url, ms, { cause: error });
      throw error;
    } finally {
      options.request = original;
    }
  });
  return octokit;
}
