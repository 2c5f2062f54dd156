// Work per pull request goes through a queue: one job per PR, so redeliveries and bursts collapse and
// never run concurrently for the same PR. In process by default; on Redis (BullMQ) with REDIS_URL.

export interface PullRequestJob {
  readonly installationId: number;
  readonly owner: string;
  readonly repo: string;
  readonly pullNumber: number;
  /** The event's head SHA; the worker re-reads the PR and drops work for a SHA that is no longer its head. */
  readonly headSha: string;
  readonly action: string;
  readonly deliveryId: string;
}

export type JobHandler = (job: PullRequestJob) => Promise<void>;

export interface QueueHealth {
  readonly ok: boolean;
  readonly detail: string;
}

export interface JobQueue {
  /**
   * Adds work for one PR. While a job for the same key waits, a new one replaces it (the latest event wins);
   * while one runs, the new one runs after it. Never two jobs for one key at once.
   */
  enqueue(key: string, job: PullRequestJob): Promise<void>;
  /** Starts taking jobs. */
  start(handler: JobHandler): void;
  /** Resolves when no job is waiting or running (tests and graceful shutdown). */
  idle(): Promise<void>;
  health(): Promise<QueueHealth>;
  close(): Promise<void>;
}

export function jobKey(owner: string, repo: string, pullNumber: number): string {
  return `${owner}/${repo}#${pullNumber}`.toLowerCase();
}
