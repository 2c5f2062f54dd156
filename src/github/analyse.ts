// One job for one PR, as a decision procedure over the host port (host.ts): read, run the engine, then make the
// check run, the comment and the follow-up PR say what the engine found. Findings first: the check run is
// `in_progress` before anything is read and completed as soon as the findings are known; the follow-up comes after
// and its failure never hides them. Every step looks up before it writes, so running a job twice changes nothing.
import type { ChartService } from "../charts/renderer.js";
import { filesRepositoryCharts } from "../charts/repository-charts.js";
import { analyse, applyFixes, inlineText } from "../policy/api.js";
import type { ChartRenderer, Config, Finding, FixResult, SourceFile } from "../policy/api.js";
import { conclusionFor } from "./check-run.js";
import type { CheckRunRef } from "./check-run.js";
import type { Host } from "./host.js";
import { adviceFor, describeFailure, isTransient } from "./failures.js";
import { FollowUpFailure, followUpNote, retireFollowUp, syncFollowUp } from "./follow-up.js";
import type { FollowUpOutcome } from "./follow-up.js";
import { planForkRewrite } from "./fork.js";
import type { PullRequestJob } from "./queue.js";
import { commentBody, configErrorSummary, findingsReport, MAX_BODY_CHARS, unreadNote } from "./render.js";
import { unreadFiles } from "./snapshot.js";
import type { PullRequestInfo } from "./types.js";

export type { AppIdentity } from "./host.js";

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface JobContext {
  readonly host: Host;
  readonly log: Logger;
  /** GitHub's web address, for links (https://github.com, or the GHE host). */
  readonly webUrl: string;
  /** Where the rules reference lives (DOCS_URL), for links in the comment; null: rules are not linked. */
  readonly docsUrl?: string | null;
  /** Renders the Helm charts the repository installs (one service for the app's lifetime); none: charts are guessed. */
  readonly charts?: ChartService | null;
  /** false while the queue will try the job again: a transient failure then leaves the check run in progress. */
  readonly finalAttempt?: boolean;
  /** Whether a newer event for the PR is stored, to run after this job (JobAttempt.superseded); none: never. */
  readonly superseded?: () => Promise<boolean>;
}

export type JobOutcome = "superseded" | "closed-follow-up" | "invalid-config" | "analysed";

/** The job failed after publishing what it could; `transient`: another attempt may succeed. */
export class JobFailure extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface Analysis {
  readonly report: {
    filesScanned: number;
    policies: number;
    otherYamlWithProblems?: number;
    findings: readonly Finding[];
    cilium?: { range: string; source: string };
  };
  readonly fixResult: FixResult | null;
  readonly fixError?: string;
}

/** The engine's findings for the PR's files, and the rewrite of the repository when one is wanted. */
async function analyseSources(
  sources: readonly SourceFile[],
  config: Config,
  only: ReadonlySet<string> | undefined,
  wantFix: boolean,
  charts: ChartRenderer | null,
): Promise<Analysis> {
  // One analysis per event: the findings of the PR's files, and the fix plans of the whole repository.
  const analysis = await analyse(sources, { config, ...(only ? { only } : {}), ...(charts ? { charts } : {}) });
  const { findings } = analysis;
  const report = {
    filesScanned: analysis.filesScanned,
    policies: analysis.policies,
    otherYamlWithProblems: analysis.otherYamlWithProblems,
    findings,
    cilium: analysis.cilium,
  };
  if (!wantFix || !findings.some((finding) => finding.fix === "auto" || finding.fix === "guessed")) {
    return { report, fixResult: null };
  }
  try {
    return { report, fixResult: applyFixes(analysis) };
  } catch (error) {
    return { report, fixResult: null, fixError: (error as Error).message };
  }
}

export async function runPullRequestJob(job: PullRequestJob, ctx: JobContext): Promise<JobOutcome> {
  const { host, log } = ctx;
  const where = { repo: `${job.owner}/${job.repo}`, pull: job.pullNumber, delivery: job.deliveryId };
  // The job does what the PR as it is now needs, whatever the event said: the queue keeps the latest event to ARRIVE,
  // and deliveries do not arrive in the order things happened (two instances, concurrent requests, a late
  // redelivery), so this event may have replaced the one for the PR's current head or state. Dropping it because its
  // head is stale would lose that work for good. It is left only to a newer stored event, which runs after it and
  // does the same; the last one stored always does the work. A recreate request (from the follow-up PR, which knows
  // no head) takes the latest head too.
  if (await ctx.superseded?.()) {
    log.info(where, "a newer event for the pull request is queued: leaving the work to it");
    return "superseded";
  }
  const pr = await host.pullRequest(job.pullNumber);
  if (pr.state !== "open") {
    await retireFollowUp(
      host,
      pr.number,
      `#${pr.number} was closed, so this follow-up is no longer needed: closing it.`,
      { orphanBranch: true },
    );
    return "closed-follow-up";
  }
  if (job.action !== "recreate" && pr.headSha !== job.headSha) {
    log.info(
      { ...where, eventSha: job.headSha, headSha: pr.headSha },
      "the event's head was superseded: analysing the PR's head",
    );
  }

  const check = await host.startCheckRun(pr.headSha);
  try {
    return await analysePullRequest(job, ctx, pr, check, where);
  } catch (error) {
    if (error instanceof JobFailure) throw error; // the findings are out; only a later step failed
    const transient = isTransient(error);
    if (!transient || ctx.finalAttempt !== false) {
      // Never leave the check run spinning: say that the pull request could not be checked.
      await host
        .completeCheckRun(pr.headSha, check, {
          conclusion: "failure",
          title: "Could not be checked",
          summary: `The policies of this pull request could not be checked: ${describeFailure(error, inlineText)}. ${
            transient ? "Push again to retry." : ""
          }`.trim(),
          findings: [],
        })
        .catch((completion: unknown) =>
          log.warn({ ...where, err: String(completion) }, "could not complete the check run"),
        );
    }
    throw new JobFailure(`the analysis failed: ${(error as Error).message}`, transient, { cause: error });
  }
}

