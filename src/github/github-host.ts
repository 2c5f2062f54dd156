// The job's host port (host.ts) implemented for GitHub: REST and GraphQL through an installation's Octokit.
import { CHART_DIRECTORY_LIMITS } from "../charts/repository-charts.js";
import type { FileChange } from "../policy/api.js";
import { completeCheckRun, startCheckRun } from "./check-run.js";
import { upsertComment } from "./comment.js";
import { loadConfig } from "./config.js";
import { postSuggestions } from "./fork.js";
import type { AppIdentity, BranchMoved, CommitInfo, CommitMessage, FollowUpPull, Host, NewFollowUp } from "./host.js";
import { listChangedFiles, readDirectories, readSnapshot } from "./snapshot.js";
import type { GitHub, PullRequestInfo, RepoRef } from "./types.js";
import { assertOwnBranch, statusOf } from "./types.js";

const CREATE_COMMIT_ON_BRANCH = `
  mutation CreateFollowUpCommit($input: CreateCommitOnBranchInput!) {
    createCommitOnBranch(input: $input) {
      commit {
        oid
      }
    }
  }
`;

// Moves or deletes a ref only if it still points to beforeOid, atomically: the REST API's PATCH and DELETE of a ref
// take no expected value, so a person's push between the job's look and its write would be thrown away.
const UPDATE_REFS = `
  mutation MoveFollowUpBranch($input: UpdateRefsInput!) {
    updateRefs(input: $input) {
      clientMutationId
    }
  }
`;

/** The GitObjectID updateRefs reads as "no ref": as afterOid it deletes. */
const NO_OID = "0".repeat(40);

