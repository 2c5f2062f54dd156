// The BullMQ queue against a real redis-server: REDIS_TEST_URL for the contract, and a redis-server of the test's
// own (stopped and restarted mid-run) for the outage.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createQueue } from "../../src/github/create-queue.js";
import type { PullRequestJob, QueueLogger } from "../../src/github/queue.js";
import { jobKey } from "../../src/github/queue.js";
import { RedisJobQueue } from "../../src/github/redis-queue.js";
import type { RedisQueueOptions } from "../../src/github/redis-queue.js";
import { available, hasCommand } from "../helpers/external.js";

const REDIS_URL = process.env.REDIS_TEST_URL;

/** Synchronous reachability check (describe.skipIf is evaluated at collection time). */
function reachable(url: string | undefined): boolean {
  if (!url) return false;
  const { hostname, port } = new URL(url);
  const script = `const s=require("node:net").connect(${Number(port || 6379)},${JSON.stringify(hostname)});
s.on("connect",()=>{s.write("PING\\r\\n")});s.on("data",d=>process.exit(String(d).startsWith("+PONG")?0:1));
s.on("error",()=>process.exit(1));setTimeout(()=>process.exit(1),2000);`;
  try {
    execFileSync(process.execPath, ["-e", script], { stdio: "ignore", timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

const hasRedis = available(`redis at REDIS_TEST_URL (${REDIS_URL ?? "unset"})`, reachable(REDIS_URL));
const hasRedisServer = available("the redis-server command", hasCommand("redis-server", ["--version"]));

interface LogLine {
  level: "info" | "warn" | "error";
  object: object;
  message: string;
}

function recorder(): QueueLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (object: object, message?: string) =>
    void lines.push({ level, object, message: message ?? "" });
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}

function event(pullNumber: number, n: number, repo = "shop"): PullRequestJob {
  return {
    installationId: 1,
    owner: "acme",
    repo,
    pullNumber,
    headSha: `sha-${n}`,
    action: "synchronize",
    deliveryId: `delivery-${n}`,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await sleep(25);
  }
}

/** Records every run, the overlap of runs per key, and which instance ran it. */
function tracker() {
  const runs: Array<{ key: string; sha: string; instance: string }> = [];
  const active = new Map<string, number>();
  let maxOverlap = 0;
  const handler = (instance: string, delayMs: number) => async (job: PullRequestJob) => {
    const key = jobKey(job.owner, job.repo, job.pullNumber);
    const now = (active.get(key) ?? 0) + 1;
    active.set(key, now);
    maxOverlap = Math.max(maxOverlap, now);
    try {
      await sleep(delayMs);
      runs.push({ key, sha: job.headSha, instance });
    } finally {
      active.set(key, (active.get(key) ?? 1) - 1);
    }
  };
  return { runs, handler, maxOverlap: () => maxOverlap };
}

describe.skipIf(!hasRedis)("RedisJobQueue (real Redis)", () => {
  const prefix = `cpb-test-${randomUUID()}`;
  const queues: RedisJobQueue[] = [];
  const make = (options: Partial<RedisQueueOptions> = {}) => {
    const queue = new RedisJobQueue({
      url: REDIS_URL as string,
      logger: recorder(),
      prefix,
      sweepIntervalMs: 300,
      ...options,
    });
    queues.push(queue);
    return queue;
  };

  afterEach(async () => {
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
    const redis = new Redis(REDIS_URL as string);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it("collapses duplicate and redelivered events for one PR into one job that runs the latest", async () => {
    const queue = make();
    const key = jobKey("acme", "shop", 7);
    for (let n = 1; n <= 5; n++) await queue.enqueue(key, event(7, n));
    await queue.enqueue(key, event(7, 5)); // a redelivery of the last one
    const redis = new Redis(REDIS_URL as string);
    const bullmq = new Queue("pull-requests", { connection: redis, prefix });
    try {
      expect(await bullmq.getJobCounts("waiting")).toMatchObject({ waiting: 1 });
      expect((await bullmq.getJob(RedisJobQueue.jobId(key)))?.data).toEqual({ key });
    } finally {
      await bullmq.close();
      redis.disconnect();
    }
    const track = tracker();
    queue.start(track.handler("a", 5));
    await queue.idle();
    expect(track.runs).toEqual([{ key, sha: "sha-5", instance: "a" }]);
  });

  it("never runs one PR twice at once across two instances, and each PR's last event runs", async () => {
    const a = make({ concurrency: 2 });
    const b = make({ concurrency: 2 });
    const track = tracker();
    a.start(track.handler("a", 40));
    b.start(track.handler("b", 40));
    const last = new Map<string, string>();
    for (let n = 1; n <= 60; n++) {
      const pr = 1 + (n % 6);
      const key = jobKey("acme", "shop", pr);
      await (n % 2 === 0 ? a : b).enqueue(key, event(pr, n));
      last.set(key, `sha-${n}`);
      if (n % 7 === 0) await sleep(30);
    }
    await a.idle();
    await b.idle();
    expect(track.maxOverlap()).toBe(1);
    for (const [key, sha] of last) {
      expect(track.runs.filter((run) => run.key === key).at(-1)?.sha).toBe(sha);
    }
    // Bursts collapse: far fewer runs than events.
    expect(track.runs.length).toBeLessThan(60);
    expect(new Set(track.runs.map((run) => run.instance))).toEqual(new Set(["a", "b"]));
  });

  it("runs an event that arrives while its PR's job runs right after it, in order, losing none", async () => {
    const queue = make();
    const key = jobKey("acme", "shop", 9);
    const seen: string[] = [];
    queue.start(async (job) => {
      seen.push(job.headSha);
      const n = Number(job.headSha.slice(4));
      if (n < 10) await queue.enqueue(key, event(9, n + 1));
    });
    await queue.enqueue(key, event(9, 1));
    await queue.idle();
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `sha-${i + 1}`));
  });

  it("tells the running job whether a newer event for its PR is stored (it runs next, on either instance)", async () => {
    const a = make();
    const b = make();
    const key = jobKey("acme", "shop", 10);
    const seen: Array<[string, boolean, boolean]> = [];
    const handler = async (job: PullRequestJob, { superseded }: { superseded(): Promise<boolean> }) => {
      const before = await superseded();
      if (job.headSha === "sha-1") await b.enqueue(key, event(10, 2));
      seen.push([job.headSha, before, await superseded()]);
    };
    a.start(handler);
    b.start(handler);
    await a.enqueue(key, event(10, 1));
    await waitFor(() => seen.length === 2);
    await a.idle();
    await b.idle();
    expect(seen).toEqual([
      ["sha-1", false, true],
      ["sha-2", false, false],
    ]);
  });

  it("loses no event under racing producers: every PR ends on its last event", async () => {
    const a = make({ concurrency: 3 });
    const b = make({ concurrency: 3 });
    const track = tracker();
    a.start(track.handler("a", 3));
    b.start(track.handler("b", 3));
    const keys = new Set<string>();
    await Promise.all(
      Array.from({ length: 200 }, async (_, n) => {
        await sleep((n * 7919) % 150);
        const pr = 1 + (n % 5);
        const key = jobKey("acme", "race", pr);
        keys.add(key);
        await (n % 3 === 0 ? a : b).enqueue(key, event(pr, n, "race"));
      }),
    );
    await a.idle();
    await b.idle();
    expect(track.maxOverlap()).toBe(1);
    // Concurrent enqueues for one key are ordered by Redis, not by when their promises resolve: the event Redis
    // stored last is the one that must have run last.
    const redis = new Redis(REDIS_URL as string);
    try {
      expect(keys.size).toBe(5);
      for (const key of keys) {
        const stored = await redis.hget(`${prefix}:cpb:pr:${encodeURIComponent(key)}`, "payload");
        const lastSha = (JSON.parse(stored ?? "{}") as PullRequestJob).headSha;
        expect(lastSha).toMatch(/^sha-\d+$/);
        expect(track.runs.filter((run) => run.key === key).at(-1)?.sha).toBe(lastSha);
      }
    } finally {
      redis.disconnect();
    }
  });

  it("re-adds work whose job vanished (an instance died after storing it) on the next sweep", async () => {
    const producer = make();
    const key = jobKey("acme", "shop", 11);
    await producer.enqueue(key, event(11, 1));
    const redis = new Redis(REDIS_URL as string);
    const bullmq = new Queue("pull-requests", { connection: redis, prefix });
    try {
      await (await bullmq.getJob(RedisJobQueue.jobId(key)))?.remove();
      expect(await bullmq.getJobCounts("waiting")).toMatchObject({ waiting: 0 });
    } finally {
      await bullmq.close();
      redis.disconnect();
    }
    const worker = make();
    const track = tracker();
    worker.start(track.handler("w", 1));
    await worker.idle();
    expect(track.runs.map((run) => run.sha)).toEqual(["sha-1"]);
  });

  it("is what createQueue() builds when a Redis URL is given", async () => {
    const warnings: string[] = [];
    const queue = await createQueue({ redisUrl: REDIS_URL as string, warn: (message) => void warnings.push(message) });
    try {
      expect(queue).toBeInstanceOf(RedisJobQueue);
      await waitFor(async () => (await queue.health()).ok, 5000);
      expect((await queue.health()).detail).toMatch(/^redis: /);
    } finally {
      await queue.close();
    }
    expect(await createQueue({})).not.toBeInstanceOf(RedisJobQueue);
  });

  it("reports unhealthy while a job runs past its time bound, and healthy again once it ends", async () => {
    const logger = recorder();
    const queue = make({ logger, jobTimeoutMs: 100 });
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    queue.start(async () => {
      started = true;
      await stuck;
    });
    await queue.enqueue(jobKey("acme", "shop", 9), event(9, 1));
    while (!started) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 250));
    const health = await queue.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toContain("1 stuck past the 0.1 s bound");
    expect(logger.lines.some((line) => /past its time bound/.test(line.message))).toBe(true);
    release();
    await queue.idle();
    expect(await queue.health()).toMatchObject({ ok: true });
  });

  it("keeps going after a handler error, logs it, and reports healthy", async () => {
    const logger = recorder();
    const queue = make({ logger });
    const seen: string[] = [];
    queue.start(async (job) => {
      seen.push(job.headSha);
      if (job.headSha === "sha-1") throw new Error("GitHub said no");
    });
    await queue.enqueue(jobKey("acme", "shop", 1), event(1, 1));
    await queue.idle();
    await queue.enqueue(jobKey("acme", "shop", 1), event(1, 2));
    await queue.idle();
    expect(seen).toEqual(["sha-1", "sha-2"]);
    expect(logger.lines.some((line) => line.level === "error" && JSON.stringify(line.object).includes("said no"))).toBe(
      true,
    );
    expect(await queue.health()).toMatchObject({ ok: true });
  });

  it("tries a transient failure again with back-off, a bounded number of times; counts a final failure for every instance", async () => {
    const logger = recorder();
    const retry = { attempts: 3, delayMs: 20 };
    const a = make({ logger, retry });
    const b = make({ logger, retry });
    const seen: Array<[string, number, boolean]> = [];
    const handler = async (job: PullRequestJob, attempt: { attempt: number; final: boolean }) => {
      seen.push([job.headSha, attempt.attempt, attempt.final]);
      if (job.headSha === "sha-1") throw Object.assign(new Error("Bad Gateway"), { status: 502 });
      if (job.headSha === "sha-2" && attempt.attempt === 1)
        throw Object.assign(new Error("reset"), { code: "ECONNRESET" });
      if (job.headSha === "sha-3")
        throw Object.assign(new Error("Resource not accessible by integration"), { status: 403 });
    };
    a.start(handler);
    b.start(handler);
    await a.enqueue(jobKey("acme", "shop", 1), event(1, 1));
    await a.enqueue(jobKey("acme", "shop", 2), event(2, 2));
    await a.enqueue(jobKey("acme", "shop", 3), event(3, 3));
    await a.idle();
    const runsOf = (sha: string) => seen.filter(([s]) => s === sha).map(([, n, final]) => [n, final]);
    expect(runsOf("sha-1")).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(runsOf("sha-2")).toEqual([
      [1, false],
      [2, false],
    ]);
    expect(runsOf("sha-3")).toEqual([[1, false]]); // permanent: not tried again
    expect(await a.health()).toMatchObject({ ok: true, failedJobs: 2 });
    expect(await b.health()).toMatchObject({ ok: true, failedJobs: 2 });
    const failed = logger.lines.filter((line) => line.level === "error");
    expect(failed.map((line) => (line.object as { pull?: number }).pull).sort()).toEqual([1, 3]);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("port"))));
    });
  });
}

