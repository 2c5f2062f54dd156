// The follow-up PR: the app's own branch cilium-policy-bot/pr-<n>, one commit on the PR head, a PR against the PR's
// head branch. Recomputed on every push, closed when nothing is left to fix.
//
// A new branch is created at the PR head and gets its commit from GraphQL's createCommitOnBranch (two requests,
// and GitHub signs the commit). An existing branch is never moved onto the PR head first: GitHub closes a pull
// request whose head branch is force-pushed to no commit over its base, for good. Its new commit is made with the
// Git Data API on the PR head and the branch moved to it in one step. Each commit carries a digest of its change
// set as a trailer, so a redelivery finds the branch up to date with one read and writes nothing.
import { createHash } from "node:crypto";
import type { FileChange, FixResult } from "../policy/api.js";
import { anyGuessed, followUpBody, followUpTitle } from "./render.js";
import type { GitHub, PullRequestInfo, RepoRef } from "./types.js";
import { assertOwnBranch, followUpBranch, statusOf } from "./types.js";

export interface FollowUp {
  readonly number: number;
  readonly url: string;
  readonly headSha: string;
  readonly body: string;
}

export async function findFollowUp(octokit: GitHub, repo: RepoRef, pullNumber: number): Promise<FollowUp | null> {
  const { data } = await octokit.rest.pulls.list({
    ...repo,
    head: `${repo.owner}:${followUpBranch(pullNumber)}`,
    state: "open",
    per_page: 10,
  });
  const pr = data.find((candidate) => candidate.head.ref === followUpBranch(pullNumber));
  return pr ? { number: pr.number, url: pr.html_url, headSha: pr.head.sha, body: pr.body ?? "" } : null;
}

/** Creates the app's branch; false when it exists already (left as it is). */
async function createBranch(octokit: GitHub, repo: RepoRef, branch: string, sha: string): Promise<boolean> {
  const ref = `heads/${branch}`;
  assertOwnBranch(ref);
  try {
    await octokit.rest.git.createRef({ ...repo, ref: `refs/${ref}`, sha });
    return true;
  } catch (error) {
    if (statusOf(error) !== 422) throw error;
    return false;
  }
}

/** Moves the app's own branch (an earlier run's commit, maybe from a run that failed before opening the PR). */
async function moveBranch(octokit: GitHub, repo: RepoRef, branch: string, sha: string): Promise<void> {
  const ref = `heads/${branch}`;
  assertOwnBranch(ref);
  await octokit.rest.git.updateRef({ ...repo, ref, sha, force: true });
}

export async function deleteBranch(octokit: GitHub, repo: RepoRef, pullNumber: number): Promise<void> {
  const ref = `heads/${followUpBranch(pullNumber)}`;
  assertOwnBranch(ref);
  try {
    await octokit.rest.git.deleteRef({ ...repo, ref });
  } catch (error) {
    const status = statusOf(error);
    if (status !== 404 && status !== 422) throw error;
  }
}

/** Closes the follow-up PR with a comment and deletes the app's branch; also cleans a branch left without a PR. */
export async function closeFollowUp(
  octokit: GitHub,
  repo: RepoRef,
  pullNumber: number,
  reason: string,
  existing?: FollowUp | null,
): Promise<boolean> {
  const followUp = existing === undefined ? await findFollowUp(octokit, repo, pullNumber) : existing;
  if (followUp) {
    await octokit.rest.issues.createComment({ ...repo, issue_number: followUp.number, body: reason });
    await octokit.rest.pulls.update({ ...repo, pull_number: followUp.number, state: "closed" });
  }
  await deleteBranch(octokit, repo, pullNumber);
  return followUp !== null;
}

/** The trailer naming a follow-up commit's change set. */
export const CHANGES_TRAILER = "Cilium-Policy-Bot-Changes";

