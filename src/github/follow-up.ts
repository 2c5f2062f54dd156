// The follow-up PR: the app's own branch cilium-policy-bot/pr-<n>, one commit on the PR head, a PR against the PR's
// head branch. Recomputed on every push, closed when nothing is left to fix. Decided here over the host port.
//
// A new branch is created at the PR head and gets its commit from GraphQL's createCommitOnBranch (two requests,
// and GitHub signs the commit). An existing branch is never moved onto the PR head first: GitHub closes a pull
// request whose head branch is force-pushed to no commit over its base, for good. Its new commit is made on the PR
// head and the branch moved to it in one step. Each commit carries a digest of its change set as a trailer, so a
// redelivery finds the branch up to date with one read and writes nothing.
//
// Work that is not the app's is never overwritten (as Renovate and Dependabot do): the app knows its commits by
// their author and committer and the trailer. A follow-up branch holding someone else's commit is left as it is
// and its PR says so once, with a checkbox to recreate it; a branch of that name the app did not create is not
// touched at all; a follow-up a person closed without merging is not opened again for the same change set. The
// tip the app judges may be stale (a listing lags, a person pushes meanwhile), so every move or delete of the branch
// names that tip and is refused when the branch points elsewhere: the app then judges the new tip, never overwrites.
import { createHash } from "node:crypto";
import { REWRITE } from "../policy/api.js";
import type { FileChange, FixResult } from "../policy/api.js";
import type { AppIdentity, CommitInfo, CommitMessage, FollowUpPull, Host } from "./host.js";
import { anyGuessed, followUpBody, followUpTitle } from "./render.js";
import type { PullRequestInfo } from "./types.js";
import { followUpBranch } from "./types.js";

/** What became of the follow-up; everything but "open" and "none" is said in the findings comment. */
export type FollowUpOutcome =
  | { readonly kind: "none" }
  | { readonly kind: "open"; readonly pull: FollowUpPull; readonly recreated: boolean }
  | { readonly kind: "closed"; readonly pull: FollowUpPull }
  /** The branch holds a commit that is not the app's: it is no longer updated. */
  | { readonly kind: "edited"; readonly branch: string; readonly pull: FollowUpPull | null }
  /** A branch of that name the app did not create: not touched, nothing opened. */
  | { readonly kind: "squatted"; readonly branch: string }
  /** A person closed the follow-up for this same change set without merging it. */
  | { readonly kind: "declined"; readonly pull: FollowUpPull };

/** A follow-up step GitHub refused or failed: `step` says what, in words for the comment. */
export class FollowUpFailure extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(`could not ${step}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof FollowUpFailure) throw error;
    throw new FollowUpFailure(what, error);
  }
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

/** GitHub commits what createCommitOnBranch makes as "GitHub" (and signs it); the Git Data API as the app. */
const COMMITTERS_FOR_THE_APP = new Set(["GitHub"]);

/** Whether the app made `commit`: authored by it, committed by it or by GitHub for it, with its trailer. */
export function isOwnCommit(commit: CommitInfo, identity: AppIdentity): boolean {
  return (
    commit.authorName === identity.botLogin &&
    (commit.committerName === identity.botLogin || COMMITTERS_FOR_THE_APP.has(commit.committerName)) &&
    changesTrailerOf(commit.message) !== null
  );
}

export function commitMessage(pullNumber: number, result: FixResult): CommitMessage {
  const digest = changeSetDigest(result.changes);
  return {
    headline: REWRITE.title,
    body:
      `Follow-up for #${pullNumber}: rewrites ${result.rewrites.length} egress rule(s) in ${result.changes.length} file(s).\n\n` +
      `${CHANGES_TRAILER}: ${digest}`,
    digest,
  };
}

/** Marks the part of a follow-up PR body that says its branch was edited. */
export const EDITED_MARKER = "<!-- cilium-policy-bot:edited -->";
/** Marks a follow-up the app closed itself (not one a person declined). */
export const CLOSED_BY_APP_MARKER = "<!-- cilium-policy-bot:closed-by-app -->";
export const RECREATE_LABEL = "recreate this pull request, discarding the edits";
const RECREATE_BOX = new RegExp(`^\\s*[-*] \\[([ xX])\\] ${RECREATE_LABEL}\\s*$`, "m");

export function editedNotice(): string {
  return (
    `${EDITED_MARKER}\n> [!WARNING]\n> This branch was edited by someone other than the app, so the app no longer ` +
    `updates it: later pushes to the original pull request are not rewritten here.\n\n- [ ] ${RECREATE_LABEL}\n`
  );
}

