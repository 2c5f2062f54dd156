// Secondary rate limits: Probot's throttling plugin only logs them (its onSecondaryRateLimit does not retry), and
// its retry plugin never retries a 403. GitHub asks clients to wait `retry-after` seconds, or at least a minute and
// then exponentially longer, and try again: this hook does that around every request of an installation's Octokit.
// (5xx answers are retried by Probot's retry plugin, with its own back-off.)
import type { GitHub } from "./types.js";
import { statusOf } from "./types.js";

export interface BackoffOptions {
  /** Attempts after the first. */
  readonly retries?: number;
  /** How long one second of back-off lasts, in milliseconds: 1000 in production, a few in tests. */
  readonly secondMs?: number;
}

const SECONDARY_RATE_LIMIT = /secondary rate limit|abuse detection/i;

export function isSecondaryRateLimit(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== 403 && status !== 429) return false;
  return SECONDARY_RATE_LIMIT.test((error as Error).message ?? "") || status === 429;
}

function retryAfterSeconds(error: unknown, attempt: number): number {
  const headers = (error as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {};
  const header = Number(headers["retry-after"]);
  if (Number.isFinite(header) && header > 0) return header;
  return 60 * 2 ** attempt;
}

export function retrySecondaryRateLimits(
  octokit: GitHub,
  options: BackoffOptions = {},
  warn: (message: string) => void = () => {},
): GitHub {
  const retries = options.retries ?? 3;
  const secondMs = options.secondMs ?? 1000;
  octokit.hook.wrap("request", async (request, requestOptions) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(requestOptions);
      } catch (error) {
        if (attempt >= retries || !isSecondaryRateLimit(error)) throw error;
        const seconds = retryAfterSeconds(error, attempt);
        warn(
          `secondary rate limit on ${requestOptions.method} ${requestOptions.url}: retrying in ${seconds} s (attempt ${attempt + 1} of ${retries})`,
        );
        await new Promise((resolve) => setTimeout(resolve, seconds * secondMs));
      }
    }
  });
  return octokit;
}
