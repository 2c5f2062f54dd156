// The Probot app: turns pull_request events into queued jobs, one per PR (the app's own follow-ups excepted, but for
// their recreate checkbox), runs each job against GitHub through the host port, and serves a health route.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationFunction, Probot } from "probot";
import type { ChartService } from "../charts/renderer.js";
import { appChartService } from "../charts/shell.js";
import { runPullRequestJob } from "./analyse.js";
import { recreateTickedBy } from "./follow-up.js";
import { GitHubHost } from "./github-host.js";
import type { AppIdentity } from "./host.js";
import { createQueue } from "./create-queue.js";
import { jobKey } from "./queue.js";
import { retrySecondaryRateLimits } from "./retry.js";
import { boundRequests } from "./timeouts.js";
import type { BackoffOptions } from "./retry.js";
import type { JobQueue, PullRequestJob, RetryOptions } from "./queue.js";
import type { GitHub } from "./types.js";
import { followUpNumberOf } from "./types.js";

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
  /**
   * Renders the charts repositories install; by default one service from CHART_CACHE_DIR and CHART_DOWNLOADS for
   * the app's lifetime (renders shared by its jobs). null: no chart is rendered.
   */
  readonly charts?: ChartService | null;
  /** How the default queue retries transient failures (tests shorten the back-off). */
  readonly retry?: RetryOptions;
}

interface PullRequestPayload {
  readonly number: number;
  readonly user: { readonly login: string } | null;
  readonly head: { readonly ref: string; readonly repo: { readonly full_name: string } | null };
}

/**
 * The pull request that this app opened as the follow-up of another one: its branch cilium-policy-bot/pr-<n> in
 * this repository AND opened by the app. Returns n, or null. (A person's branch may start with the same prefix.)
 */
export function ownFollowUpOf(pr: PullRequestPayload, repository: string, botLogin: string): number | null {
  if (pr.head.repo?.full_name !== repository || pr.user?.login !== botLogin) return null;
  return followUpNumberOf(pr.head.ref);
}

/** The app's own id and bot login, read once per process. */
function identityLoader(app: Probot): () => Promise<AppIdentity> {
  let pending: Promise<AppIdentity> | null = null;
  return () => {
    pending ??= (async () => {
      const octokit = boundRequests(await app.auth());
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
        ...(options.retry ? { retry: options.retry } : {}),
        onError: (error, job, attempts) =>
          app.log.error(
            { err: error, repo: `${job.owner}/${job.repo}`, pull: job.pullNumber, delivery: job.deliveryId, attempts },
            "job failed",
          ),
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
    const charts = options.charts === undefined ? appChartService(process.env) : options.charts;
    const webUrl = process.env.GHE_HOST
      ? `${process.env.GHE_PROTOCOL ?? "https"}://${process.env.GHE_HOST}`
      : "https://github.com";

    queue.start(async (job, attempt) => {
      const octokit = retrySecondaryRateLimits(
        boundRequests((await app.auth(job.installationId)) as GitHub),
        options.backoff,
        (m) => app.log.warn(m),
      );
      await runPullRequestJob(job, {
        host: new GitHubHost(
          octokit,
          { owner: job.owner, repo: job.repo },
          await identity(),
          job.repositoryId ? { repositoryId: job.repositoryId } : {},
        ),
        log: app.log,
        webUrl,
        docsUrl: process.env.DOCS_URL || null,
        finalAttempt: attempt.final,
        superseded: attempt.superseded,
        charts,
      });
    });

    // The recreate checkbox of an edited follow-up, ticked by a person: the original PR's job recreates it.
    app.on("pull_request.edited", async (context) => {
      const { pull_request: pr, repository, sender, installation, changes } = context.payload;
      const { botLogin } = await identity();
      if (!installation || sender?.login === botLogin) return;
      const original = ownFollowUpOf(pr, repository.full_name, botLogin);
      if (original === null || pr.state !== "open") return;
      if (changes.body === undefined || !recreateTickedBy(changes.body.from ?? "", pr.body ?? "")) return;
      const job: PullRequestJob = {
        installationId: installation.id,
        owner: repository.owner.login,
        repo: repository.name,
        repositoryId: repository.node_id,
        pullNumber: original,
        headSha: "",
        action: "recreate",
        deliveryId: context.id,
      };
      await queue.enqueue(jobKey(job.owner, job.repo, job.pullNumber), job);
    });

    app.on(
      [...ANALYSE_ACTIONS.map((action) => `pull_request.${action}` as const), "pull_request.closed"],
      async (context) => {
        const { pull_request: pr, repository, sender, installation } = context.payload;
        // Our own follow-up PRs and anything the app itself did: nothing to analyse.
        const { botLogin } = await identity();
        if (sender.type === "Bot" && sender.login === botLogin) return;
        if (ownFollowUpOf(pr, repository.full_name, botLogin) !== null) return;
        if (!installation) {
          context.log.warn("pull_request event without an installation: ignored");
          return;
        }
        const job: PullRequestJob = {
          installationId: installation.id,
          owner: repository.owner.login,
          repo: repository.name,
          repositoryId: repository.node_id,
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
        health = { ok: false, detail: `queue health failed: ${(error as Error).message}`, failedJobs: 0 };
      }
      res.writeHead(health.ok ? 200 : 503, { "content-type": "application/json" });
      res.end(
        req.method === "HEAD"
          ? undefined
          : JSON.stringify({ status: health.ok ? "ok" : "unhealthy", failedJobs: health.failedJobs, queue: health }),
      );
      return true;
    });
  };
}
