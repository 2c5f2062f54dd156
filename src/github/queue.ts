// Work per pull request goes through a queue: one job per PR, so redeliveries and bursts collapse and
// never run concurrently for the same PR. In process by default; on Redis (BullMQ) with REDIS_URL. Both try a job
// that failed for a transient reason again after a back-off, a bounded number of times, and count final failures.
// This module is the contract and the in-process queue; create-queue.ts picks one of the two.
import { isRetryable } from "./failures.js";

export interface PullRequestJob {
  readonly installationId: number;
  readonly owner: string;
  readonly repo: string;
  /** The repository's node id from the event (GraphQL ref writes name it); absent in jobs queued before it was kept. */
  readonly repositoryId?: string;
  readonly pullNumber: number;
  /** The event's head SHA; the worker re-reads the PR and drops work for a SHA that is no longer its head. */
  readonly headSha: string;
  readonly action: string;
  readonly deliveryId: string;
}

/** Which attempt of a job this is; `final`: no other follows whatever happens. */
export interface JobAttempt {
  readonly attempt: number;
  readonly final: boolean;
  /**
   * Whether a newer event for this PR is stored already: it runs after this job (the queue loses none), so this
   * job's work may be left to it. false when the queue cannot tell.
   */
  superseded(): Promise<boolean>;
}

export type JobHandler = (job: PullRequestJob, attempt: JobAttempt) => Promise<void>;

/** Called when a job fails for good (not retryable, or out of attempts); the queue goes on with the next one. */
export type JobErrorHandler = (error: unknown, job: PullRequestJob, attempts: number) => void;

export interface QueueHealth {
  readonly ok: boolean;
  readonly detail: string;
  /** Jobs that failed for good since the queue started (Redis: across every instance). */
  readonly failedJobs: number;
  /** false for the in-process queue: its waiting and running jobs are lost if the process dies. */
  readonly durable?: boolean;
}

/** Said at start-up and in /health, so that losing the in-process queue's jobs with the process is never silent. */
export const IN_PROCESS_NOT_DURABLE =
  "in-process queue: jobs waiting or running are lost if this process dies (set REDIS_URL for a durable queue); GitHub's next event for a pull request brings its work back";

/**
 * Transient failures (5xx, rate limits, network) are tried again after a back-off, a bounded number of times; a
 * newer event for the same PR replaces a job waiting for its retry.
 */
export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly attempts?: number;
  /** Back-off before the second attempt; doubled for each further one. */
  readonly delayMs?: number;
  readonly maxDelayMs?: number;
  /** Which errors are worth another attempt. */
  readonly retryable?: (error: unknown) => boolean;
}

export const DEFAULT_ATTEMPTS = 4;
const DEFAULT_RETRY_DELAY_MS = 5_000;
const MAX_RETRY_DELAY_MS = 60_000;

export function retryDelay(options: RetryOptions, attempt: number): number {
  const base = options.delayMs ?? DEFAULT_RETRY_DELAY_MS;
  return Math.min(base * 2 ** Math.max(0, attempt - 1), options.maxDelayMs ?? MAX_RETRY_DELAY_MS);
}

/** Pino-compatible (Probot's `app.log`): where a queue reports what it cannot throw (the Redis queue's outages). */
export interface QueueLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface JobQueue {
  /**
   * Adds work for one PR. While a job for the same key waits, a new one replaces it (the latest event wins);
   * while one runs, the new one runs after it. Never two jobs for one key at once. "Latest" is the latest to
   * arrive, which need not be the latest push: the job therefore works on the PR as it is when it runs (analyse.ts).
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

/** How long one job may run (JOB_TIMEOUT_MS): past it the job counts as failed and /health as unhealthy. */
export const DEFAULT_JOB_TIMEOUT_MS = 15 * 60_000;

export class JobTimeoutError extends Error {
  override readonly name = "JobTimeoutError";
  constructor(readonly boundMs: number) {
    super(`the job ran longer than its bound of ${boundMs / 1000} s`);
  }
}

export interface InProcessQueueOptions {
  /** The time bound of one job (default DEFAULT_JOB_TIMEOUT_MS). */
  readonly jobTimeoutMs?: number;
  /** Jobs for different PRs that may run at once. */
  readonly concurrency?: number;
  readonly onError?: JobErrorHandler;
  readonly retry?: RetryOptions;
}

interface Slot {
  waiting: PullRequestJob | null;
  /** The attempt the waiting job is at (1 for a new event). */
  attempt: number;
  running: boolean;
  /** Bumped by every event: a retry is dropped when a newer event came meanwhile. */
  generation: number;
}

/**
 * The queue in one process: per key at most one job waiting (the latest) and one running. Survives no restart,
 * which is acceptable for a single instance: GitHub's next event for the PR brings the work back.
 */
export class InProcessQueue implements JobQueue {
  readonly #concurrency: number;
  readonly #onError: JobErrorHandler;
  readonly #retry: RetryOptions;
  /** Jobs waiting for their retry, by their timer. */
  readonly #retries = new Map<
    NodeJS.Timeout,
    { readonly key: string; readonly job: PullRequestJob; readonly attempt: number }
  >();
  #failed = 0;
  readonly #jobTimeoutMs: number;
  /** Jobs past their time bound that have not ended yet. */
  #overdue = 0;
  readonly #slots = new Map<string, Slot>();
  /** Keys with a waiting job, in arrival order. */
  readonly #ready: string[] = [];
  #running = 0;
  #handler: JobHandler | null = null;
  #closed = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: InProcessQueueOptions = {}) {
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#onError = options.onError ?? (() => {});
    this.#retry = options.retry ?? {};
    this.#jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  }

