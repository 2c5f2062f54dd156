// Runs the real app: Probot's HTTP server on 127.0.0.1 (a free port) with a generated RSA key and a webhook secret,
// talking to a GitHub stand-in; webhooks are POSTed signed with X-Hub-Signature-256.
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import type { KeyObject } from "node:crypto";
import Bottleneck from "bottleneck";
import { pino } from "pino";
import { Probot, ProbotOctokit, Server } from "probot";
import { createApp } from "../../src/github/app.js";
import type { JobQueue } from "../../src/github/queue.js";
import { InProcessQueue } from "../../src/github/queue.js";

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
export const FastRetryOctokit = ProbotOctokit.defaults({
  retry: { retryAfterBaseValue: 5 },
  throttle: {
    retryAfterBaseValue: 5,
    fallbackSecondaryRateRetryAfter: 1,
    write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
  },
});

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
}): Promise<RunningApp> {
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const queue = options.queue ?? new InProcessQueue({ onError: (error) => log.error({ err: error }, "job failed") });
  const server = new Server({
    host: "127.0.0.1",
    port: 0,
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
  await server.load(createApp({ queue }));
  const http = await server.start();
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : server.port;
  const url = `http://127.0.0.1:${port}`;
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
