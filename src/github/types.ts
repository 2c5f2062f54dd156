// The few GitHub shapes the app passes around, so modules need not depend on Probot's context.
import type { ProbotOctokit } from "probot";

export type GitHub = InstanceType<typeof ProbotOctokit>;

export interface RepoRef {
  readonly owner: string;
  readonly repo: string;
}

/** What the app needs of a pull request, read fresh from the API (never trusted from a possibly stale event). */
export interface PullRequestInfo {
  readonly number: number;
  readonly state: string;
  readonly headSha: string;
  readonly headRef: string;
  /** "owner/name" of the head repository; null when the fork was deleted. */
  readonly headRepo: string | null;
  readonly baseRepo: string;
  readonly changedFiles: number;
}

/** The app's own branch for a PR. Every ref write checks its name starts with this prefix. */
export const BRANCH_PREFIX = "cilium-policy-bot/";
export const COMMENT_MARKER = "<!-- cilium-policy-bot -->";
export const CHECK_NAME = "Cilium policy";

export function followUpBranch(pullNumber: number): string {
  return `${BRANCH_PREFIX}pr-${pullNumber}`;
}

/** n when `branch` is exactly the app's follow-up branch name cilium-policy-bot/pr-<n>; else null. */
export function followUpNumberOf(branch: string): number | null {
  if (!branch.startsWith(BRANCH_PREFIX)) return null;
  const match = /^pr-([1-9][0-9]{0,9})$/.exec(branch.slice(BRANCH_PREFIX.length));
  return match ? Number(match[1]) : null;
}

/** Throws unless `ref` ("heads/…" or "refs/heads/…") is one of the app's own branches. */
export function assertOwnBranch(ref: string): void {
  const branch = ref.replace(/^refs\//, "").replace(/^heads\//, "");
  if (!ref.replace(/^refs\//, "").startsWith("heads/") || !branch.startsWith(BRANCH_PREFIX) || branch.includes("..")) {
    throw new Error(`refusing to write ref ${JSON.stringify(ref)}: the app writes only to ${BRANCH_PREFIX}* branches`);
  }
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}
