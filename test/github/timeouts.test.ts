// Timeouts: a stalled GitHub request or download ends with a TimeoutError instead of holding a job's slot for good,
// a job has a time bound, and /health is unhealthy while a job is stuck past it.
import { createServer } from "node:http";
import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InProcessQueue, JobTimeoutError } from "../../src/github/queue.js";
import type { PullRequestJob } from "../../src/github/queue.js";
import { readSnapshot } from "../../src/github/snapshot.js";
import { boundRequests } from "../../src/github/timeouts.js";
import type { GitHub } from "../../src/github/types.js";

describe("GitHub requests are bounded", () => {
  let server: Server;
  let baseUrl: string;
  const stalled: ServerResponse[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      stalled.push(res);
      // A tarball that starts and never finishes; every other request never gets an answer at all.
      if (req.url?.includes("/tarball/")) {
        res.writeHead(200, { "content-type": "application/x-gzip" });
        res.write(Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of stalled) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const octokit = (apiMs: number, archiveMs: number) =>
    boundRequests(new Octokit({ baseUrl }) as unknown as GitHub, { apiMs, archiveMs });

  test("an API request that gets no answer ends with a TimeoutError at its deadline", async () => {
    const started = Date.now();
    await expect(octokit(200, 5_000).rest.pulls.get({ owner: "o", repo: "r", pull_number: 1 })).rejects.toMatchObject({
      name: "TimeoutError",
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test("a tarball download that stalls half-way ends too", async () => {
    await expect(readSnapshot(octokit(5_000, 300), { owner: "o", repo: "r" }, "abc")).rejects.toMatchObject({
      name: expect.stringMatching(/TimeoutError|AbortError/),
    });
  });
});

describe("a job's time bound", () => {
  const job = (pullNumber: number): PullRequestJob => ({
    installationId: 1,
    owner: "o",
    repo: "r",
    pullNumber,
    headSha: "abc",
    action: "opened",
    deliveryId: `d${pullNumber}`,
  });

  test("a job stuck past its bound fails, frees its slot for other PRs, and makes /health unhealthy until it ends", async () => {
    const errors: unknown[] = [];
    const queue = new InProcessQueue({ concurrency: 1, jobTimeoutMs: 100, onError: (error) => errors.push(error) });
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const ran: number[] = [];
    queue.start(async (j) => {
      ran.push(j.pullNumber);
      if (j.pullNumber === 1) await stuck;
    });
    await queue.enqueue("o/r#1", job(1));
    await queue.enqueue("o/r#2", job(2));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ran).toEqual([1, 2]); // the other PR was not held up by the stuck one
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(JobTimeoutError);
    const health = await queue.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toContain("1 stuck past the 0.1 s bound");
    expect(health.failedJobs).toBe(1);
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await queue.health()).ok).toBe(true);
    await queue.close();
  });
});
