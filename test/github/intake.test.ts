// Bounded webhook intake: bodies over GitHub's 25 MB maximum are refused with 413 before they are buffered, an
// unverified body is never logged (delivery id and reason only), and one large unauthenticated request does not
// kill the app running under the deployment's memory limit.
import { createHmac, randomUUID } from "node:crypto";
import { request } from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Probot, Server } from "probot";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApp } from "../../src/github/app.js";
import { MAX_WEBHOOK_BYTES, withBoundedIntake } from "../../src/github/intake.js";
import { InProcessQueue } from "../../src/github/queue.js";
import { freePort, generateAppKeys } from "../helpers/github-app.js";
import {
  CONTAINER_LIMIT_MIB,
  hasDist,
  hasProcStatus,
  MAX_OLD_SPACE_MIB,
  peakRssMib,
  spawnLimited,
} from "../helpers/memory.js";

const SECRET = "intake-test-secret";
const MARKER = "UNVERIFIED-PAYLOAD-MARKER";

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * POSTs `size` bytes to the webhook URL as a stream of 64 KiB chunks, with `content-length` when `declare` is true
 * (chunked otherwise). Resolves with the answer as soon as there is one, even while the body is still being sent.
 */
function postLarge(url: string, size: number, options: { declare: boolean; signature?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": options.signature ?? `sha256=${"0".repeat(64)}`,
    };
    if (options.declare) headers["content-length"] = size;
    const req = request(url, { method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", (error) => reject(error));
    const chunk = Buffer.alloc(64 * 1024, `{"x":"${MARKER}"}`);
    let sent = 0;
    const pump = () => {
      while (sent < size && !req.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      if (!req.destroyed) req.end();
    };
    req.on("socket", pump);
  });
}

function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }).then(
    async (response) => ({ status: response.status, body: await response.text() }),
  );
}

describe("bounded webhook intake (in process)", () => {
  const logs: string[] = [];
  let server: Server;
  let webhookUrl: string;
  let queue: InProcessQueue;

  beforeAll(async () => {
    const log = pino(
      { level: "debug" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(chunk.toString());
          done();
        },
      }),
    );
    queue = new InProcessQueue({});
    server = new Server({
      host: "127.0.0.1",
      port: await freePort(),
      log,
      Probot: Probot.defaults({
        appId: 1,
        privateKey: generateAppKeys().privateKeyPem,
        secret: SECRET,
        baseUrl: "http://127.0.0.1:9", // never reached: no delivery here is analysed
        log,
      }),
    });
    await server.load(withBoundedIntake(createApp({ queue }), { maxInFlightBytes: 3 * MAX_WEBHOOK_BYTES }));
    await server.start();
    webhookUrl = `http://127.0.0.1:${server.port}/api/github/webhooks`;
  });
  afterAll(async () => {
    await queue.close();
    await server.stop();
  });

  test("a declared body over 25 MB is refused with 413 before it is read", async () => {
    const answer = await postLarge(webhookUrl, 50 * 1024 * 1024, { declare: true });
    expect(answer.status).toBe(413);
  });

  test("an undeclared (chunked) body is counted and cut at 25 MB with 413", async () => {
    const answer = await postLarge(webhookUrl, MAX_WEBHOOK_BYTES + 1024 * 1024, { declare: false });
    expect(answer.status).toBe(413);
  });

  test("a badly signed body is refused, and only its delivery id and the reason are logged", async () => {
    const id = randomUUID();
    const body = JSON.stringify({ action: "opened", marker: MARKER });
    const answer = await post(webhookUrl, body, {
      "x-github-event": "pull_request",
      "x-github-delivery": id,
      "x-hub-signature-256": `sha256=${createHmac("sha256", "wrong").update(body).digest("hex")}`,
    });
    expect(answer.status).toBe(400);
    const unsigned = await post(webhookUrl, body, { "x-github-event": "pull_request", "x-github-delivery": id });
    expect(unsigned.status).toBe(400);
    const text = logs.join("");
    expect(text).not.toContain(MARKER);
    const refusals = logs.filter((line) => line.includes("webhook delivery refused")).map((line) => JSON.parse(line));
    expect(refusals.filter((entry) => entry.delivery === id).map((entry) => entry.reason)).toEqual([
      "signature does not match",
      "no x-hub-signature-256 header",
    ]);
  });

  test("a correctly signed delivery still reaches the app", async () => {
    const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    const answer = await post(webhookUrl, body, {
      "x-github-event": "ping",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
    });
    expect(answer).toEqual({ status: 200, body: "ok\n" });
  });
});

describe("bodies being received at once are bounded together", () => {
  test("past the in-flight budget a delivery is turned away with 503 (GitHub redelivers), not buffered", async () => {
    const queue = new InProcessQueue({});
    const server = new Server({
      host: "127.0.0.1",
      port: await freePort(),
      log: pino({ level: "silent" }),
      Probot: Probot.defaults({
        appId: 1,
        privateKey: generateAppKeys().privateKeyPem,
        secret: SECRET,
        baseUrl: "http://127.0.0.1:9",
        log: pino({ level: "silent" }),
      }),
    });
    await server.load(withBoundedIntake(createApp({ queue }), { maxInFlightBytes: 1024 * 1024 }));
    await server.start();
    try {
      const url = `http://127.0.0.1:${server.port}/api/github/webhooks`;
      expect((await postLarge(url, 2 * 1024 * 1024, { declare: false })).status).toBe(503);
      expect((await postLarge(url, 512 * 1024, { declare: true })).status).toBe(400); // within it: read, then judged
    } finally {
      await queue.close();
      await server.stop();
    }
  });
});

describe.runIf(hasProcStatus() && hasDist())(
  "one large unauthenticated request under the deployment's memory limit",
  () => {
    test("the app answers 413 and lives, its peak RSS well under the container limit", async () => {
      const port = await freePort();
      const app = spawnLimited(["dist/server.js"], {
        APP_ID: "1",
        PRIVATE_KEY: generateAppKeys().privateKeyPem,
        WEBHOOK_SECRET: SECRET,
        HOST: "127.0.0.1",
        PORT: String(port),
        LOG_LEVEL: "info",
      });
      try {
        await app.waitFor(/Listening on/);
        const url = `http://127.0.0.1:${port}/api/github/webhooks`;
        const undeclared = await postLarge(url, 50 * 1024 * 1024, { declare: false });
        const declared = await postLarge(url, 50 * 1024 * 1024, { declare: true });
        const peak = peakRssMib(app.child.pid!);
        process.stdout.write(
          `[figure] 50 MB unsigned webhook body: peak RSS ${peak?.toFixed(0)} MiB (--max-old-space-size=${MAX_OLD_SPACE_MIB})\n`,
        );
        expect([undeclared.status, declared.status]).toEqual([413, 413]);
        const health = await fetch(`http://127.0.0.1:${port}/health`);
        expect(health.status).toBe(200);
        expect(peak).not.toBeNull();
        expect(peak!).toBeLessThan(CONTAINER_LIMIT_MIB / 3);
        expect(app.output()).not.toContain(MARKER);
      } finally {
        await app.stop();
      }
    }, 60_000);
  },
);