describe.skipIf(!hasRedisServer)("RedisJobQueue when Redis goes away", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpb-redis-"));
  let server: ChildProcess | undefined;
  let port = 0;

  const startServer = async () => {
    // AOF with fsync on every write: a restarted Redis keeps the queue, as it must in production.
    server = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always"],
      { stdio: "ignore" },
    );
    await waitFor(() => reachable(`redis://127.0.0.1:${port}`), 10_000);
  };
  const stopServer = async () => {
    const child = server;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };

  afterAll(async () => {
    await stopServer();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs the outage, reports unhealthy, refuses new events loudly, then resumes without losing work", async () => {
    port = await freePort();
    await startServer();
    const logger = recorder();
    const queue = new RedisJobQueue({
      url: `redis://127.0.0.1:${port}`,
      logger,
      prefix: "outage",
      jobLockMs: 1000,
      lockTtlMs: 3000,
      sweepIntervalMs: 300,
    });
    try {
      const seen: string[] = [];
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      queue.start(async (job) => {
        seen.push(job.headSha);
        if (job.headSha === "sha-1") await gate;
      });
      const key = jobKey("acme", "shop", 3);
      await queue.enqueue(key, event(3, 1));
      await waitFor(() => seen.length === 1);
      expect(await queue.health()).toMatchObject({ ok: true });

      const logged = logger.lines.length;
      await stopServer(); // mid-run: the first job is still in its handler
      await waitFor(async () => !(await queue.health()).ok);
      expect((await queue.health()).detail).toMatch(/redis unavailable/);
      expect(
        logger.lines
          .slice(logged)
          .filter((line) => line.level === "error" && /Redis is unavailable/.test(line.message)),
      ).toHaveLength(1);
      await expect(queue.enqueue(key, event(3, 2))).rejects.toThrow(/could not store the event/);
      release(); // the handler finishes while Redis is away: its result cannot be recorded

      await startServer();
      await waitFor(async () => (await queue.health()).ok, 20_000);
      expect(logger.lines.some((line) => line.level === "info" && /Redis is back/.test(line.message))).toBe(true);
      await queue.enqueue(key, event(3, 3)); // the refused event, redelivered by GitHub
      await queue.idle();
      expect(seen.at(-1)).toBe("sha-3");
      expect(seen).not.toContain("sha-2");
    } finally {
      await queue.close();
    }
  });
});
