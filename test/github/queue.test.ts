import { describe, expect, test } from "vitest";
import { InProcessQueue, jobKey, retryDelay } from "../../src/github/queue.js";
import type { PullRequestJob } from "../../src/github/queue.js";

function job(pullNumber: number, headSha: string): PullRequestJob {
  return {
    installationId: 1,
    owner: "acme",
    repo: "gitops",
    pullNumber,
    headSha,
    action: "synchronize",
    deliveryId: headSha,
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("InProcessQueue", () => {
  test("never runs two jobs of one PR at once; a burst collapses to the running job and the latest one", async () => {
    const queue = new InProcessQueue();
    const gate = deferred();
    const ran: string[] = [];
    let running = 0;
    let maxRunning = 0;
    queue.start(async (j) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      ran.push(j.headSha);
      if (j.headSha === "a") await gate.promise;
      running--;
    });
    const key = jobKey("acme", "gitops", 1);
    await queue.enqueue(key, job(1, "a"));
    await queue.enqueue(key, job(1, "b"));
    await queue.enqueue(key, job(1, "c"));
    await queue.enqueue(key, job(1, "d"));
    gate.resolve();
    await queue.idle();
    expect(ran).toEqual(["a", "d"]);
    expect(maxRunning).toBe(1);
  });

  test("tells the running job whether a newer event for its PR is stored (it runs next)", async () => {
    const queue = new InProcessQueue();
    const seen: Array<[string, boolean, boolean]> = [];
    const key = jobKey("acme", "gitops", 1);
    queue.start(async (j, { superseded }) => {
      const before = await superseded();
      if (j.headSha === "a") await queue.enqueue(key, job(1, "b"));
      seen.push([j.headSha, before, await superseded()]);
    });
    await queue.enqueue(key, job(1, "a"));
    await queue.idle();
    expect(seen).toEqual([
      ["a", false, true],
      ["b", false, false],
    ]);
  });

  test("runs different PRs concurrently, up to the concurrency limit", async () => {
    const queue = new InProcessQueue({ concurrency: 2 });
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    queue.start(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await gate.promise;
      running--;
    });
    for (let n = 1; n <= 4; n++) await queue.enqueue(jobKey("acme", "gitops", n), job(n, `s${n}`));
    await new Promise((r) => setTimeout(r, 10));
    expect(running).toBe(2);
    gate.resolve();
    await queue.idle();
    expect(maxRunning).toBe(2);
  });

  test("a failing job is reported and the queue goes on", async () => {
    const errors: unknown[] = [];
    const queue = new InProcessQueue({ onError: (error) => errors.push(error) });
    const ran: number[] = [];
    queue.start(async (j) => {
      ran.push(j.pullNumber);
      if (j.pullNumber === 1) throw new Error("boom");
    });
    await queue.enqueue("k1", job(1, "x"));
    await queue.enqueue("k2", job(2, "y"));
    await queue.idle();
    expect(ran.sort()).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
    expect((await queue.health()).ok).toBe(true);
    await queue.close();
    expect((await queue.health()).ok).toBe(false);
    await expect(queue.enqueue("k3", job(3, "z"))).rejects.toThrow(/closed/);
  });

  test("jobs enqueued before start() wait for it", async () => {
    const queue = new InProcessQueue();
    await queue.enqueue("k", job(1, "x"));
    const ran: string[] = [];
    queue.start(async (j) => void ran.push(j.headSha));
    await queue.idle();
    expect(ran).toEqual(["x"]);
  });

  describe("retries", () => {
    const transient = () => Object.assign(new Error("Bad Gateway"), { status: 502 });

    test("a transient failure is tried again after a back-off, a bounded number of times, then counted as failed", async () => {
      const failures: Array<{ attempts: number }> = [];
      const queue = new InProcessQueue({
        retry: { attempts: 3, delayMs: 5 },
        onError: (_error, _job, attempts) => failures.push({ attempts }),
      });
      const seen: Array<{ attempt: number; final: boolean }> = [];
      queue.start(async (_job, attempt) => {
        seen.push({ ...attempt });
        throw transient();
      });
      await queue.enqueue("k", job(1, "x"));
      await queue.idle(); // waits for the retries too
      expect(seen.map(({ attempt, final }) => [attempt, final])).toEqual([
        [1, false],
        [2, false],
        [3, true],
      ]);
      // The back-off before attempt n+1 doubles, up to its cap.
      expect([1, 2, 3, 10].map((n) => retryDelay({ delayMs: 5, maxDelayMs: 30 }, n))).toEqual([5, 10, 20, 30]);
      expect(failures).toEqual([{ attempts: 3 }]);
      expect(await queue.health()).toMatchObject({ ok: true, failedJobs: 1 });
    });

    test("a permanent failure is not tried again; a transient one that then succeeds is not counted", async () => {
      const queue = new InProcessQueue({ retry: { attempts: 3, delayMs: 1 } });
      const runs = new Map<number, number>();
      queue.start(async (j) => {
        runs.set(j.pullNumber, (runs.get(j.pullNumber) ?? 0) + 1);
        if (j.pullNumber === 1)
          throw Object.assign(new Error("Resource not accessible by integration"), { status: 403 });
        if (runs.get(2) === 1) throw Object.assign(new Error("network"), { code: "ECONNRESET" });
      });
      await queue.enqueue("k1", job(1, "x"));
      await queue.enqueue("k2", job(2, "y"));
      await queue.idle();
      expect(Object.fromEntries(runs)).toEqual({ 1: 1, 2: 2 });
      expect((await queue.health()).failedJobs).toBe(1);
    });

    test("closing the queue while a job waits for its retry reports it as failed, not silently dropped", async () => {
      const failures: string[] = [];
      const queue = new InProcessQueue({
        retry: { attempts: 3, delayMs: 60_000 },
        onError: (error) => failures.push((error as Error).message),
      });
      queue.start(async () => {
        throw transient();
      });
      await queue.enqueue("k", job(1, "x"));
      await new Promise((r) => setTimeout(r, 5));
      expect((await queue.health()).detail).toContain("1 waiting to retry");
      await queue.close(); // returns at once: the retry is not waited for
      expect(failures).toEqual(["the queue closed before the job's retry"]);
      expect((await queue.health()).failedJobs).toBe(1);
    });

    test("a newer event for the PR during the back-off replaces the retry", async () => {
      const queue = new InProcessQueue({ retry: { attempts: 5, delayMs: 30 } });
      const ran: string[] = [];
      queue.start(async (j) => {
        ran.push(j.headSha);
        if (j.headSha === "old") throw transient();
      });
      await queue.enqueue("k", job(1, "old"));
      await new Promise((r) => setTimeout(r, 5));
      await queue.enqueue("k", job(1, "new"));
      await queue.idle();
      expect(ran).toEqual(["old", "new"]);
    });
  });
});
