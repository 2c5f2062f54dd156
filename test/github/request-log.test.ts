// The request log line of Probot's Server carries no unverified header: with the app's logger options
// (src/github/request-log.ts), a hostile request's headers never reach the log, its request id is said only when it
// is GitHub-shaped, its path is bounded. The same requests with a plain pino logger show what would leak otherwise.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { LoggerOptions } from "pino";
import { Probot, Server } from "probot";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { withBoundedIntake } from "../../src/github/intake.js";
import { appLogOptions, deliveryIdOf, MAX_LOGGED_URL, requestLogFields } from "../../src/github/request-log.js";
import { freePort, generateAppKeys } from "../helpers/github-app.js";

const MARKER = "UNVERIFIED-HEADER-MARKER";
const FORGED_DELIVERY = `forged-${"D".repeat(3_000)}`;
const SIGNATURE = `sha256=${"ab".repeat(32)}`;

interface Running {
  readonly url: string;
  readonly lines: () => Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function start(options: LoggerOptions): Promise<Running> {
  const logs: string[] = [];
  const log = pino(
    { ...options, level: "debug" },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(...chunk.toString().split("\n").filter(Boolean));
        done();
      },
    }),
  );
  const server = new Server({
    host: "127.0.0.1",
    port: await freePort(),
    log,
    Probot: Probot.defaults({
      appId: 1,
      privateKey: generateAppKeys().privateKeyPem,
      secret: "request-log-secret",
      baseUrl: "http://127.0.0.1:9",
      log,
    }),
  });
  await server.load(withBoundedIntake(() => {}));
  await server.start();
  return {
    url: `http://127.0.0.1:${server.port}`,
    lines: () => logs.map((line) => JSON.parse(line) as Record<string, unknown>),
    stop: () => server.stop(),
  };
}

/** An unsigned webhook delivery with forged headers, and a ping with a forged request id and a long path. */
async function hostileRequests(url: string): Promise<void> {
  const webhook = await fetch(`${url}/api/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": `pull_request ${MARKER}`,
      "x-github-delivery": FORGED_DELIVERY,
      "x-hub-signature-256": SIGNATURE,
      "user-agent": `GitHub-Hookshot/${MARKER}`,
      "x-anything": MARKER,
    },
    body: JSON.stringify({ action: "opened" }),
  });
  expect(webhook.status).toBe(400);
  const ping = await fetch(`${url}/ping?${"q".repeat(2 * MAX_LOGGED_URL)}`, {
    headers: { "x-request-id": `${MARKER}-id`, cookie: MARKER },
  });
  await ping.text();
  // pino-http writes its line when the response finishes: give the last one a moment.
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe("the request log line", () => {
  let app: Running;
  let plain: Running;
  beforeAll(async () => {
    app = await start(appLogOptions({ LOG_LEVEL: "debug" }));
    plain = await start({});
  });
  afterAll(async () => {
    await app.stop();
    await plain.stop();
  });

  test("with a plain logger, Probot's request lines repeat every unverified header (what the options prevent)", async () => {
    await hostileRequests(plain.url);
    const text = JSON.stringify(plain.lines());
    expect(text).toContain(MARKER);
    expect(text).toContain(SIGNATURE);
    expect(text).toContain(FORGED_DELIVERY);
  });

  test("with the app's logger, no header, a GitHub-shaped id or none, a bounded path", async () => {
    await hostileRequests(app.url);
    const lines = app.lines();
    const text = JSON.stringify(lines);
    expect(text).not.toContain(MARKER);
    expect(text).not.toContain(SIGNATURE);
    expect(text).not.toContain("DDDD");
    const requests = lines.filter((line) => line.req !== undefined);
    expect(requests.map((line) => (line.req as { method: string }).method).sort()).toEqual(["GET", "POST"]);
    for (const line of requests) {
      const req = line.req as Record<string, unknown>;
      expect(Object.keys(req).sort()).toEqual(["id", "method", "remoteAddress", "remotePort", "url"]);
      expect(req.id).toBe("(not a delivery id)");
      expect((req.url as string).length).toBeLessThanOrEqual(MAX_LOGGED_URL);
    }
    const refused = lines.filter((line) => line.msg === "webhook delivery refused");
    expect(refused.map((line) => [line.delivery, line.reason])).toEqual([
      ["(not a delivery id)", "signature does not match"],
    ]);
  });

  test("a GitHub delivery id is kept, so a verified delivery's lines can be found by it", async () => {
    const id = randomUUID();
    await fetch(`${app.url}/ping`, { headers: { "x-github-delivery": id } }).then((response) => response.text());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(app.lines().some((line) => (line.req as { id?: unknown } | undefined)?.id === id)).toBe(true);
  });
});

describe("request log fields", () => {
  test("delivery ids: a GUID as it is, anything else said not to be one", () => {
    const id = randomUUID();
    expect(deliveryIdOf(id)).toBe(id);
    expect(deliveryIdOf(id.toUpperCase())).toBe(id);
    expect(deliveryIdOf(`${id}\n{"level":60}`)).toBe("(not a delivery id)");
    expect(deliveryIdOf(undefined)).toBe("(none)");
    expect(deliveryIdOf(["a"])).toBe("(not a delivery id)");
  });

  test("a path outside printable ASCII is escaped; an odd method is not repeated", () => {
    expect(requestLogFields({ id: 3, method: "get\u0000", url: "/a b\u202e", headers: { a: "b" } })).toEqual({
      id: 3,
      method: "(other)",
      url: "/a%20b%E2%80%AE",
      remoteAddress: undefined,
      remotePort: undefined,
    });
  });
});