/** sha256 over the change set, sorted by path, each path and content length-prefixed: equal sets, equal digests. */
export function changeSetDigest(changes: readonly FileChange[]): string {
  const hash = createHash("sha256");
  for (const change of [...changes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const path = Buffer.from(change.path, "utf8");
    const content = Buffer.from(change.after, "utf8");
    hash.update(`${path.length}:`).update(path).update(`${content.length}:`).update(content);
  }
  return hash.digest("hex");
}

/** The digest in a commit message's trailer, or null. */
export function changesTrailerOf(message: string): string | null {
  return new RegExp(`^${CHANGES_TRAILER}: ([0-9a-f]{64})$`, "m").exec(message)?.[1] ?? null;
}

interface CommitMessage {
  readonly headline: string;
  readonly body: string;
  readonly digest: string;
}

function commitMessage(pullNumber: number, result: FixResult): CommitMessage {
  const digest = changeSetDigest(result.changes);
  return {
    headline: "Rewrite toServices+toPorts to toEndpoints",
    body:
      `Follow-up for #${pullNumber}: rewrites ${result.rewrites.length} egress rule(s) in ${result.changes.length} file(s).\n\n` +
      `${CHANGES_TRAILER}: ${digest}`,
    digest,
  };
}

const CREATE_COMMIT_ON_BRANCH = `
  mutation CreateFollowUpCommit($input: CreateCommitOnBranchInput!) {
    createCommitOnBranch(input: $input) {
      commit {
        oid
      }
    }
  }
`;

/** GitHub's answer when the branch no longer points to expectedHeadOid: HTTP 200 with an error of type STALE_DATA. */
export function isStaleHead(error: unknown): boolean {
  const errors = (error as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return false;
  return errors.some((e: { type?: unknown; message?: unknown }) => {
    return e?.type === "STALE_DATA" || /Expected branch to point to/.test(String(e?.message ?? ""));
  });
}

/** One commit of `changes` on the app's branch, which must point to `expectedHead`; returns its sha. */
async function commitOnBranch(
  octokit: GitHub,
  repo: RepoRef,
  branch: string,
  expectedHead: string,
  changes: readonly FileChange[],
  message: CommitMessage,
): Promise<string> {
  assertOwnBranch(`heads/${branch}`);
  const data = await octokit.graphql<{ createCommitOnBranch: { commit: { oid: string } } }>(CREATE_COMMIT_ON_BRANCH, {
    input: {
      branch: { repositoryNameWithOwner: `${repo.owner}/${repo.repo}`, branchName: branch },
      expectedHeadOid: expectedHead,
      message: { headline: message.headline, body: message.body },
      fileChanges: {
        additions: changes.map((change) => ({
          path: change.path,
          contents: Buffer.from(change.after, "utf8").toString("base64"),
        })),
      },
    },
  });
  return data.createCommitOnBranch.commit.oid;
}

/** A new commit of `changes` on the PR head, then the app's branch moved (forced) onto it; returns its sha. */
async function replaceBranchCommit(
  octokit: GitHub,
  repo: RepoRef,
  branch: string,
  pr: PullRequestInfo,
  changes: readonly FileChange[],
  message: CommitMessage,
): Promise<string> {
  const { data: headCommit } = await octokit.rest.git.getCommit({ ...repo, commit_sha: pr.headSha });
  const { data: tree } = await octokit.rest.git.createTree({
    ...repo,
    base_tree: headCommit.tree.sha,
    tree: changes.map((change) => ({
      path: change.path,
      mode: "100644" as const,
      type: "blob" as const,
      content: change.after,
    })),
  });
  const { data: commit } = await octokit.rest.git.createCommit({
    ...repo,
    message: `${message.headline}\n\n${message.body}`,
    tree: tree.sha,
    parents: [pr.headSha],
  });
  await moveBranch(octokit, repo, branch, commit.sha);
  return commit.sha;
}

/** Whether commit `sha` is ours for this change set on this PR head: then the branch is left as it is. */
async function isCurrent(
  octokit: GitHub,
  repo: RepoRef,
  sha: string,
  pr: PullRequestInfo,
  message: CommitMessage,
): Promise<boolean> {
  const { data: commit } = await octokit.rest.git.getCommit({ ...repo, commit_sha: sha });
  return (
    commit.parents.length === 1 &&
    commit.parents[0]?.sha === pr.headSha &&
    changesTrailerOf(commit.message) === message.digest
  );
}

/** Creates or updates the follow-up PR for `result`, or closes it when the result changes nothing. */
export async function syncFollowUp(
  octokit: GitHub,
  repo: RepoRef,
  pr: PullRequestInfo,
  result: FixResult,
): Promise<FollowUp | null> {
  if (result.changes.length === 0) {
    const existing = await findFollowUp(octokit, repo, pr.number);
    if (existing) {
      await closeFollowUp(
        octokit,
        repo,
        pr.number,
        `Nothing is left to rewrite at ${pr.headSha.slice(0, 7)} of #${pr.number}: closing this pull request.`,
        existing,
      );
    }
    return null;
  }
  const branch = followUpBranch(pr.number);
  const body = followUpBody(pr.number, result);
  const message = commitMessage(pr.number, result);

  let current: FollowUp | null = null;
  let branchHead: string;
  // A branch that did not exist has no open pull request (GitHub closes one whose head branch is deleted): it can
  // sit on the PR head until its commit lands, and no pull request need be looked up before opening one.
  if (await createBranch(octokit, repo, branch, pr.headSha)) {
    try {
      branchHead = await commitOnBranch(octokit, repo, branch, pr.headSha, result.changes, message);
    } catch (error) {
      if (!isStaleHead(error)) throw error;
      // The branch moved after we created it: a concurrent run for this PR committed, or our own retried request
      // did and its answer was lost. Keep that commit when it is this change set on this head; else replace it.
      const { data: ref } = await octokit.rest.git.getRef({ ...repo, ref: `heads/${branch}` });
      branchHead = (await isCurrent(octokit, repo, ref.object.sha, pr, message))
        ? ref.object.sha
        : await replaceBranchCommit(octokit, repo, branch, pr, result.changes, message);
    }
  } else {
    current = await findFollowUp(octokit, repo, pr.number);
    // Same change set on the same parent: a redelivery or a push that changed nothing we rewrite. Leave the branch.
    // Without a pull request (a run that failed before opening it) the branch is replaced unread.
    branchHead =
      current && (await isCurrent(octokit, repo, current.headSha, pr, message))
        ? current.headSha
        : await replaceBranchCommit(octokit, repo, branch, pr, result.changes, message);
  }

  if (!current) {
    try {
      const { data } = await octokit.rest.pulls.create({
        ...repo,
        head: branch,
        base: pr.headRef,
        title: followUpTitle(pr.number),
        body,
        draft: anyGuessed(result),
      });
      return { number: data.number, url: data.html_url, headSha: data.head.sha, body };
    } catch (error) {
      if (statusOf(error) !== 422) throw error;
      // "A pull request already exists": opened by a concurrent run; update it like any existing one.
      current = await findFollowUp(octokit, repo, pr.number);
      if (!current) throw error;
      branchHead = current.headSha;
    }
  }
  if (current.body !== body) {
    await octokit.rest.pulls.update({ ...repo, pull_number: current.number, body, title: followUpTitle(pr.number) });
  }
  return { ...current, headSha: branchHead, body };
}
