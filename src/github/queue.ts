// Work per pull request goes through a queue: one job per PR, so redeliveries and bursts collapse and
// never run concurrently for the same PR. In process by default; on Redis (BullMQ) with REDIS_URL.
import type { QueueLogger } from "./redis-queue.js";

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

export interface InProcessQueueOptions {
  /** Jobs for different PRs that may run at once. */
  readonly concurrency?: number;
  /** Called when a job throws; the queue goes on with the next one. */
  readonly onError?: (error: unknown, job: PullRequestJob) => void;
}

interface Slot {
  waiting: PullRequestJob | null;
  running: boolean;
}

/**
 * The queue in one process: per key at most one job waiting (the latest) and one running. Survives no restart,
 * which is acceptable for a single instance: GitHub's next event for the PR brings the work back.
 */
export class InProcessQueue implements JobQueue {
  readonly #concurrency: number;
  readonly #onError: (error: unknown, job: PullRequestJob) => void;
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
  }

  async enqueue(key: string, job: PullRequestJob): Promise<void> {
    if (this.#closed) throw new Error("queue is closed");
    const slot = this.#slots.get(key) ?? { waiting: null, running: false };
    this.#slots.set(key, slot);
    if (slot.waiting === null) this.#ready.push(key);
    slot.waiting = job;
    this.#pump();
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
    return {
      ok: !this.#closed,
      detail: `in-process queue: ${this.#running} running, ${waiting} waiting${this.#closed ? ", closed" : ""}`,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  #isIdle(): boolean {
    return this.#running === 0 && this.#ready.length === 0;
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
      slot.waiting = null;
      slot.running = true;
      this.#running++;
      void this.#run(handler, key, slot, job);
    }
    if (this.#isIdle()) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  async #run(handler: JobHandler, key: string, slot: Slot, job: PullRequestJob): Promise<void> {
    try {
      await handler(job);
    } catch (error) {
      this.#onError(error, job);
    } finally {
      slot.running = false;
      this.#running--;
      if (slot.waiting === null) this.#slots.delete(key);
      this.#pump();
    }
  }
}

export interface QueueOptions extends InProcessQueueOptions {
  /** With a Redis URL, jobs go to BullMQ (src/github/redis-queue.ts) so several instances share them. */
  readonly redisUrl?: string;
  readonly warn?: (message: string) => void;
  /** Pino-style logger (Probot's app.log) for the Redis queue's outage reports; `warn` otherwise. */
  readonly log?: QueueLogger;
}

/** The queue the app uses: in process unless REDIS_URL names a Redis. */
export async function createQueue(options: QueueOptions = {}): Promise<JobQueue> {
  if (options.redisUrl) {
    const { RedisJobQueue } = await import("./redis-queue.js");
    const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
    const viaWarn = (object: object, message?: string) => warn(`${message ?? ""} ${JSON.stringify(object)}`);
    return new RedisJobQueue({
      url: options.redisUrl,
      logger: options.log ?? { info: viaWarn, warn: viaWarn, error: viaWarn },
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }
  return new InProcessQueue(options);
}
