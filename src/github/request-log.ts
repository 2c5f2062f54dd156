// What the app's log says about an HTTP request. The webhook URL is public, so a request's headers are anyone's
// words until its signature is checked, and Probot 14 logs every request before that: its Server runs pino-http with
// the standard request serializer (every header: x-github-event, x-github-delivery, x-hub-signature-256, whatever
// else was sent) and names the line by x-request-id or x-github-delivery, and it ignores the `loggingOptions` it
// declares. So the request line is shaped by the logger the app runs with (src/server.ts): pino's redaction replaces
// the serialized request with the fields below, for every line pino-http writes. What a verified delivery is, the
// app's own log lines say once the signature matched.
import { getTransformStream } from "@probot/pino";
import { pino } from "pino";
import type { Logger, LoggerOptions } from "pino";

/** GitHub's delivery ids are GUIDs; anything else in that header is not GitHub's and is not repeated. */
const DELIVERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A request path is kept to this many characters in the log: enough to tell routes apart, never a page of text. */
export const MAX_LOGGED_URL = 200;

/** An X-GitHub-Delivery header (or a request id taken from one) as the log may say it: a GUID, or that it was not. */
export function deliveryIdOf(value: unknown): string {
  if (value === undefined || value === null || value === "") return "(none)";
  return typeof value === "string" && DELIVERY_ID.test(value) ? value.toLowerCase() : "(not a delivery id)";
}

/** A path with everything outside printable ASCII escaped, cut to MAX_LOGGED_URL characters. */
function loggedUrl(value: unknown): string {
  if (typeof value !== "string") return "";
  const printable = value.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
  return printable.length > MAX_LOGGED_URL ? `${printable.slice(0, MAX_LOGGED_URL - 1)}…` : printable;
}

/**
 * The request as a log line carries it: method, path (bounded), peer address and a request id only when it is
 * GitHub-shaped; no header. `serialized` is what pino's standard request serializer made of the request.
 */
export function requestLogFields(serialized: unknown): Record<string, unknown> {
  const req = (serialized ?? {}) as Record<string, unknown>;
  return {
    id: typeof req.id === "number" ? req.id : deliveryIdOf(req.id),
    method: typeof req.method === "string" && /^[A-Z]{1,16}$/.test(req.method) ? req.method : "(other)",
    url: loggedUrl(req.url),
    remoteAddress: typeof req.remoteAddress === "string" ? req.remoteAddress : undefined,
    remotePort: typeof req.remotePort === "number" ? req.remotePort : undefined,
  };
}

/** pino's options for the app's logger: Probot's (level, name, message key from the environment) plus the redaction. */
export function appLogOptions(env: NodeJS.ProcessEnv = process.env): LoggerOptions {
  return {
    level: env.LOG_LEVEL || "info",
    name: "probot",
    messageKey: env.LOG_MESSAGE_KEY || "msg",
    redact: { paths: ["req"], censor: (value: unknown) => requestLogFields(value) },
  };
}

/** The app's logger, formatted as Probot formats its own (LOG_FORMAT, LOG_LEVEL_IN_STRING, SENTRY_DSN). */
export async function appLogger(env: NodeJS.ProcessEnv = process.env): Promise<Logger> {
  const logFormat = env.LOG_FORMAT ? (env.LOG_FORMAT === "pretty" ? "pretty" : "json") : undefined;
  const transform = await getTransformStream({
    logFormat: logFormat ?? (env.NODE_ENV === "production" ? "json" : "pretty"),
    logLevelInString: env.LOG_LEVEL_IN_STRING === "true",
    ...(env.SENTRY_DSN ? { sentryDsn: env.SENTRY_DSN } : {}),
  });
  // As Probot's own getLog does: SonicBoom writes stdout as a stream would, without being typed as one.
  transform.pipe(pino.destination(1) as unknown as NodeJS.WritableStream);
  return pino(appLogOptions(env), transform);
}
