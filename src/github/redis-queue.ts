// The JobQueue contract on Redis (BullMQ), so that several instances of the app share the work.
//
// How one job per PR, "latest event wins" and per-PR serialisation work across instances:
//
// - Each PR has a hash `<ns>:pr:<key>` with `seq` (bumped by every event), `payload` (the latest event) and
//   `processed` (the last seq a worker finished). `enqueue` bumps seq and stores the payload atomically (Lua), adds the
//   key to the `<ns>:pending` set, then adds a BullMQ job whose id is derived from the key. BullMQ ignores an add whose
//   job id already exists, so while a job for the PR waits, redelivered and concurrent events collapse into it and the
//   worker reads the latest payload when it starts: the latest event wins.
// - A worker runs a job in a loop: take the latest payload, run the handler, record its seq as processed, and look
//   again: an event that arrived while the handler ran (its add collapsed into the running job) runs right after, in
//   the same job (the handler can ask whether such an event is stored: `superseded`, to leave its work to it).
//   The loop ends by atomically removing the key from `pending` only if nothing newer is there (Lua).
//   An event arriving after that check but before BullMQ removes the finished job is caught by the `completed`
//   listener (it re-adds the job when seq > processed), and by the sweep (below) if this instance dies in between.
// - Per-key mutual exclusion: job-id uniqueness already keeps one job per PR in the queue. It is not enough on its own:
//   when a worker's BullMQ lock expires (event loop blocked by a large scan, network partition), BullMQ's stalled-job
//   check hands the job to another worker while the first still runs. So the loop runs under a Redis lock of its own,
//   `<ns>:lock:<key>` (SET NX PX, renewed every lockTtl/3, released only by its token), with a TTL longer than BullMQ's
//   lockDuration: the second worker waits for the first to finish, then finds nothing newer and does nothing.
// - No lost work: the sweep (at start and every sweepIntervalMs) re-adds a job for every pending key whose seq is
//   ahead of processed and which has no job (e.g. the instance that held it crashed after finishing the handler).
// - Redis going away: enqueue fails at once (no offline queue on the producer connection), so the webhook answers
//   5xx and GitHub records a failed delivery that can be redelivered: nothing is accepted that is not stored. The
//   outage is logged once, health() reports ok: false, ioredis reconnects on its own, and the workers resume. A job
//   that was running stays active in Redis; BullMQ's stalled check puts it back, and since its seq was not recorded
//   as processed, it runs again (handlers are idempotent: issue 4). Run Redis with persistence (AOF) so a restart of
//   Redis itself keeps the queue.
// - A transient handler error (5xx, rate limit, network) is tried again, a bounded number of times: the attempt of
//   the event's seq is kept in the PR's hash, the job throws, and BullMQ runs it again after an exponential back-off
//   (a newer event meanwhile replaces the payload and starts at attempt 1). Any other error, or the last attempt's,
//   is logged with the PR, counted in `<ns>:failed` (health() reports it, for every instance), and the event counts
//   as processed: the next event for the PR tries again.
import { randomUUID } from "node:crypto";
import { Queue, Worker } from "bullmq";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import type { RedisOptions } from "ioredis";
import { isRetryable } from "./failures.js";
import type {
  JobErrorHandler,
  JobHandler,
  JobQueue,
  PullRequestJob,
  QueueHealth,
  QueueLogger,
  RetryOptions,
} from "./queue.js";
import { DEFAULT_ATTEMPTS, DEFAULT_JOB_TIMEOUT_MS, retryDelay } from "./queue.js";

export interface RedisQueueOptions {
  readonly url: string;
  readonly logger: QueueLogger;
  /** Namespace of every key, so that several apps (or tests) can share one Redis. */
  readonly prefix?: string;
  /** Jobs (different PRs) one instance runs at once. */
  readonly concurrency?: number;
  /** TTL of the per-PR lock; renewed every third of it while the handler runs. */
  readonly lockTtlMs?: number;
  /** BullMQ's own job lock; shorter than lockTtlMs (see above). */
  readonly jobLockMs?: number;
  readonly sweepIntervalMs?: number;
  /** How long per-PR state is kept after the last event. */
  readonly stateTtlSeconds?: number;
  /** Called when a handler fails for good (the queue goes on); by default the error is logged. */
  readonly onError?: JobErrorHandler;
  readonly retry?: RetryOptions;
  /** A job running longer than this (default DEFAULT_JOB_TIMEOUT_MS) makes this instance's health() unhealthy. */
  readonly jobTimeoutMs?: number;
}

