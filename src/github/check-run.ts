// The check run `Cilium policy` on the head SHA, one per SHA, with an annotation at each finding.
import { createHash } from "node:crypto";
import type { Finding } from "../policy/api.js";
import type { GitHub, RepoRef } from "./types.js";
import { CHECK_NAME } from "./types.js";

/** GitHub accepts at most 50 annotations per create or update request. */
export const ANNOTATIONS_PER_REQUEST = 50;

export interface CheckRunOutput {
  readonly conclusion: "success" | "failure" | "neutral";
  readonly title: string;
  readonly summary: string;
  readonly findings: readonly Finding[];
}

const LEVEL = { error: "failure", warning: "warning", info: "notice" } as const;

function annotation(finding: Finding) {
  return {
    path: finding.file,
    start_line: finding.line,
    end_line: Math.max(finding.line, finding.endLine ?? finding.line),
    annotation_level: LEVEL[finding.severity],
    title: finding.ruleId,
    message: finding.message,
  };
}

function fingerprint(output: CheckRunOutput): string {
  return createHash("sha256").update(JSON.stringify(output)).digest("hex").slice(0, 40);
}

export function conclusionFor(findings: readonly Finding[], failOnError: boolean): CheckRunOutput["conclusion"] {
  if (!findings.some((finding) => finding.severity === "error")) return "success";
  return failOnError ? "failure" : "neutral";
}

/**
 * Creates the check run, or updates the one this app already made for the SHA. Its `external_id` holds a
 * fingerprint of the output, so a redelivered event with the same result writes nothing (annotations are appended
 * on every update, so writing twice would duplicate them).
 */
export async function publishCheckRun(
  octokit: GitHub,
  repo: RepoRef,
  headSha: string,
  appId: number | undefined,
  output: CheckRunOutput,
): Promise<"created" | "updated" | "unchanged"> {
  const externalId = fingerprint(output);
  const { data } = await octokit.rest.checks.listForRef({
    ...repo,
    ref: headSha,
    check_name: CHECK_NAME,
    filter: "latest",
    ...(appId ? { app_id: appId } : {}),
  });
  const existing = data.check_runs.find((run) => run.head_sha === headSha && (!appId || run.app?.id === appId));
  if (existing && existing.external_id === externalId) return "unchanged";

  const annotations = output.findings.map(annotation);
  const batches: (typeof annotations)[] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
    batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  }
  const text = (batch: typeof annotations | undefined) => ({
    title: output.title,
    summary: output.summary,
    ...(batch && batch.length > 0 ? { annotations: batch } : {}),
  });
  const completed = {
    status: "completed" as const,
    conclusion: output.conclusion,
    completed_at: new Date().toISOString(),
    external_id: externalId,
  };
  let id: number;
  if (existing) {
    id = existing.id;
    await octokit.rest.checks.update({ ...repo, check_run_id: id, ...completed, output: text(batches[0]) });
  } else {
    const created = await octokit.rest.checks.create({
      ...repo,
      name: CHECK_NAME,
      head_sha: headSha,
      ...completed,
      output: text(batches[0]),
    });
    id = created.data.id;
  }
  for (const batch of batches.slice(1)) {
    await octokit.rest.checks.update({ ...repo, check_run_id: id, output: text(batch) });
  }
  return existing ? "updated" : "created";
}
