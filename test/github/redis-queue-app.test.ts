// Two instances of the real app (Probot's HTTP server) sharing one Redis queue, against one GitHub stand-in: the
// same event delivered to both, and a burst of pushes for one PR spread over both, leave one comment, one follow-up
// PR built on the last push, and no event lost.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { pino } from "pino";
import { Probot } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisJobQueue } from "../../src/github/redis-queue.js";
import type { QueueLogger } from "../../src/github/queue.js";
import { BASE_FILES, badPolicy } from "../e2e/fixture-repo.js";
import { available } from "../helpers/external.js";
import { generateAppKeys, startApp } from "../helpers/github-app.js";
import type { RunningApp } from "../helpers/github-app.js";
import { pullRequestEvent } from "../helpers/github-payloads.js";
import { startStandIn } from "../helpers/github-standin.js";
import type { GitHubStandIn } from "../helpers/github-standin.js";

const REDIS_URL = process.env.REDIS_TEST_URL;
const hasRedis = available(`redis at REDIS_TEST_URL (${REDIS_URL ?? "unset"})`, Boolean(REDIS_URL));

const APP_ID = 4711;
const SECRET = "webhook-secret-for-tests";

describe.skipIf(!hasRedis)("two app instances on one Redis queue", () => {
  const prefix = `cpb-app-test-${randomUUID()}`;
  const keys = generateAppKeys();
  const errors: string[] = [];
  /** What the queues warned of (retries, superseded jobs): shown when an assertion on the outcome fails. */
  const warnings: string[] = [];
  let standIn: GitHubStandIn;
  let apps: RunningApp[] = [];

  const logger: QueueLogger = {
    info: () => undefined,
    warn: (object, message) => void warnings.push(`${message ?? ""} ${JSON.stringify(object)}`),
    error: (object, message) => void errors.push(`${message ?? ""} ${JSON.stringify(object)}`),
  };

  beforeAll(async () => {
    standIn = await startStandIn({ appId: APP_ID, publicKey: keys.publicKey }, BASE_FILES);
    apps = await Promise.all(
      ["a", "b"].map(() =>
        startApp({
          appId: APP_ID,
          keys,
          secret: SECRET,
          baseUrl: standIn.url,
          queue: new RedisJobQueue({ url: REDIS_URL as string, logger, prefix, sweepIntervalMs: 500 }),
        }),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await standIn?.stop();
    standIn?.git.remove();
    if (REDIS_URL) {
      const redis = new Redis(REDIS_URL);
      const stale = await redis.keys(`${prefix}:*`);
      if (stale.length > 0) await redis.del(...stale);
      redis.disconnect();
    }
  });

  const idle = async () => {
    for (const app of apps) await app.queue.idle();
  };

  it("Probot's request throttling keeps its state in the same Redis (REDIS_URL → redisConfig)", async () => {
    const redis = new Redis(REDIS_URL as string);
    const clients = () => redis.zrange("b_octokit-global-no-id_client_last_seen", 0, -1);
    try {
      const before = new Set(await clients());
      const probot = new Probot({
        appId: APP_ID,
        privateKey: keys.privateKeyPem,
        redisConfig: REDIS_URL as string,
        baseUrl: standIn.url,
        log: pino({ level: "silent" }),
      });
      const octokit = await probot.auth();
      await octokit.request("GET /app");
      // Bottleneck registered this instance as a client of the shared limiter in Redis.
      expect((await clients()).filter((client) => !before.has(client))).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  });

  it("both instances report healthy once connected to Redis", async () => {
    for (const app of apps) {
      const deadline = Date.now() + 10_000;
      let response = await fetch(`${app.url}/health`);
      while (response.status !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        response = await fetch(`${app.url}/health`);
      }
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: "ok",
        queue: { ok: true, detail: expect.stringMatching(/^redis: /) },
      });
    }
  });

  it("the same event delivered to both instances gives one comment, one check run, one follow-up PR", async () => {
    standIn.git.commit("feature-1", { "apps/shop/policy.yaml": badPolicy("shop") }, "add shop", "refs/heads/main");
    const pr = standIn.openPullRequest("feature-1");
    const payload = pullRequestEvent(standIn, pr, "opened");
    const [a, b] = apps as [RunningApp, RunningApp];
    const answers = await Promise.all([
      a.deliver("pull_request", payload, { id: "delivery-1" }),
      b.deliver("pull_request", payload, { id: "delivery-1" }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    await idle();
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    expect(standIn.checkRuns.filter((run) => run.headSha === pr.headSha)).toHaveLength(1);
    expect(standIn.followUpsOf(pr.number)).toHaveLength(1);
    expect(standIn.violations).toEqual([]);
  });

  it("a burst of pushes spread over both instances ends on the last push, with one comment and one follow-up", async () => {
    standIn.git.commit("feature-2", { "apps/cart/policy.yaml": badPolicy("cart") }, "add cart", "refs/heads/main");
    const pr = standIn.openPullRequest("feature-2");
    const deliveries: Promise<{ status: number }>[] = [
      (apps[0] as RunningApp).deliver("pull_request", pullRequestEvent(standIn, pr, "opened")),
    ];
    for (let push = 1; push <= 8; push++) {
      standIn.git.commit("feature-2", { [`apps/cart/policy-${push}.yaml`]: badPolicy(`cart-${push}`) }, `push ${push}`);
      standIn.syncPullRequest(pr.number);
      const app = apps[push % 2] as RunningApp;
      deliveries.push(app.deliver("pull_request", pullRequestEvent(standIn, pr, "synchronize")));
    }
    expect((await Promise.all(deliveries)).map((answer) => answer.status)).toEqual(Array(9).fill(200));
    await idle();

    const logged = [...errors, ...warnings].join("\n");
    expect(standIn.commentsOn(pr.number), logged).toHaveLength(1);
    const followUps = standIn.followUpsOf(pr.number);
    expect(followUps).toHaveLength(1);
    // The follow-up branch is one commit on the PR's last head, rewriting the last push's policy too: nothing lost.
    const tip = standIn.git.resolve(`refs/heads/${followUps[0]!.headRef}`)!;
    expect(standIn.git.parentsOf(tip)).toEqual([pr.headSha]);
    const files = standIn.git.files(tip);
    expect(files.get("apps/cart/policy-8.yaml")?.toString()).toContain("toEndpoints:");
    expect(files.get("apps/cart/policy-8.yaml")?.toString()).not.toContain("toServices:");
    expect(standIn.checkRuns.filter((run) => run.headSha === pr.headSha)).toHaveLength(1);
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain("apps/cart/policy-8.yaml");
    expect(standIn.violations).toEqual([]);
    expect(errors).toEqual([]);
  });
});
