// Runs the real app: Probot's HTTP server on 127.0.0.1 (a free port) with a generated RSA key and a webhook secret,
// talking to a GitHub stand-in; webhooks are POSTed signed with X-Hub-Signature-256.
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import Bottleneck from "bottleneck";
import { pino } from "pino";
import { Probot, ProbotOctokit, Server } from "probot";
import type { ChartService } from "../../src/charts/renderer.js";
import { createApp } from "../../src/github/app.js";
import type { JobQueue } from "../../src/github/queue.js";
import { InProcessQueue } from "../../src/github/queue.js";

/** A port nothing listens on right now (Probot's Server cannot be asked for an ephemeral one). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export interface AppKeys {
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
}

export function generateAppKeys(): AppKeys {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(), publicKey };
}

/**
 * Probot's Octokit with its retry and throttling plugins as in production, but with back-off in milliseconds
 * instead of seconds and no 1 s spacing between writes, so fault tests stay fast.
 */
export const FastRetryOctokit = ProbotOctokit.defaults((instanceOptions: Record<string, unknown>) => ({
  ...instanceOptions,
  retry: { retryAfterBaseValue: 5 },
  throttle: {
    ...(instanceOptions.throttle as object),
    write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
    notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
  },
}));

export interface RunningApp {
  readonly url: string;
  readonly webhookUrl: string;
  readonly queue: JobQueue;
  /** POSTs a webhook; `sign` false sends it unsigned, a string signs it with that (wrong) secret. */
  deliver(
    name: string,
    payload: unknown,
    options?: { sign?: boolean | string; id?: string },
  ): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

export async function startApp(options: {
  appId: number;
  keys: AppKeys;
  secret: string;
  baseUrl: string;
  queue?: JobQueue;
  /** Chart rendering for the app's jobs; none by default (the app's own default downloads charts). */
  charts?: ChartService | null;
}): Promise<RunningApp> {
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  // Transient failures are retried by the queue as in production, after milliseconds instead of seconds.
  const queue =
    options.queue ??
    new InProcessQueue({ retry: { delayMs: 5 }, onError: (error) => log.error({ err: error }, "job failed") });
  const server = new Server({
    host: "127.0.0.1",
    port: await freePort(), // Probot takes 0 for "unset" and falls back to 3000
    log,
    Probot: Probot.defaults({
      appId: options.appId,
      privateKey: options.keys.privateKeyPem,
      secret: options.secret,
      baseUrl: options.baseUrl,
      log,
      Octokit: FastRetryOctokit,
    }),
  });
  await server.load(createApp({ queue, backoff: { secondMs: 5 }, charts: options.charts ?? null }));
  await server.start();
  const url = `http://127.0.0.1:${server.port}`;
  const webhookUrl = `${url}/api/github/webhooks`;
  return {
    url,
    webhookUrl,
    queue,
    async deliver(name, payload, deliverOptions = {}) {
      const body = JSON.stringify(payload);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-github-event": name,
        "x-github-delivery": deliverOptions.id ?? randomUUID(),
        "user-agent": "GitHub-Hookshot/test",
      };
      const sign = deliverOptions.sign ?? true;
      if (sign !== false) {
        const secret = typeof sign === "string" ? sign : options.secret;
        headers["x-hub-signature-256"] = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
      }
      const response = await fetch(webhookUrl, { method: "POST", headers, body });
      return { status: response.status, body: await response.text() };
    },
    async stop() {
      await queue.close();
      await server.stop();
    },
  };
}