/** GitHub's answer when the branch no longer points to expectedHeadOid: HTTP 200 with an error of type STALE_DATA. */
export function isStaleHead(error: unknown): boolean {
  const errors = (error as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return false;
  return errors.some((e: { type?: unknown; message?: unknown }) => {
    return e?.type === "STALE_DATA" || /Expected branch to point to/.test(String(e?.message ?? ""));
  });
}

function ownRef(branch: string): string {
  const ref = `heads/${branch}`;
  assertOwnBranch(ref);
  return ref;
}

export class GitHubHost implements Host {
  readonly #octokit: GitHub;
  readonly #repo: RepoRef;
  readonly identity: AppIdentity;
  #repositoryId: string | undefined;

  /** `repositoryId`: the repository's node id, as the webhook gives it; read from GitHub when a write needs it. */
  constructor(octokit: GitHub, repo: RepoRef, identity: AppIdentity, options: { readonly repositoryId?: string } = {}) {
    this.#octokit = octokit;
    this.#repo = { owner: repo.owner, repo: repo.repo };
    this.identity = identity;
    this.#repositoryId = options.repositoryId || undefined;
  }

  async #repositoryNodeId(): Promise<string> {
    if (this.#repositoryId === undefined) {
      const { data } = await this.#octokit.rest.repos.get({ ...this.#repo });
      this.#repositoryId = data.node_id;
    }
    return this.#repositoryId;
  }

  /**
   * `branch` from `before` to `after` (NO_OID: deleted), forced, only if it points to `before` now. GitHub answers
   * a beforeOid that does not match with a generic GraphQL error (no type that says so), and a failure can also
   * come after the write took effect (a lost answer): on any failure the branch is read again, and where it points
   * tells. Still at `before`: the write failed for another reason, thrown as it came.
   */
  async #moveRef(branch: string, before: string, after: string): Promise<"done" | BranchMoved> {
    const name = `refs/${ownRef(branch)}`;
    try {
      const repositoryId = await this.#repositoryNodeId();
      await this.#octokit.graphql(UPDATE_REFS, {
        input: { repositoryId, refUpdates: [{ name, beforeOid: before, afterOid: after, force: true }] },
        // GitHub's docs still list updateRefs as a schema preview (GitHub Enterprise Server may need the media
        // type); where it is generally available the header changes nothing.
        mediaType: { previews: ["update-refs"] },
      });
      return "done";
    } catch (error) {
      let now: string | null;
      try {
        now = await this.branchTip(branch);
      } catch {
        throw error;
      }
      if ((now ?? NO_OID) === after) return "done";
      if (now !== before) return { moved: now };
      throw error;
    }
  }

  async pullRequest(number: number): Promise<PullRequestInfo> {
    const { data } = await this.#octokit.rest.pulls.get({ ...this.#repo, pull_number: number });
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

  changedFiles(pr: PullRequestInfo) {
    return listChangedFiles(this.#octokit, this.#repo, pr);
  }

  snapshot(sha: string) {
    return readSnapshot(this.#octokit, this.#repo, sha);
  }

  chartFiles(sha: string, directories: readonly string[]) {
    return readDirectories(this.#octokit, this.#repo, sha, directories, CHART_DIRECTORY_LIMITS);
  }

  configuration() {
    return loadConfig(this.#octokit, this.#repo);
  }

  startCheckRun(sha: string) {
    return startCheckRun(this.#octokit, this.#repo, sha, this.identity.id);
  }

  completeCheckRun(
    _sha: string,
    run: Parameters<Host["completeCheckRun"]>[1],
    output: Parameters<Host["completeCheckRun"]>[2],
  ) {
    return completeCheckRun(this.#octokit, this.#repo, run, output);
  }

  publishComment(issue: number, body: string, create: boolean) {
    return upsertComment(this.#octokit, this.#repo, issue, this.identity.botLogin, body, create);
  }

  postSuggestions(pr: PullRequestInfo, suggestions: Parameters<Host["postSuggestions"]>[1]) {
    return postSuggestions(this.#octokit, this.#repo, pr.number, pr.headSha, this.identity.botLogin, suggestions);
  }

  async followUps(branch: string): Promise<FollowUpPull[]> {
    const { data } = await this.#octokit.rest.pulls.list({
      ...this.#repo,
      head: `${this.#repo.owner}:${branch}`,
      state: "all",
      sort: "created",
      direction: "desc",
      per_page: 20,
    });
    return data
      .filter((pr) => pr.head.ref === branch && pr.user?.login === this.identity.botLogin)
      .map((pr) => ({
        number: pr.number,
        url: pr.html_url,
        state: pr.state === "open" ? "open" : "closed",
        merged: pr.merged_at !== null && pr.merged_at !== undefined,
        headSha: pr.head.sha,
        body: pr.body ?? "",
      }));
  }

  async branchTip(branch: string): Promise<string | null> {
    try {
      const { data } = await this.#octokit.rest.git.getRef({ ...this.#repo, ref: `heads/${branch}` });
      return data.object.sha;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  async readCommit(sha: string): Promise<CommitInfo> {
    const { data } = await this.#octokit.rest.git.getCommit({ ...this.#repo, commit_sha: sha });
    return {
      sha: data.sha,
      parents: data.parents.map((parent) => parent.sha),
      authorName: data.author?.name ?? "",
      committerName: data.committer?.name ?? "",
      message: data.message,
    };
  }

  async createBranch(branch: string, sha: string): Promise<"created" | "exists"> {
    const ref = ownRef(branch);
    try {
      await this.#octokit.rest.git.createRef({ ...this.#repo, ref: `refs/${ref}`, sha });
      return "created";
    } catch (error) {
      // "Reference already exists"; a ruleset refusing the branch also answers 422, with another message
      if (statusOf(error) === 422 && /already exists/i.test((error as Error).message)) return "exists";
      throw error;
    }
  }

  async commitOnBranch(
    branch: string,
    expectedHead: string,
    changes: readonly FileChange[],
    message: CommitMessage,
  ): Promise<{ sha: string } | "stale"> {
    ownRef(branch);
    try {
      const data = await this.#octokit.graphql<{ createCommitOnBranch: { commit: { oid: string } } }>(
        CREATE_COMMIT_ON_BRANCH,
        {
          input: {
            branch: { repositoryNameWithOwner: `${this.#repo.owner}/${this.#repo.repo}`, branchName: branch },
            expectedHeadOid: expectedHead,
            message: { headline: message.headline, body: message.body },
            fileChanges: {
              additions: changes.map((change) => ({
                path: change.path,
                contents: Buffer.from(change.after, "utf8").toString("base64"),
              })),
            },
          },
        },
      );
      return { sha: data.createCommitOnBranch.commit.oid };
    } catch (error) {
      if (isStaleHead(error)) return "stale";
      throw error;
    }
  }

  async replaceBranchCommit(
    branch: string,
    { expectedTip, parent }: { readonly expectedTip: string; readonly parent: string },
    changes: readonly FileChange[],
    message: CommitMessage,
  ): Promise<{ sha: string } | BranchMoved> {
    ownRef(branch);
    const { data: parentCommit } = await this.#octokit.rest.git.getCommit({ ...this.#repo, commit_sha: parent });
    const { data: tree } = await this.#octokit.rest.git.createTree({
      ...this.#repo,
      base_tree: parentCommit.tree.sha,
      tree: changes.map((change) => ({
        path: change.path,
        mode: "100644" as const,
        type: "blob" as const,
        content: change.after,
      })),
    });
    const { data: commit } = await this.#octokit.rest.git.createCommit({
      ...this.#repo,
      message: `${message.headline}\n\n${message.body}`,
      tree: tree.sha,
      parents: [parent],
    });
    const moved = await this.#moveRef(branch, expectedTip, commit.sha);
    return moved === "done" ? { sha: commit.sha } : moved;
  }

  async deleteBranch(branch: string, expectedTip: string): Promise<"deleted" | BranchMoved> {
    const moved = await this.#moveRef(branch, expectedTip, NO_OID);
    if (moved === "done" || moved.moved === null) return "deleted";
    return moved;
  }

  async openFollowUp(input: NewFollowUp): Promise<FollowUpPull | "exists"> {
    ownRef(input.branch);
    try {
      const { data } = await this.#octokit.rest.pulls.create({
        ...this.#repo,
        head: input.branch,
        base: input.base,
        title: input.title,
        body: input.body,
        draft: input.draft,
      });
      return {
        number: data.number,
        url: data.html_url,
        state: "open",
        merged: false,
        headSha: data.head.sha,
        body: data.body ?? input.body,
      };
    } catch (error) {
      if (
        statusOf(error) === 422 &&
        /already exists/i.test(
          JSON.stringify((error as { response?: { data?: unknown } }).response?.data ?? (error as Error).message),
        )
      ) {
        return "exists";
      }
      throw error;
    }
  }

  async updateFollowUp(
    number: number,
    update: { readonly title?: string; readonly body?: string; readonly state?: "closed" },
  ): Promise<void> {
    await this.#octokit.rest.pulls.update({ ...this.#repo, pull_number: number, ...update });
  }

  async commentOnPull(number: number, body: string): Promise<void> {
    await this.#octokit.rest.issues.createComment({ ...this.#repo, issue_number: number, body });
  }
}
