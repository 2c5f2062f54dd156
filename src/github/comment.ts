// The one findings comment per PR: found again by its hidden marker and the app's own author, created at the first
// findings, edited only when its text changes, never created just to say "all clear".
import type { GitHub, RepoRef } from "./types.js";
import { COMMENT_MARKER } from "./types.js";

export interface OwnComment {
  readonly id: number;
  readonly body: string;
}

/** The app's bot login is "<app-slug>[bot]"; comments are matched on it so a user quoting the marker is ignored. */
export async function findOwnComment(
  octokit: GitHub,
  repo: RepoRef,
  issueNumber: number,
  botLogin: string,
): Promise<OwnComment | null> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    ...repo,
    issue_number: issueNumber,
    per_page: 100,
  });
  const own = comments.filter(
    (comment) => comment.user?.login === botLogin && (comment.body ?? "").startsWith(COMMENT_MARKER),
  );
  const first = own[0];
  return first ? { id: first.id, body: first.body ?? "" } : null;
}

export type CommentOutcome = "created" | "updated" | "unchanged" | "none";

/**
 * Makes the PR's comment say `body`. `hasFindings` false with no existing comment creates nothing: a PR that never
 * had findings never gets a comment.
 */
export async function upsertComment(
  octokit: GitHub,
  repo: RepoRef,
  issueNumber: number,
  botLogin: string,
  body: string,
  hasFindings: boolean,
): Promise<CommentOutcome> {
  const existing = await findOwnComment(octokit, repo, issueNumber, botLogin);
  if (existing) {
    if (existing.body === body) return "unchanged";
    await octokit.rest.issues.updateComment({ ...repo, comment_id: existing.id, body });
    return "updated";
  }
  if (!hasFindings) return "none";
  await octokit.rest.issues.createComment({ ...repo, issue_number: issueNumber, body });
  return "created";
}
