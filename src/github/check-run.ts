// The check run `Cilium policy` on the head SHA, one per SHA: created `in_progress` when a job starts, completed
// with the findings (an annotation at each) when they are known.
import { createHash } from "node:crypto";
import type { Finding } from "../policy/api.js";
import type { GitHub, RepoRef } from "./types.js";
import { CHECK_NAME } from "./types.js";

/** GitHub accepts at most 50 annotations per create or update request. */
export const ANNOTATIONS_PER_REQUEST = 50;
/**
 * Annotations one check run gets: a PR can make findings without bound, and each 50 more would cost one more request.
 * The findings table holds them all; past this the summary says how many lines are not marked.
 */
export const MAX_ANNOTATIONS = 1_000;

/** The app's check run on one head commit, as the job found or created it. */
export interface CheckRunRef {
  readonly id: number;
  /** Fingerprint of the output it was completed with; "" while in progress. */
  readonly externalId: string;
  readonly completed: boolean;
}

export interface CheckRunOutput {
  readonly conclusion: "success" | "failure" | "neutral";
  readonly title: string;
  readonly summary: string;
  readonly findings: readonly Finding[];
}

const LEVEL = { error: "failure", warning: "warning", info: "notice" } as const;

/** GitHub caps an annotation's message at 64 KB; a message quoting repository content stays far below it. */
const MAX_ANNOTATION_MESSAGE = 4_000;

/** GitHub rejects a check-run summary above 65,535 characters: the renderers stay under it, this is the backstop. */
const MAX_SUMMARY_CHARS = 65_535;

function withinCheckRunLimit(summary: string): string {
  if (summary.length <= MAX_SUMMARY_CHARS) return summary;
  const note = "\n\n_…cut to stay under GitHub's size limit for check runs._";
  return summary.slice(0, MAX_SUMMARY_CHARS - note.length) + note;
}

function annotation(finding: Finding) {
  const message =
    finding.message.length > MAX_ANNOTATION_MESSAGE
      ? `${finding.message.slice(0, MAX_ANNOTATION_MESSAGE - 1)}…`
      : finding.message;
  return {
    path: finding.file,
    start_line: finding.line,
    end_line: Math.max(finding.line, finding.endLine ?? finding.line),
    annotation_level: LEVEL[finding.severity],
    title: finding.ruleId,
    message,
  };
}

/** Held in the run's `external_id`, so a redelivered event with the same result writes nothing. */
export function checkRunFingerprint(output: CheckRunOutput): string {
  return createHash("sha256").update(JSON.stringify(output)).digest("hex").slice(0, 40);
}

export function conclusionFor(findings: readonly Finding[], failOnError: boolean): CheckRunOutput["conclusion"] {
  if (!findings.some((finding) => finding.severity === "error")) return "success";
  return failOnError ? "failure" : "neutral";
}

/** The app's run for `headSha`, or a new one `in_progress` (a redelivery finds the first and creates nothing). */
export async function startCheckRun(
  octokit: GitHub,
  repo: RepoRef,
  headSha: string,
  appId: number | undefined,
): Promise<CheckRunRef> {
  const { data } = await octokit.rest.checks.listForRef({
    ...repo,
    ref: headSha,
    check_name: CHECK_NAME,
    filter: "latest",
    ...(appId ? { app_id: appId } : {}),
  });
  const existing = data.check_runs.find((run) => run.head_sha === headSha && (!appId || run.app?.id === appId));
  if (existing) {
    return { id: existing.id, externalId: existing.external_id ?? "", completed: existing.status === "completed" };
  }
  const { data: created } = await octokit.rest.checks.create({
    ...repo,
    name: CHECK_NAME,
    head_sha: headSha,
    status: "in_progress",
    started_at: new Date().toISOString(),
    output: { title: "Analysing", summary: "The policies of this pull request are being checked." },
  });
  return { id: created.id, externalId: "", completed: false };
}

/**
 * Completes `run` with `output`. Annotations are appended on every update, so a run already completed with this
 * output (same fingerprint) is left alone.
 */
export async function completeCheckRun(
  octokit: GitHub,
  repo: RepoRef,
  run: CheckRunRef,
  output: CheckRunOutput,
): Promise<"updated" | "unchanged"> {
  const externalId = checkRunFingerprint(output);
  if (run.completed && run.externalId === externalId) return "unchanged";
  const annotations = output.findings.slice(0, MAX_ANNOTATIONS).map(annotation);
  const unmarked = output.findings.length - annotations.length;
  const summary =
    unmarked > 0
      ? `_${unmarked} more finding(s) are not marked on their lines (at most ${MAX_ANNOTATIONS} are)._\n\n${output.summary}`
      : output.summary;
  const batches: (typeof annotations)[] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
    batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  }
  const text = (batch: typeof annotations | undefined) => ({
    title: output.title,
    summary: withinCheckRunLimit(summary),
    ...(batch && batch.length > 0 ? { annotations: batch } : {}),
  });
  await octokit.rest.checks.update({
    ...repo,
    check_run_id: run.id,
    status: "completed",
    conclusion: output.conclusion,
    completed_at: new Date().toISOString(),
    external_id: externalId,
    output: text(batches[0]),
  });
  for (const batch of batches.slice(1)) {
    await octokit.rest.checks.update({ ...repo, check_run_id: run.id, output: text(batch) });
  }
  return "updated";
}