function withEditedNotice(body: string): string {
  if (body.includes(EDITED_MARKER)) return body;
  return `${body.trimEnd()}\n\n${editedNotice()}`;
}

/** Whether `body` has the app's recreate checkbox, ticked. */
export function isRecreateTicked(body: string): boolean {
  return body.includes(EDITED_MARKER) && /[xX]/.test(RECREATE_BOX.exec(body)?.[1] ?? "");
}

/** Whether an edit from `before` to `after` ticked the recreate checkbox. */
export function recreateTickedBy(before: string, after: string): boolean {
  return !isRecreateTicked(before) && isRecreateTicked(after);
}

/** The app's commit for this change set on this PR head: then the branch is left as it is. */
function isCurrent(commit: CommitInfo, pr: PullRequestInfo, message: CommitMessage): boolean {
  return (
    commit.parents.length === 1 &&
    commit.parents[0] === pr.headSha &&
    changesTrailerOf(commit.message) === message.digest
  );
}

/** A follow-up a person closed without merging, for this same change set. */
async function declinedFor(host: Host, pulls: readonly FollowUpPull[], digest: string): Promise<FollowUpPull | null> {
  for (const pull of pulls) {
    if (pull.state === "open") return null; // newer than any closed one: not declined
    if (pull.merged || pull.body.includes(CLOSED_BY_APP_MARKER)) continue;
    const commit = await step(`read the commit of follow-up #${pull.number}`, () => host.readCommit(pull.headSha));
    if (changesTrailerOf(commit.message) === digest) return pull;
  }
  return null;
}

export interface SyncOptions {
  /**
   * The PR's first event ("opened"): no follow-up can exist yet, so none is looked up before the branch is created
   * (a redelivery finds the branch and looks then).
   */
  readonly firstEvent?: boolean;
}

/** Creates or updates the follow-up PR for `result`, or closes it when the result changes nothing. */
export async function syncFollowUp(
  host: Host,
  pr: PullRequestInfo,
  result: FixResult,
  options: SyncOptions = {},
): Promise<FollowUpOutcome> {
  const branch = followUpBranch(pr.number);
  if (result.changes.length === 0) {
    if (options.firstEvent) return { kind: "none" };
    return retireFollowUp(
      host,
      pr.number,
      `Nothing is left to rewrite at ${pr.headSha.slice(0, 7)} of #${pr.number}: closing this pull request.`,
    );
  }
  const message = commitMessage(pr.number, result);
  const body = followUpBody(pr.number, result);
  const listPulls = () => step(`list the pull requests of branch ${branch}`, () => host.followUps(branch));

  let pulls = options.firstEvent ? null : await listPulls();
  let open = pulls?.find((pull) => pull.state === "open") ?? null;
  if (pulls && !open) {
    const declined = await declinedFor(host, pulls, message.digest);
    if (declined) return { kind: "declined", pull: declined };
  }

  let tip: string;
  if (open) tip = open.headSha;
  else {
    const created = await step(`create branch ${branch}`, () => host.createBranch(branch, pr.headSha));
    if (created === "created") return commitNewBranch(host, pr, branch, result, message, body);
    if (pulls === null) {
      pulls = await listPulls();
      open = pulls.find((pull) => pull.state === "open") ?? null;
      if (!open) {
        const declined = await declinedFor(host, pulls, message.digest);
        if (declined) return { kind: "declined", pull: declined };
      }
    }
    const read = open?.headSha ?? (await step(`read branch ${branch}`, () => host.branchTip(branch)));
    if (read === null) throw new FollowUpFailure(`create branch ${branch}`, new Error("it exists, then it did not"));
    tip = read;
    // Bare at the PR head, and no follow-up was ever opened from it: what a run that could not commit leaves when
    // its clean-up failed too (both need GitHub's GraphQL API). It holds only the PR's own commits, so a commit on
    // it, made only while it still points there, discards no one's work.
    if (pulls!.length === 0 && tip === pr.headSha) return commitNewBranch(host, pr, branch, result, message, body);
  }

  const tipCommit = await step(`read branch ${branch}`, () => host.readCommit(tip));
  const edited = async (): Promise<FollowUpOutcome> => {
    if (open) {
      const noticed = withEditedNotice(open.body);
      if (noticed !== open.body) await updateBody(host, open, noticed, pr.number);
    }
    return { kind: "edited", branch, pull: open ?? pulls![0] ?? null };
  };
  if (!isOwnCommit(tipCommit, host.identity)) {
    // Nothing the app ever opened from this branch: someone else's branch of that name.
    if (pulls!.length === 0) return { kind: "squatted", branch };
    if (open && isRecreateTicked(open.body)) {
      // Discards exactly the edits the box was ticked for: a push since then is not thrown away unseen.
      const written = await step(`update branch ${branch}`, () =>
        host.replaceBranchCommit(branch, { expectedTip: tip, parent: pr.headSha }, result.changes, message),
      );
      if ("moved" in written) return edited();
      await updateBody(host, open, body, pr.number);
      return { kind: "open", pull: { ...open, headSha: written.sha, body }, recreated: true };
    }
    return edited();
  }

  const head = await refreshOwnBranch(host, pr, branch, tipCommit, result, message);
  if (head === null) return edited();
  if (!open) return openPull(host, pr, branch, result, body);
  if (open.body !== body) await updateBody(host, open, body, pr.number);
  return { kind: "open", pull: { ...open, headSha: head, body }, recreated: false };
}

