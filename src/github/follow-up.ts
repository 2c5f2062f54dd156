// The follow-up PR: the app's own branch cilium-policy-bot/pr-<n>, one commit on the PR head made with the Git Data
// API, a PR against the PR's head branch. Recomputed on every push, closed when nothing is left to fix.
import type { FixResult } from "../policy/fix.js";
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

  const { data: headCommit } = await octokit.rest.git.getCommit({ ...repo, commit_sha: pr.headSha });
  const { data: tree } = await octokit.rest.git.createTree({
    ...repo,
    base_tree: headCommit.tree.sha,
    tree: result.changes.map((change) => ({
      path: change.path,
      mode: "100644" as const,
      type: "blob" as const,
      content: change.after,
    })),
  });

  const { data: commit } = await octokit.rest.git.createCommit({
    ...repo,
    message: `Rewrite toServices+toPorts to toEndpoints\n\nFollow-up for #${pr.number}: rewrites ${result.rewrites.length} egress rule(s) in ${result.changes.length} file(s).`,
    tree: tree.sha,
    parents: [pr.headSha],
  });

  let current: FollowUp | null = null;
  let branchHead = commit.sha;
  // A branch that did not exist has no open pull request (GitHub closes one whose head branch is deleted): no
  // need to look one up before opening it.
  if (!(await createBranch(octokit, repo, branch, commit.sha))) {
    current = await findFollowUp(octokit, repo, pr.number);
    // Same tree on the same parent: a redelivery or a push that changed nothing we rewrite. Leave the branch.
    let upToDate = false;
    if (current) {
      const { data: ours } = await octokit.rest.git.getCommit({ ...repo, commit_sha: current.headSha });
      upToDate = ours.tree.sha === tree.sha && ours.parents.length === 1 && ours.parents[0]?.sha === pr.headSha;
    }
    if (upToDate && current) branchHead = current.headSha;
    else await moveBranch(octokit, repo, branch, commit.sha);
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