/** Thrown out of a BullMQ job so that BullMQ runs it again after its back-off. */
class RetryLater extends Error {}

const QUEUE_NAME = "pull-requests";
const READY_WAIT_MS = 2000;
const CLOSE_WAIT_MS = 10_000;
/** Errors while the very first connection is made are not logged as an outage for this long. */
const STARTUP_GRACE_MS = 10_000;

const ENQUEUE = `
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return seq`;

const MARK_PROCESSED = `
local processed = tonumber(redis.call('HGET', KEYS[1], 'processed') or '0')
if tonumber(ARGV[1]) > processed then redis.call('HSET', KEYS[1], 'processed', ARGV[1]) end
return 1`;

/** Removes the key from the pending set only if nothing newer than what was processed is there. */
const SETTLE = `
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local processed = tonumber(redis.call('HGET', KEYS[1], 'processed') or '0')
if seq <= processed then redis.call('SREM', KEYS[2], ARGV[1]) return 1 end
return 0`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface JobData {
  readonly key: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether `promise` settled within `ms` (its rejection counts as settled). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RedisJobQueue implements JobQueue {
  readonly #logger: QueueLogger;
  readonly #prefix: string;
  readonly #ns: string;
  readonly #concurrency: number;
  readonly #lockTtlMs: number;
  readonly #jobLockMs: number;
  readonly #sweepIntervalMs: number;
  readonly #stateTtlSeconds: number;
  readonly #onError: JobErrorHandler | undefined;
  readonly #retry: RetryOptions;
  /** Our own commands and the producer: fail fast while Redis is away, so no event is accepted unstored. */
  readonly #redis: Redis;
  readonly #queue: Queue<JobData>;
  readonly #workerOptions: RedisOptions;
  readonly #url: string;
  #worker: Worker<JobData> | undefined;
  #workerConnection: Redis | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #running = 0;
  readonly #jobTimeoutMs: number;
  /** Jobs of this instance running past their bound: they keep their PR's lock until they end. */
  #overdue = 0;
  #closed = false;
  /** The last Redis problem while it lasts; undefined when connected. */
  #outage: string | undefined;
  #everReady = false;
  readonly #createdAt = Date.now();

  constructor(options: RedisQueueOptions) {
    this.#logger = options.logger;
    this.#url = options.url;
    this.#prefix = options.prefix ?? "cilium-policy-bot";
    this.#ns = `${this.#prefix}:cpb`;
    this.#concurrency = options.concurrency ?? 4;
    this.#lockTtlMs = options.lockTtlMs ?? 120_000;
    this.#jobLockMs = options.jobLockMs ?? 30_000;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
    this.#stateTtlSeconds = options.stateTtlSeconds ?? 7 * 24 * 3600;
    this.#onError = options.onError;
    this.#retry = options.retry ?? {};
    this.#jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
    if (this.#jobLockMs >= this.#lockTtlMs) throw new Error("jobLockMs must be shorter than lockTtlMs");
    this.#redis = new Redis(options.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.#watch(this.#redis, "producer");
    this.#queue = new Queue<JobData>(QUEUE_NAME, { connection: this.#redis, prefix: this.#prefix });
    this.#queue.on("error", (error) => this.#down(error));
    this.#workerOptions = { maxRetriesPerRequest: null };
  }

  /** Logs an outage once, and its end; health() reads the state. */
  #watch(connection: Redis, role: string): void {
    connection.on("error", (error) => this.#down(error, role));
    connection.on("close", () => {
      if (!this.#closed) this.#down(new Error("connection closed"), role);
    });
    connection.on("ready", () => {
      if (this.#connected()) this.#everReady = true;
      if (this.#outage !== undefined && this.#connected()) this.#restored(role);
    });
  }

  #restored(role: string): void {
    this.#logger.info({ role }, "queue: Redis is back; resuming jobs");
    this.#outage = undefined;
    this.#sweep();
  }

  /** Waits a little for the connection (first connect, short blips); a longer outage fails the event loudly. */
  async #ready(): Promise<void> {
    if (this.#redis.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#redis.off("ready", onReady);
        reject(new Error(`Redis is ${this.#redis.status}`));
      }, READY_WAIT_MS);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#redis.once("ready", onReady);
    });
  }

  /**
   * Logs the start of an outage once. Whether Redis is usable is decided by health() from the connections, or by its
   * ping (`certain`): a connection can still read "ready" for a while after the server went away, when the process
   * is busy.
   */
  #down(error: unknown, role = "queue", certain = false): void {
    if (this.#closed) return;
    const message = errorMessage(error);
    if (this.#connected() && !certain) {
      // Connected: a failed command (e.g. a lock renewal that raced a reconnect), not an outage.
      this.#logger.warn({ role, err: message }, "queue: Redis command failed");
      return;
    }
    // The first connection is still being made: not an outage yet (health() reports it meanwhile).
    if (!this.#everReady && Date.now() - this.#createdAt < STARTUP_GRACE_MS) return;
    if (this.#outage === undefined) {
      this.#logger.error(
        { role, err: message },
        "queue: Redis is unavailable: new events are refused (the webhook answers 5xx, GitHub can redeliver); " +
          "stored jobs resume when it is back",
      );
    }
    this.#outage = message || "unavailable";
  }

  #connected(): boolean {
    return this.#redis.status === "ready" && (this.#workerConnection?.status ?? "ready") === "ready";
  }

  #stateKey(key: string): string {
    return `${this.#ns}:pr:${encodeURIComponent(key)}`;
  }

  #lockKey(key: string): string {
    return `${this.#ns}:lock:${encodeURIComponent(key)}`;
  }

  get #pendingKey(): string {
    return `${this.#ns}:pending`;
  }

  get #failedKey(): string {
    return `${this.#ns}:failed`;
  }

  /** BullMQ job ids may not contain ':'; GitHub names cannot either, but encoding makes sure. */
  static jobId(key: string): string {
    return `pr-${encodeURIComponent(key)}`;
  }

  async enqueue(key: string, job: PullRequestJob): Promise<void> {
    if (this.#closed) throw new Error("queue is closed");
    try {
      await this.#ready();
      await this.#redis.eval(
        ENQUEUE,
        2,
        this.#stateKey(key),
        this.#pendingKey,
        JSON.stringify(job),
        this.#stateTtlSeconds,
        key,
      );
      await this.#add(key);
    } catch (error) {
      this.#down(error);
      throw new Error(`queue: could not store the event for ${key}: ${errorMessage(error)}`, { cause: error });
    }
  }

  async #add(key: string): Promise<void> {
    await this.#queue.add(
      "pull-request",
      { key },
      {
        jobId: RedisJobQueue.jobId(key),
        removeOnComplete: true,
        removeOnFail: true,
        attempts: 20,
        backoff: { type: "exponential", delay: retryDelay(this.#retry, 1) },
      },
    );
  }

  start(handler: JobHandler): void {
    if (this.#worker) throw new Error("queue already started");
    this.#workerConnection = new Redis(this.#url, this.#workerOptions);
    this.#watch(this.#workerConnection, "worker");
    const worker = new Worker<JobData>(QUEUE_NAME, (job) => this.#process(job, handler), {
      connection: this.#workerConnection,
      prefix: this.#prefix,
      concurrency: this.#concurrency,
      lockDuration: this.#jobLockMs,
      stalledInterval: Math.max(1000, Math.floor(this.#jobLockMs / 2)),
      maxStalledCount: 1000,
    });
    worker.on("error", (error) => this.#down(error, "worker"));
    worker.on("completed", (job) => {
      // An event may have arrived after the loop's last look and before BullMQ removed the job: its add was ignored.
      void this.#readdIfBehind(job.data.key);
    });
    this.#worker = worker;
    this.#sweep();
    this.#sweepTimer = setInterval(() => this.#sweep(), this.#sweepIntervalMs);
    this.#sweepTimer.unref();
  }

  async #readdIfBehind(key: string): Promise<void> {
    try {
      const [seq, processed] = await this.#redis.hmget(this.#stateKey(key), "seq", "processed");
      if (Number(seq ?? 0) > Number(processed ?? 0)) await this.#add(key);
    } catch (error) {
      this.#down(error);
    }
  }

  /** Re-adds a job for every PR with unprocessed events (no-op for those that have one: same job id). */
  #sweep(): void {
    if (this.#closed) return;
    void (async () => {
      try {
        const keys = await this.#redis.smembers(this.#pendingKey);
        for (const key of keys) await this.#readdIfBehind(key);
      } catch (error) {
        this.#down(error);
      }
    })();
  }

  async #process(job: Job<JobData>, handler: JobHandler): Promise<void> {
    const { key } = job.data;
    this.#running += 1;
    try {
      const release = await this.#lock(key);
      try {
        await this.#drain(key, handler);
      } finally {
        await release();
      }
    } finally {
      this.#running -= 1;
    }
  }

  /** Runs the latest event of `key` until nothing newer is left. */
  async #drain(key: string, handler: JobHandler): Promise<void> {
    const stateKey = this.#stateKey(key);
    for (;;) {
      const [seqText, payload, processedText] = await this.#redis.hmget(stateKey, "seq", "payload", "processed");
      const seq = Number(seqText ?? 0);
      if (payload == null || seq <= Number(processedText ?? 0)) {
        const settled = await this.#redis.eval(SETTLE, 2, stateKey, this.#pendingKey, key);
        if (settled === 1) return;
        continue;
      }
      const event = JSON.parse(payload) as PullRequestJob;
      const attempts = Math.max(1, this.#retry.attempts ?? DEFAULT_ATTEMPTS);
      const [attemptSeq, lastAttempt] = await this.#redis.hmget(stateKey, "attemptSeq", "attempt");
      const attempt = Number(attemptSeq ?? 0) === seq ? Number(lastAttempt ?? 0) + 1 : 1;
      await this.#redis.hset(stateKey, "attemptSeq", seq, "attempt", attempt);
      try {
        const superseded = () => this.#newerThan(stateKey, seq);
        await this.#watched(event, () => handler(event, { attempt, final: attempt >= attempts, superseded }));
      } catch (error) {
        if (attempt < attempts && (this.#retry.retryable ?? isRetryable)(error)) {
          this.#logger.warn(
            { key, deliveryId: event.deliveryId, attempt, err: errorMessage(error) },
            "queue: the job failed; trying again after a back-off",
          );
          throw new RetryLater(`attempt ${attempt} of ${attempts} failed: ${errorMessage(error)}`);
        }
        await this.#redis.incr(this.#failedKey).catch((counting: unknown) => this.#down(counting));
        if (this.#onError) this.#onError(error, event, attempt);
        else {
          this.#logger.error(
            {
              key,
              repo: `${event.owner}/${event.repo}`,
              pull: event.pullNumber,
              deliveryId: event.deliveryId,
              attempts: attempt,
              err: errorMessage(error),
            },
            "queue: the job failed; the next event for this pull request retries",
          );
        }
      }
      await this.#redis.eval(MARK_PROCESSED, 1, stateKey, seq);
    }
  }

  /** Whether an event newer than `seq` is stored for the PR (the drain loop runs it next); false when unsure. */
  async #newerThan(stateKey: string, seq: number): Promise<boolean> {
    try {
      return Number((await this.#redis.hget(stateKey, "seq")) ?? 0) > seq;
    } catch (error) {
      this.#down(error);
      return false;
    }
  }

  /** Runs a job; past its time bound it is logged once and health() says so until it ends. */
  async #watched(event: PullRequestJob, run: () => Promise<void>): Promise<void> {
    let overdue = false;
    const timer = setTimeout(() => {
      overdue = true;
      this.#overdue += 1;
      this.#logger.warn(
        { repo: `${event.owner}/${event.repo}`, pull: event.pullNumber, boundSeconds: this.#jobTimeoutMs / 1000 },
        "queue: a job runs past its time bound",
      );
    }, this.#jobTimeoutMs);
    timer.unref();
    try {
      await run();
    } finally {
      clearTimeout(timer);
      if (overdue) this.#overdue -= 1;
    }
  }

  /** Waits for the per-PR lock and keeps it alive; returns its release. */
  async #lock(key: string): Promise<() => Promise<void>> {
    const lockKey = this.#lockKey(key);
    const token = randomUUID();
    const deadline = Date.now() + this.#lockTtlMs;
    while ((await this.#redis.set(lockKey, token, "PX", this.#lockTtlMs, "NX")) !== "OK") {
      // Throwing lets BullMQ retry the job later (attempts + backoff) instead of holding a worker slot forever.
      if (Date.now() > deadline) throw new Error(`queue: ${key} is locked by another worker`);
      await sleep(50);
    }
    const renewal = setInterval(
      () => {
        this.#redis.eval(RENEW, 1, lockKey, token, this.#lockTtlMs).then(
          (renewed) => {
            if (renewed !== 1) this.#logger.warn({ key }, "queue: lost the per-PR lock while the job ran");
          },
          (error: unknown) => this.#down(error),
        );
      },
      Math.floor(this.#lockTtlMs / 3),
    );
    renewal.unref();
    return async () => {
      clearInterval(renewal);
      try {
        await this.#redis.eval(RELEASE, 1, lockKey, token);
      } catch (error) {
        // The lock expires on its own.
        this.#down(error);
      }
    };
  }

  async idle(): Promise<void> {
    for (;;) {
      if (this.#closed) return;
      try {
        const counts = await this.#queue.getJobCounts("active", "waiting", "delayed", "prioritized", "paused");
        const queued = Object.values(counts).reduce((sum, count) => sum + count, 0);
        const pending = await this.#redis.scard(this.#pendingKey);
        if (queued === 0 && pending === 0 && this.#running === 0) return;
      } catch {
        // Redis away: not idle; keep waiting (health() says why).
      }
      await sleep(50);
    }
  }

  async health(): Promise<QueueHealth> {
    if (this.#closed) return { ok: false, detail: "queue closed", failedJobs: 0 };
    if (!this.#connected()) {
      this.#down(new Error(`connection ${this.#redis.status}`));
      return { ok: false, detail: `redis unavailable: ${this.#outage ?? this.#redis.status}`, failedJobs: 0 };
    }
    try {
      const pong = await Promise.race([
        this.#redis.ping(),
        sleep(1000).then(() => Promise.reject(new Error("ping timed out"))),
      ]);
      if (pong !== "PONG") throw new Error(`unexpected ping answer ${String(pong)}`);
      if (this.#outage !== undefined) this.#restored("queue");
      const counts = await this.#queue.getJobCounts("active", "waiting", "delayed");
      const failedJobs = Number((await this.#redis.get(this.#failedKey)) ?? 0);
      const stuck =
        this.#overdue > 0 ? `, ${this.#overdue} stuck past the ${this.#jobTimeoutMs / 1000} s bound of a job` : "";
      return {
        ok: this.#overdue === 0,
        detail: `redis: active ${counts.active}, waiting ${counts.waiting}, delayed ${counts.delayed}, failed ${failedJobs}${stuck}`,
        failedJobs,
      };
    } catch (error) {
      this.#down(error, "queue", true);
      return { ok: false, detail: `redis unavailable: ${errorMessage(error)}`, failedJobs: 0 };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    // Let the running jobs finish before the connections go, unless Redis is away (nothing can be recorded then).
    // Every step is bounded: BullMQ's close waits on Redis, which may be the thing that is gone.
    const worker = this.#worker;
    if (worker && !(await within(worker.close(), CLOSE_WAIT_MS))) void worker.close(true).catch(() => undefined);
    this.#closed = true;
    await within(this.#queue.close(), READY_WAIT_MS);
    this.#workerConnection?.disconnect();
    this.#redis.disconnect();
  }
}