/**
 * Puts this change set on the app's branch whose tip is the app's `commit`, moving the branch only if it still
 * points there. When it moved meanwhile (a person pushed, or the tip came from a listing that lagged), the new tip
 * is judged again, once: the app's own is updated; someone else's is left as it is (null).
 */
async function refreshOwnBranch(
  host: Host,
  pr: PullRequestInfo,
  branch: string,
  commit: CommitInfo,
  result: FixResult,
  message: CommitMessage,
): Promise<string | null> {
  let tip = commit;
  for (let judged = 1; ; judged++) {
    if (isCurrent(tip, pr, message)) return tip.sha;
    const expectedTip = tip.sha;
    const written = await step(`update branch ${branch}`, () =>
      host.replaceBranchCommit(branch, { expectedTip, parent: pr.headSha }, result.changes, message),
    );
    if (!("moved" in written)) return written.sha;
    const moved = written.moved;
    if (moved === null) throw new FollowUpFailure(`update branch ${branch}`, new Error("the branch was deleted"));
    if (judged === 2) return null; // moving under the app again: leave it, the next event looks afresh
    tip = await step(`read branch ${branch}`, () => host.readCommit(moved));
    if (!isOwnCommit(tip, host.identity)) return null;
  }
}

async function updateBody(host: Host, pull: FollowUpPull, body: string, pullNumber: number): Promise<void> {
  await step(`update the follow-up pull request #${pull.number}`, () =>
    host.updateFollowUp(pull.number, { body, title: followUpTitle(pullNumber) }),
  );
}

/** The branch was just created at the PR head: its one commit, then the pull request. */
async function commitNewBranch(
  host: Host,
  pr: PullRequestInfo,
  branch: string,
  result: FixResult,
  message: CommitMessage,
  body: string,
): Promise<FollowUpOutcome> {
  let committed: { sha: string } | "stale";
  try {
    committed = await host.commitOnBranch(branch, pr.headSha, result.changes, message);
  } catch (error) {
    // A bare branch at the PR head cannot be told from one a person made there: do not leave one behind (unless
    // something was pushed onto it meanwhile).
    await host.deleteBranch(branch, pr.headSha).catch(() => undefined);
    throw new FollowUpFailure(`commit to branch ${branch}`, error);
  }
  if (committed === "stale") {
    // The branch moved after we created it: a concurrent run for this PR committed, or our own retried request did
    // and its answer was lost. Keep that commit when it is this change set on this head; replace it when it is
    // another of the app's; leave it when it is someone else's.
    const tip = await step(`read branch ${branch}`, () => host.branchTip(branch));
    if (tip === null) throw new FollowUpFailure(`commit to branch ${branch}`, new Error("the branch was deleted"));
    const commit = await step(`read branch ${branch}`, () => host.readCommit(tip));
    if (!isOwnCommit(commit, host.identity)) return { kind: "edited", branch, pull: null };
    if ((await refreshOwnBranch(host, pr, branch, commit, result, message)) === null) {
      return { kind: "edited", branch, pull: null };
    }
  }
  return openPull(host, pr, branch, result, body);
}

async function openPull(
  host: Host,
  pr: PullRequestInfo,
  branch: string,
  result: FixResult,
  body: string,
): Promise<FollowUpOutcome> {
  const opened = await step("open the follow-up pull request", () =>
    host.openFollowUp({ branch, base: pr.headRef, title: followUpTitle(pr.number), body, draft: anyGuessed(result) }),
  );
  if (opened !== "exists") return { kind: "open", pull: opened, recreated: false };
  // Opened by a concurrent run: update it like any existing one.
  const pulls = await step(`list the pull requests of branch ${branch}`, () => host.followUps(branch));
  const open = pulls.find((pull) => pull.state === "open");
  if (!open) throw new FollowUpFailure("open the follow-up pull request", new Error("it exists, then it did not"));
  if (open.body !== body) await updateBody(host, open, body, pr.number);
  return { kind: "open", pull: { ...open, body }, recreated: false };
}

