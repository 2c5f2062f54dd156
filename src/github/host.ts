// What the app's job needs from where it runs: the pull request, its files, the repository at its head, the
// configuration, and the places it writes to (check run, comment, follow-up branch and pull request, suggestions).
// The job (analyse.ts, follow-up.ts) is a decision procedure over this port; github-host.ts implements it once for
// GitHub, test/helpers/memory-host.ts in memory for the job's unit tests.
import type { FileChange, SourceFile } from "../policy/api.js";
import type { CheckRunOutput, CheckRunRef } from "./check-run.js";
import type { CommentOutcome } from "./comment.js";
import type { ConfigResult } from "./config.js";
import type { Suggestion } from "./fork.js";
import type { ChangedFiles } from "./snapshot.js";
import type { PullRequestInfo } from "./types.js";

export interface AppIdentity {
  readonly id: number;
  /** "<slug>[bot]": the author of everything the app writes. */
  readonly botLogin: string;
}

/** A pull request the app opened from one of its follow-up branches (open, closed, or merged). */
export interface FollowUpPull {
  readonly number: number;
  readonly url: string;
  readonly state: "open" | "closed";
  readonly merged: boolean;
  /** The branch's tip when the list was read (for a closed pull request: when it was closed). */
  readonly headSha: string;
  readonly body: string;
}

/** A commit as the job judges it: whose it is and which change set it carries. */
export interface CommitInfo {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly authorName: string;
  readonly committerName: string;
  readonly message: string;
}

export interface CommitMessage {
  readonly headline: string;
  readonly body: string;
  readonly digest: string;
}

export interface NewFollowUp {
  readonly branch: string;
  /** The branch the follow-up merges into: the original pull request's head branch. */
  readonly base: string;
  readonly title: string;
  readonly body: string;
  readonly draft: boolean;
}

/**
 * A conditional ref write refused: the branch no longer pointed to the tip the job judged (a person pushed, or the
 * listing it came from lagged). `moved`: where it points now; null when it is gone.
 */
export interface BranchMoved {
  readonly moved: string | null;
}

export interface Host {
  readonly identity: AppIdentity;
  /** Read fresh, never trusted from a possibly stale event. */
  pullRequest(number: number): Promise<PullRequestInfo>;
  changedFiles(pr: PullRequestInfo): Promise<ChangedFiles>;
  snapshot(sha: string): Promise<SourceFile[]>;
  /** Every file under `directories` at `sha` (the Helm charts the repository holds), read once for all of them. */
  chartFiles(sha: string, directories: readonly string[]): Promise<SourceFile[]>;
  configuration(): Promise<ConfigResult>;

  /** The app's check run for `sha`: the existing one, or a new one `in_progress`. */
  startCheckRun(sha: string): Promise<CheckRunRef>;
  completeCheckRun(sha: string, run: CheckRunRef, output: CheckRunOutput): Promise<"updated" | "unchanged">;

  /** Makes the app's one comment on `issue` say `body`; creates none when `create` is false and none exists. */
  publishComment(issue: number, body: string, create: boolean): Promise<CommentOutcome>;
  /** Posts the suggestions not already on the pull request at `headSha`; returns how many are on it now. */
  postSuggestions(pr: PullRequestInfo, suggestions: readonly Suggestion[]): Promise<number>;

  /** The pull requests the app opened from `branch`, newest first. */
  followUps(branch: string): Promise<FollowUpPull[]>;
  branchTip(branch: string): Promise<string | null>;
  readCommit(sha: string): Promise<CommitInfo>;
  /** Creates `branch` at `sha`; "exists" when a branch of that name is there (left as it is). */
  createBranch(branch: string, sha: string): Promise<"created" | "exists">;
  /** One commit on `branch`, which must point to `expectedHead` ("stale" when it does not). */
  commitOnBranch(
    branch: string,
    expectedHead: string,
    changes: readonly FileChange[],
    message: CommitMessage,
  ): Promise<{ readonly sha: string } | "stale">;
  /**
   * A new commit of `changes` on `parent`, then `branch` moved onto it (forced) only if it still points to
   * `expectedTip`, the tip the job judged, in one atomic step; otherwise nothing is moved.
   */
  replaceBranchCommit(
    branch: string,
    target: { readonly expectedTip: string; readonly parent: string },
    changes: readonly FileChange[],
    message: CommitMessage,
  ): Promise<{ readonly sha: string } | BranchMoved>;
  /** Deletes `branch` only if it still points to `expectedTip`; "deleted" also when it is gone already. */
  deleteBranch(branch: string, expectedTip: string): Promise<"deleted" | BranchMoved>;
  /** "exists" when an open pull request from that branch is there already. */
  openFollowUp(input: NewFollowUp): Promise<FollowUpPull | "exists">;
  updateFollowUp(
    number: number,
    update: { readonly title?: string; readonly body?: string; readonly state?: "closed" },
  ): Promise<void>;
  commentOnPull(number: number, body: string): Promise<void>;
}
