// The Probot app: turns pull_request events into queued jobs, one per PR, and serves a health route.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationFunction, Probot } from "probot";
import type { AppIdentity } from "./analyse.js";
import { runPullRequestJob } from "./analyse.js";
import { createQueue, jobKey } from "./queue.js";
import { retrySecondaryRateLimits } from "./retry.js";
import type { BackoffOptions } from "./retry.js";
import type { JobQueue, PullRequestJob } from "./queue.js";
import type { GitHub } from "./types.js";
import { BRANCH_PREFIX } from "./types.js";

export const ANALYSE_ACTIONS = ["opened", "synchronize", "reopened", "ready_for_review"] as const;
export const HEALTH_PATH = "/health";
/** Below Kubernetes' default termination grace period (30 s). */
const SHUTDOWN_GRACE_MS = 25_000;

export interface AppOptions {
  /** The queue to use; by default createQueue() decides from REDIS_URL. */
  readonly queue?: JobQueue;
  /** Called with each app instance's queue once it is ready (tests await its idle()). */
  readonly onQueue?: (queue: JobQueue) => void;
  /** Back-off for secondary rate limits (tests shorten it). */
  readonly backoff?: BackoffOptions;
}

/** The app's own id and bot login, read once per process. */
function identityLoader(app: Probot): () => Promise<AppIdentity> {
  let pending: Promise<AppIdentity> | null = null;
  return () => {
    pending ??= (async () => {
      const octokit = await app.auth();
      const { data } = await octokit.rest.apps.getAuthenticated();
      if (!data) throw new Error("GET /app returned no app");
      return { id: data.id, botLogin: `${data.slug ?? data.name}[bot]` };
    })().catch((error: unknown) => {
      pending = null; // try again on the next event
      throw error;
    });
    return pending;
  };
}

export function createApp(options: AppOptions = {}): ApplicationFunction {
  return async (app, { addHandler }) => {
    const queue =
      options.queue ??
      (await createQueue({
        ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
        warn: (message) => app.log.warn(message),
        log: app.log,
        onError: (error, job) =>
          app.log.error({ err: error, repo: `${job.owner}/${job.repo}`, pull: job.pullNumber }, "job failed"),
      }));
    options.onQueue?.(queue);
    if (!options.queue) {
      // Containers are stopped with SIGTERM: let running jobs finish (bounded) instead of cutting them half-way.
      process.once("SIGTERM", () => {
        app.log.info("SIGTERM: finishing running jobs before exit");
        const deadline = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
        void Promise.race([queue.close(), deadline]).finally(() => process.exit(0));
      });
    }
    const identity = identityLoader(app);
    const webUrl = process.env.GHE_HOST
      ? `${process.env.GHE_PROTOCOL ?? "https"}://${process.env.GHE_HOST}`
      : "https://github.com";

    queue.start(async (job) => {
      const octokit = retrySecondaryRateLimits((await app.auth(job.installationId)) as GitHub, options.backoff, (m) =>
        app.log.warn(m),
      );
      await runPullRequestJob(job, {
        octokit,
        identity: await identity(),
        log: app.log,
        webUrl,
        docsUrl: process.env.DOCS_URL || null,
      });
    });

    app.on(
      [...ANALYSE_ACTIONS.map((action) => `pull_request.${action}` as const), "pull_request.closed"],
      async (context) => {
        const { pull_request: pr, repository, sender, installation } = context.payload;
        // Our own follow-up PRs and anything the app itself did: nothing to analyse.
        if (sender.type === "Bot" && sender.login === (await identity()).botLogin) return;
        if (pr.head.ref.startsWith(BRANCH_PREFIX) && pr.head.repo?.full_name === repository.full_name) return;
        if (!installation) {
          context.log.warn("pull_request event without an installation: ignored");
          return;
        }
        const job: PullRequestJob = {
          installationId: installation.id,
          owner: repository.owner.login,
          repo: repository.name,
          pullNumber: pr.number,
          headSha: pr.head.sha,
          action: context.payload.action,
          deliveryId: context.id,
        };
        await queue.enqueue(jobKey(job.owner, job.repo, job.pullNumber), job);
      },
    );

    addHandler(async (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? "").split("?")[0];
      if (path !== HEALTH_PATH || (req.method !== "GET" && req.method !== "HEAD")) return false;
      let health;
      try {
        health = await queue.health();
      } catch (error) {
        health = { ok: false, detail: `queue health failed: ${(error as Error).message}` };
      }
      res.writeHead(health.ok ? 200 : 503, { "content-type": "application/json" });
      res.end(
        req.method === "HEAD" ? undefined : JSON.stringify({ status: health.ok ? "ok" : "unhealthy", queue: health }),
      );
      return true;
    });
  };
}