async function analysePullRequest(
  job: PullRequestJob,
  ctx: JobContext,
  pr: PullRequestInfo,
  check: CheckRunRef,
  where: object,
): Promise<JobOutcome> {
  const { host, log } = ctx;
  const loaded = await host.configuration();
  if ("error" in loaded) {
    log.warn({ ...where, error: loaded.error }, "invalid configuration");
    await host.completeCheckRun(pr.headSha, check, {
      conclusion: "failure",
      title: "Invalid configuration",
      summary: configErrorSummary(loaded.error),
      findings: [],
    });
    await host.publishComment(
      pr.number,
      commentBody({
        report: { filesScanned: 0, policies: 0, findings: [] },
        headSha: pr.headSha,
        configError: loaded.error,
      }),
      true,
    );
    return "invalid-config";
  }
  const { config, app } = loaded;

  const changed = await host.changedFiles(pr);
  const sources = await host.snapshot(pr.headSha);
  const only = changed.truncated ? undefined : new Set(changed.files.map((file) => file.path));
  // The repository's own chart directories come from the same commit, fetched once when the analysis first asks.
  const charts =
    ctx.charts?.renderer(filesRepositoryCharts((directories) => host.chartFiles(pr.headSha, directories))) ?? null;
  const { report, fixResult, fixError } = await analyseSources(sources, config, only, app.followUp, charts);
  const { findings } = report;
  const unread = unreadFiles(sources);
  if (unread > 0) log.warn({ ...where, unread }, "manifests not read: over the size or memory budget");
  if (fixError !== undefined) log.warn({ ...where, error: fixError }, "the rewrite failed");
  const fileUrl = (file: string, line: number) =>
    `${ctx.webUrl}/${job.owner}/${job.repo}/blob/${pr.headSha}/${file.split("/").map(encodeURIComponent).join("/")}#L${line}`;

  await host.completeCheckRun(pr.headSha, check, {
    conclusion: conclusionFor(findings, app.failOnError),
    title: findings.length === 0 ? "No findings" : `${findings.length} finding(s)`,
    summary: [unreadNote(unread), findingsReport(report, MAX_BODY_CHARS - 1_000, fileUrl, ctx.docsUrl ?? null)]
      .filter(Boolean)
      .join("\n\n"),
    findings,
  });

  // The follow-up (same repository) or suggestions (fork): whatever happens here, the comment still says it.
  const sameRepo = pr.headRepo !== null && pr.headRepo.toLowerCase() === pr.baseRepo.toLowerCase();
  let followUp: FollowUpOutcome = { kind: "none" };
  let problem: { text: string; transient: boolean; error: unknown } | null = null;
  let patch = "";
  let suggestions = 0;
  try {
    if (sameRepo && app.followUp && fixError === undefined) {
      followUp = await syncFollowUp(host, pr, fixResult ?? { changes: [], rewrites: [] }, {
        firstEvent: job.action === "opened",
      });
    } else if (!sameRepo && fixResult) {
      const plan = planForkRewrite(fixResult.changes, changed.files);
      patch = plan.patch;
      suggestions = await host.postSuggestions(pr, plan.suggestions).catch((error: unknown) => {
        throw new FollowUpFailure("post the suggested changes", error);
      });
    }
  } catch (error) {
    const step = error instanceof FollowUpFailure ? error.step : "make the follow-up pull request";
    const cause = error instanceof FollowUpFailure ? error.cause : error;
    problem = {
      text: `could not ${step}: ${describeFailure(cause, inlineText)}. ${adviceFor(cause)}`,
      transient: isTransient(cause),
      error: cause,
    };
    log.warn({ ...where, step, err: (cause as Error)?.message ?? String(cause) }, "the follow-up failed");
  }

  const body = commentBody({
    report,
    fileUrl,
    docsUrl: ctx.docsUrl ?? null,
    headSha: pr.headSha,
    truncatedFileList: changed.truncated,
    unreadFiles: unread,
    followUp: followUp.kind === "open" ? followUp.pull : null,
    changes: sameRepo ? (fixResult?.changes ?? []) : [],
    patch,
    suggestions,
    followUpNote: followUpNote(followUp, problem?.text ?? null),
    ...(fixError ? { fixError } : {}),
  });
  const commentOutcome = await host.publishComment(
    pr.number,
    body,
    findings.length > 0 || problem !== null || unread > 0,
  );
  log.info(
    {
      ...where,
      findings: findings.length,
      comment: commentOutcome,
      followUp: followUp.kind,
      ...(followUp.kind === "open" ? { followUpNumber: followUp.pull.number } : {}),
    },
    "analysed",
  );
  // A permanent failure is said in the comment and logged; a transient one is worth another attempt of the job.
  if (problem?.transient) {
    throw new JobFailure(`the follow-up failed: ${problem.text}`, problem.transient, { cause: problem.error });
  }
  return "analysed";
}
