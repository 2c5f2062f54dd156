// Bounded webhook intake, in front of Probot's webhook middleware. The webhook URL is public: Probot reads a whole
// body before it checks the signature and then logs the unverified payload, so one large unsigned request could
// exhaust the process. Here a body over GitHub's maximum is refused before it is buffered (by its content-length,
// and by counting the stream when there is none or it lies), the signature is checked before anything else sees the
// body, and a refused delivery is logged by its id (when GitHub-shaped) and the reason only.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationFunction, Probot } from "probot";
import { deliveryIdOf } from "./request-log.js";

/** GitHub caps webhook payloads at 25 MB and does not deliver larger ones. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;
/** All bodies being received at once: a flood of concurrent large bodies is turned away, not buffered. */
export const MAX_INTAKE_BYTES = 64 * 1024 * 1024;

/** How long a refused body may go on arriving (discarded) before the connection is cut. */
const DRAIN_MS = 2_000;

export interface IntakeOptions {
  readonly maxBodyBytes?: number;
  readonly maxInFlightBytes?: number;
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next?: () => void) => Promise<boolean | void>;

interface Refusal {
  readonly status: number;
  readonly reason: string;
}

function refuse(res: ServerResponse, req: IncomingMessage, refusal: Refusal): void {
  if (!res.headersSent) {
    res.writeHead(refusal.status, { "content-type": "application/json" });
  }
  res.end(JSON.stringify({ error: refusal.reason }));
  // What is left of the body is discarded as it arrives (never kept), for a short while so the client can read the
  // answer before the connection closes; then the connection is cut.
  req.resume();
  res.once("finish", () => setTimeout(() => req.destroy(), DRAIN_MS).unref());
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The webhook body, at most `max` bytes, or why it is refused. */
function readBounded(
  req: IncomingMessage,
  max: number,
  reserve: (bytes: number) => boolean,
): Promise<Buffer | Refusal> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: Buffer | Refusal) => {
      if (done) return;
      done = true;
      req.removeAllListeners("data");
      resolve(result);
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return finish({ status: 413, reason: `body over ${max} bytes` });
      if (!reserve(chunk.length)) return finish({ status: 503, reason: "too many webhook bodies being received" });
      chunks.push(chunk);
    });
    req.on("end", () => finish(Buffer.concat(chunks, size)));
    req.on("error", () => finish({ status: 400, reason: "the request failed while its body was read" }));
  });
}

/**
 * Wraps an app so that Probot's webhook middleware only ever sees bodies that are within GitHub's size limit and
 * correctly signed. Works with `probot run` and with Probot's Server: both take the webhook middleware from the
 * Probot instance the app is loaded into.
 */
export function withBoundedIntake(appFn: ApplicationFunction, options: IntakeOptions = {}): ApplicationFunction {
  const maxBody = options.maxBodyBytes ?? MAX_WEBHOOK_BYTES;
  const maxInFlight = options.maxInFlightBytes ?? MAX_INTAKE_BYTES;
  let inFlight = 0;
  return async (app: Probot, appOptions) => {
    const probotMiddleware = app.getNodeMiddleware.bind(app);
    app.getNodeMiddleware = async (middlewareOptions) => {
      const inner = (await probotMiddleware(middlewareOptions)) as Middleware;
      const guarded: Middleware = async (req, res, next) => {
        if (req.method !== "POST" || !header(req, "x-github-event")) return inner(req, res, next);
        // Unverified: said only when GitHub-shaped (a refused delivery is anyone's request).
        const delivery = deliveryIdOf(header(req, "x-github-delivery"));
        const refused = (refusal: Refusal) => {
          app.log.warn({ delivery, status: refusal.status, reason: refusal.reason }, "webhook delivery refused");
          refuse(res, req, refusal);
          return true;
        };
        const declared = Number(header(req, "content-length") ?? NaN);
        if (declared > maxBody) return refused({ status: 413, reason: `body over ${maxBody} bytes` });
        let reserved = 0;
        const body = await readBounded(req, maxBody, (bytes) => {
          if (inFlight + bytes > maxInFlight) return false;
          inFlight += bytes;
          reserved += bytes;
          return true;
        });
        try {
          if (!Buffer.isBuffer(body)) return refused(body);
          const signature = header(req, "x-hub-signature-256");
          const payload = body.toString("utf8");
          if (!signature) return refused({ status: 400, reason: "no x-hub-signature-256 header" });
          let verified = false;
          try {
            verified = await app.webhooks.verify(payload, signature);
          } catch {
            verified = false;
          }
          if (!verified) return refused({ status: 400, reason: "signature does not match" });
          // Probot's middleware takes a body already read from `req.body` (a string) instead of the stream.
          (req as IncomingMessage & { body?: string }).body = payload;
          return await inner(req, res, next);
        } finally {
          inFlight -= reserved;
        }
      };
      return guarded as Awaited<ReturnType<Probot["getNodeMiddleware"]>>;
    };
    return appFn(app, appOptions);
  };
}
