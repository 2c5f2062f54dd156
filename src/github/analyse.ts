// One job for one PR: read, run the engine, then make the comment, the check run and the follow-up PR say what the
// engine found. Every step looks up before it writes, so running a job twice changes nothing the second time.
import { isIncluded, scan } from "../policy/api.js";
import { fix } from "../policy/api.js";
import type { FixResult } from "../policy/api.js";
import { publishCheckRun, conclusionFor } from "./check-run.js";
import { upsertComment } from "./comment.js";
import { loadConfig } from "./config.js";
import { closeFollowUp, syncFollowUp } from "./follow-up.js";
import type { FollowUp } from "./follow-up.js";
import { planForkRewrite, postSuggestions } from "./fork.js";
import type { PullRequestJob } from "./queue.js";
import { commentBody, configErrorSummary, findingsReport, MAX_BODY_CHARS } from "./render.js";
import { listChangedFiles, readSnapshot } from "./snapshot.js";
import type { GitHub, PullRequestInfo, RepoRef } from "./types.js";

export interface AppIdentity {
  readonly id: number;
  /** "<slug>[bot]": the author of everything the app writes. */
  readonly botLogin: string;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface JobContext {
  readonly octokit: GitHub;
  readonly identity: AppIdentity;
  readonly log: Logger;
  /** GitHub's web address, for links (https://github.com, or the GHE host). */
  readonly webUrl: string;
  /** Where the rules reference lives (DOCS_URL), for links in the comment; null: rules are not linked. */
  readonly docsUrl?: string | null;
}

export type JobOutcome = "dropped-stale" | "dropped-not-open" | "closed-follow-up" | "invalid-config" | "analysed";

async function readPullRequest(octokit: GitHub, repo: RepoRef, pullNumber: number): Promise<PullRequestInfo> {
  const { data } = await octokit.rest.pulls.get({ ...repo, pull_number: pullNumber });
  return {
    number: data.number,
    state: data.state,
    headSha: data.head.sha,
    headRef: data.head.ref,
    headRepo: data.head.repo?.full_name ?? null,
    baseRepo: data.base.repo.full_name,
    changedFiles: data.changed_files,
  };
}

export async function runPullRequestJob(job: PullRequestJob, ctx: JobContext): Promise<JobOutcome> {
  const { octokit, identity, log } = ctx;
  const repo = { owner: job.owner, repo: job.repo };
  const pr = await readPullRequest(octokit, repo, job.pullNumber);
  const where = { repo: `${job.owner}/${job.repo}`, pull: job.pullNumber, delivery: job.deliveryId };

  if (job.action === "closed") {
    if (pr.state === "open") return "dropped-not-open"; // reopened since: the reopened event does the work
    await closeFollowUp(
      octokit,
      repo,
      pr.number,
      `#${pr.number} was closed, so this follow-up is no longer needed: closing it and deleting its branch.`,
    );
    return "closed-follow-up";
  }
  if (pr.state !== "open") return "dropped-not-open";
  if (pr.headSha !== job.headSha) {
    log.info({ ...where, eventSha: job.headSha, headSha: pr.headSha }, "dropping work for a superseded head commit");
    return "dropped-stale";
  }

  const loaded = await loadConfig(octokit, repo);
  if ("error" in loaded) {
    log.warn({ ...where, error: loaded.error }, "invalid configuration");
    await upsertComment(
      octokit,
      repo,
      pr.number,
      identity.botLogin,
      commentBody({
        report: { filesScanned: 0, policies: 0, findings: [] },
        headSha: pr.headSha,
        configError: loaded.error,
      }),
      true,
    );
    await publishCheckRun(octokit, repo, pr.headSha, identity.id, {
      conclusion: "failure",
      title: "Invalid configuration",
      summary: configErrorSummary(loaded.error),
      findings: [],
    });
    return "invalid-config";
  }
  const { config } = loaded;

  const changed = await listChangedFiles(octokit, repo, pr);
  const sources = await readSnapshot(octokit, repo, pr.headSha);
  const only = changed.truncated ? undefined : new Set(changed.files.map((file) => file.path));
  const scanned = scan(sources, { config, ...(only ? { only } : {}) });
  const { findings } = scanned;
  const report = { filesScanned: scanned.filesScanned, policies: scanned.policies, findings };
  const fileUrl = (file: string, line: number) =>
    `${ctx.webUrl}/${job.owner}/${job.repo}/blob/${pr.headSha}/${file.split("/").map(encodeURIComponent).join("/")}#L${line}`;

  let fixResult: FixResult | null = null;
  let fixError: string | undefined;
  if (config.followUp && findings.some((finding) => finding.fix === "auto" || finding.fix === "guessed")) {
    try {
      const result = fix(sources, { config });
      fixResult = { ...result, changes: result.changes.filter((change) => isIncluded(config, change.path)) };
    } catch (error) {
      fixError = (error as Error).message;
      log.warn({ ...where, error: fixError }, "the rewrite failed");
    }
  }

  const sameRepo = pr.headRepo !== null && pr.headRepo.toLowerCase() === pr.baseRepo.toLowerCase();
  let followUp: FollowUp | null = null;
  let patch = "";
  let suggestions = 0;
  if (sameRepo && config.followUp && fixError === undefined) {
    followUp = await syncFollowUp(octokit, repo, pr, fixResult ?? { changes: [], rewrites: [] });
  } else if (!sameRepo && fixResult) {
    const plan = planForkRewrite(fixResult.changes, changed.files);
    patch = plan.patch;
    suggestions = await postSuggestions(octokit, repo, pr.number, pr.headSha, identity.botLogin, plan.suggestions);
  }

  const body = commentBody({
    report,
    fileUrl,
    docsUrl: ctx.docsUrl ?? null,
    headSha: pr.headSha,
    truncatedFileList: changed.truncated,
    followUp,
    changes: sameRepo ? (fixResult?.changes ?? []) : [],
    patch,
    suggestions,
    ...(fixError ? { fixError } : {}),
  });
  const commentOutcome = await upsertComment(octokit, repo, pr.number, identity.botLogin, body, findings.length > 0);

  const summary = findingsReport(report, MAX_BODY_CHARS, fileUrl, ctx.docsUrl ?? null);
  await publishCheckRun(octokit, repo, pr.headSha, identity.id, {
    conclusion: conclusionFor(findings, config.failOnError),
    title: findings.length === 0 ? "No findings" : `${findings.length} finding(s)`,
    summary,
    findings,
  });
  log.info({ ...where, findings: findings.length, comment: commentOutcome, followUp: followUp?.number }, "analysed");
  return "analysed";
}
