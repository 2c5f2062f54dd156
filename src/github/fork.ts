// PRs from forks: the app cannot push a branch there, so the rewrite of the PR's own files goes on the PR itself,
// as `suggestion` review comments on the changed lines, and as a `git apply` patch for what a suggestion cannot say.
import { structuredPatch } from "diff";
import { fencedBlock, REWRITE } from "../policy/api.js";
import type { FileChange } from "../policy/api.js";
import { gitPatch } from "./render.js";
import type { ChangedFile } from "./snapshot.js";
import type { GitHub, RepoRef } from "./types.js";
import { COMMENT_MARKER } from "./types.js";

export interface Suggestion {
  readonly path: string;
  /** First and last line (new side of the PR diff) the suggestion replaces. */
  readonly startLine: number;
  readonly line: number;
  readonly body: string;
}

export interface ForkRewrite {
  readonly suggestions: readonly Suggestion[];
  /** Changes that no suggestion can carry, as one patch; empty when suggestions cover everything. */
  readonly patch: string;
}

/** Lines on the right side of a PR file's diff: only those can carry review comments. */
export function commentableLines(patch: string | undefined): Set<number> {
  const lines = new Set<number>();
  if (!patch) return lines;
  let right = 0;
  for (const text of patch.split("\n")) {
    const header = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
    if (header) {
      right = Number(header[1]);
      continue;
    }
    if (text.startsWith("-") || text.startsWith("\\")) continue;
    if (right > 0) lines.add(right++);
  }
  return lines;
}

/** GitHub rejects a review comment body above 65,536 characters: a longer suggestion goes into the patch instead. */
const MAX_SUGGESTION_CHARS = 60_000;

/** Splits the rewrite of the PR's own files into suggestions on changed lines and a patch for the rest. */
export function planForkRewrite(changes: readonly FileChange[], changedFiles: readonly ChangedFile[]): ForkRewrite {
  const byPath = new Map(changedFiles.map((file) => [file.path, file]));
  const suggestions: Suggestion[] = [];
  const leftovers: FileChange[] = [];
  for (const change of changes) {
    const changed = byPath.get(change.path);
    if (!changed) continue; // not one of the PR's files: the PR cannot carry it
    const commentable = commentableLines(changed.patch);
    const beforeLines = change.before.split("\n");
    const hunks = structuredPatch(change.path, change.path, change.before, change.after, "", "", { context: 0 }).hunks;
    const planned: Suggestion[] = [];
    let expressible = hunks.length > 0;
    for (const hunk of hunks) {
      let start = hunk.oldStart;
      let end = hunk.oldStart + hunk.oldLines - 1;
      const added = hunk.lines.filter((l) => l.startsWith("+")).map((l) => l.slice(1));
      if (hunk.oldLines === 0) {
        // A pure insertion after line `oldStart`: replace that line with itself plus the new lines.
        start = end = hunk.oldStart;
        added.unshift(beforeLines[start - 1] ?? "");
      }
      let inDiff = start >= 1;
      for (let line = start; line <= end; line++) if (!commentable.has(line)) inDiff = false;
      if (!inDiff || hunk.lines.some((l) => l.startsWith("\\"))) {
        expressible = false;
        break;
      }
      const body = `${COMMENT_MARKER}\n${REWRITE.title}:\n${fencedBlock(added.map((l) => `${l}\n`).join(""), "suggestion")}\n`;
      if (body.length > MAX_SUGGESTION_CHARS) {
        expressible = false;
        break;
      }
      planned.push({ path: change.path, startLine: start, line: end, body });
    }
    if (expressible) suggestions.push(...planned);
    else leftovers.push(change);
  }
  return { suggestions, patch: leftovers.map(gitPatch).join("") };
}

/** Posts the suggestions not already on the PR as one review. Returns how many are on the PR now. */
export async function postSuggestions(
  octokit: GitHub,
  repo: RepoRef,
  pullNumber: number,
  headSha: string,
  botLogin: string,
  suggestions: readonly Suggestion[],
): Promise<number> {
  if (suggestions.length === 0) return 0;
  const existing = await octokit.paginate(octokit.rest.pulls.listReviewComments, {
    ...repo,
    pull_number: pullNumber,
    per_page: 100,
  });
  const seen = new Set(
    existing
      .filter((comment) => comment.user?.login === botLogin && comment.commit_id === headSha)
      .map((comment) => `${comment.path}\n${comment.line}\n${comment.body}`),
  );
  const fresh = suggestions.filter((s) => !seen.has(`${s.path}\n${s.line}\n${s.body}`));
  if (fresh.length > 0) {
    await octokit.rest.pulls.createReview({
      ...repo,
      pull_number: pullNumber,
      commit_id: headSha,
      event: "COMMENT",
      body: `${COMMENT_MARKER}\nSuggested: ${REWRITE.title} (this pull request comes from a fork, so no follow-up branch can be pushed).`,
      comments: fresh.map((s) => ({
        path: s.path,
        line: s.line,
        side: "RIGHT" as const,
        ...(s.startLine < s.line ? { start_line: s.startLine, start_side: "RIGHT" as const } : {}),
        body: s.body,
      })),
    });
  }
  return suggestions.length;
}