/**
 * Closes the open follow-up of PR `pullNumber` with `reason`, and deletes its branch when the branch holds only the
 * app's work; an edited branch is kept, and a branch the app did not create is never touched. `orphanBranch`: also
 * delete the app's branch when no follow-up is open (a run that failed before opening it).
 */
export async function retireFollowUp(
  host: Host,
  pullNumber: number,
  reason: string,
  options: { readonly orphanBranch?: boolean } = {},
): Promise<FollowUpOutcome> {
  const branch = followUpBranch(pullNumber);
  const pulls = await step(`list the pull requests of branch ${branch}`, () => host.followUps(branch));
  const open = pulls.find((pull) => pull.state === "open") ?? null;
  if (!open && !options.orphanBranch) return { kind: "none" };
  const tip = open?.headSha ?? (await step(`read branch ${branch}`, () => host.branchTip(branch)));
  const ours =
    tip !== null && isOwnCommit(await step(`read branch ${branch}`, () => host.readCommit(tip)), host.identity);
  if (open) {
    // Closed first: a failed close then leaves no comment promising it.
    await step(`close the follow-up pull request #${open.number}`, () =>
      host.updateFollowUp(open.number, {
        state: "closed",
        body: `${open.body.trimEnd()}\n\n${CLOSED_BY_APP_MARKER}\n`,
      }),
    );
  }
  // Before the comment, so that it says what became of the branch; a failed delete is thrown after the comment.
  let deleted = false;
  let failure: FollowUpFailure | null = null;
  if (ours) {
    try {
      deleted = await deleteOwnBranch(host, branch, tip);
    } catch (error) {
      failure = error as FollowUpFailure;
    }
  }
  if (open) {
    const kept =
      deleted || failure ? "" : `\n\nIts branch \`${branch}\` holds commits that are not the app's, so it is kept.`;
    await step(`comment on the follow-up pull request #${open.number}`, () =>
      host.commentOnPull(open.number, `${reason}${kept}`),
    );
  }
  if (failure) throw failure;
  return open ? { kind: "closed", pull: { ...open, state: "closed" } } : { kind: "none" };
}

/**
 * Deletes the app's branch only if it still points to `tip`, the app's commit judged before: a push since then
 * keeps it. A branch that moved is judged again, once, like refreshOwnBranch. Returns whether it is gone.
 */
async function deleteOwnBranch(host: Host, branch: string, tip: string): Promise<boolean> {
  let expectedTip = tip;
  for (let judged = 1; ; judged++) {
    const deleted = await step(`delete branch ${branch}`, () => host.deleteBranch(branch, expectedTip));
    if (deleted === "deleted") return true;
    const moved = deleted.moved!; // "deleted" when it is gone
    if (judged === 2) return false;
    if (!isOwnCommit(await step(`read branch ${branch}`, () => host.readCommit(moved)), host.identity)) return false;
    expectedTip = moved;
  }
}

/** The comment's words for a follow-up that could not be made, was edited, declined, or is squatted. */
export function followUpNote(outcome: FollowUpOutcome, failure: string | null): string | null {
  // `failure` is the app's own words, GitHub's message in it made inert already (describeFailure).
  if (failure !== null) return `> [!WARNING]\n> The follow-up pull request ${failure.replace(/\s*\n\s*/g, " ")}`;
  switch (outcome.kind) {
    case "edited":
      return (
        `> [!NOTE]\n> The follow-up branch \`${outcome.branch}\`${outcome.pull ? ` (#${outcome.pull.number})` : ""} ` +
        `holds commits that are not the app's, so the app no longer updates it.` +
        (outcome.pull?.state === "open"
          ? ` Tick "${RECREATE_LABEL}" in #${outcome.pull.number} to have it rewritten.`
          : "")
      );
    case "squatted":
      return (
        `> [!NOTE]\n> A branch \`${outcome.branch}\` exists that this app did not create: it is left untouched and ` +
        `no follow-up pull request is opened. Rename or delete that branch to get one.`
      );
    case "declined":
      return (
        `> [!NOTE]\n> The follow-up pull request #${outcome.pull.number} was closed without merging, so it is not ` +
        `opened again for the same rewrite; a push that changes the rewrite opens a new one.`
      );
    default:
      return null;
  }
}