  async enqueue(key: string, job: PullRequestJob): Promise<void> {
    if (this.#closed) throw new Error("queue is closed");
    const slot = this.#slot(key);
    slot.generation++;
    if (slot.waiting === null) this.#ready.push(key);
    slot.waiting = job;
    slot.attempt = 1;
    this.#pump();
  }

  #slot(key: string): Slot {
    const slot = this.#slots.get(key) ?? { waiting: null, attempt: 1, running: false, generation: 0 };
    this.#slots.set(key, slot);
    return slot;
  }

  start(handler: JobHandler): void {
    this.#handler = handler;
    this.#pump();
  }

  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async health(): Promise<QueueHealth> {
    const waiting = [...this.#slots.values()].filter((slot) => slot.waiting !== null).length;
    const retrying = this.#retries.size;
    return {
      ok: !this.#closed && this.#overdue === 0,
      detail:
        `in-process queue: ${this.#running} running, ${waiting} waiting, ${retrying} waiting to retry, ` +
        (this.#overdue > 0 ? `${this.#overdue} stuck past the ${this.#jobTimeoutMs / 1000} s bound of a job, ` : "") +
        `${this.#failed} failed${this.#closed ? ", closed" : ""}; ${IN_PROCESS_NOT_DURABLE}`,
      failedJobs: this.#failed,
      durable: false,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    // A retry that can no longer run is a failed job, said as one (the next event for its PR brings the work back).
    for (const [timer, { job, attempt }] of this.#retries) {
      clearTimeout(timer);
      this.#failed++;
      this.#onError(new Error("the queue closed before the job's retry"), job, attempt);
    }
    this.#retries.clear();
    this.#pump();
    await this.idle();
  }

  #isIdle(): boolean {
    return this.#running === 0 && this.#ready.length === 0 && this.#retries.size === 0;
  }

  #pump(): void {
    const handler = this.#handler;
    if (!handler) return;
    for (let i = 0; i < this.#ready.length && this.#running < this.#concurrency;) {
      const key = this.#ready[i]!;
      const slot = this.#slots.get(key)!;
      if (slot.running) {
        i++; // runs after the current job for this PR
        continue;
      }
      this.#ready.splice(i, 1);
      const job = slot.waiting!;
      const attempt = slot.attempt;
      slot.waiting = null;
      slot.running = true;
      this.#running++;
      void this.#run(handler, key, slot, job, attempt);
    }
    if (this.#isIdle()) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  async #run(handler: JobHandler, key: string, slot: Slot, job: PullRequestJob, attempt: number): Promise<void> {
    const attempts = Math.max(1, this.#retry.attempts ?? DEFAULT_ATTEMPTS);
    const superseded = async () => slot.waiting !== null;
    const work = Promise.resolve().then(() => handler(job, { attempt, final: attempt >= attempts, superseded }));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<"overdue">((resolve) => {
      timer = setTimeout(() => resolve("overdue"), this.#jobTimeoutMs);
      timer.unref();
    });
    let overdue = false;
    try {
      if ((await Promise.race([work, bound])) === "overdue") {
        // The job's own requests are bounded, so it ends eventually; until then the PR's slot stays taken (never
        // two jobs for one PR at once), the other PRs go on, and /health says a job is stuck.
        overdue = true;
        this.#overdue++;
        this.#failed++;
        this.#onError(new JobTimeoutError(this.#jobTimeoutMs), job, attempt);
        this.#running--;
        this.#pump();
        await work.catch(() => {});
        this.#overdue--;
      }
    } catch (error) {
      const retryable = (this.#retry.retryable ?? isRetryable)(error);
      if (attempt < attempts && retryable && !this.#closed) this.#retryLater(key, slot.generation, job, attempt + 1);
      else {
        this.#failed++;
        this.#onError(error, job, attempt);
      }
    } finally {
      clearTimeout(timer);
      slot.running = false;
      if (!overdue) this.#running--;
      if (slot.waiting === null && !this.#retryPending(key)) this.#slots.delete(key);
      this.#pump();
    }
  }

  #retryPending(key: string): boolean {
    return [...this.#retries.values()].some((retry) => retry.key === key);
  }

  /** Queues `job` again after a back-off, unless a newer event for its PR came meanwhile. */
  #retryLater(key: string, generation: number, job: PullRequestJob, attempt: number): void {
    const timer = setTimeout(
      () => {
        this.#retries.delete(timer);
        const slot = this.#slot(key);
        if (slot.generation === generation && slot.waiting === null && !this.#closed) {
          this.#ready.push(key);
          slot.waiting = job;
          slot.attempt = attempt;
        } else if (!slot.running && slot.waiting === null) this.#slots.delete(key);
        this.#pump();
      },
      retryDelay(this.#retry, attempt - 1),
    );
    this.#retries.set(timer, { key, job, attempt: attempt - 1 });
  }
}
