// The job's host port (src/github/host.ts) in memory: a repository of branches and commits, pull requests, the
// app's comment and check runs, with every call logged and failures injectable per method. The job's decisions are
// tested against it in milliseconds; the GitHub adapter is tested against the OpenAPI-checked stand-in.
import { DEFAULT_APP_SETTINGS, DEFAULT_CONFIG } from "../../src/policy/config.js";
import type { AppSettings, Config, FileChange, SourceFile } from "../../src/policy/api.js";
import type { CheckRunOutput, CheckRunRef } from "../../src/github/check-run.js";
import { checkRunFingerprint } from "../../src/github/check-run.js";
import type { Suggestion } from "../../src/github/fork.js";
import type {
  AppIdentity,
  BranchMoved,
  CommitInfo,
  CommitMessage,
  FollowUpPull,
  Host,
  NewFollowUp,
} from "../../src/github/host.js";
import type { ChangedFiles } from "../../src/github/snapshot.js";
import type { PullRequestInfo } from "../../src/github/types.js";
import { sources } from "./sources.js";

export const IDENTITY: AppIdentity = { id: 7, botLogin: "cilium-policy-bot[bot]" };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface MemoryPull extends Mutable<FollowUpPull> {
  user: string;
  headRef: string;
  base: string;
  title: string;
  draft: boolean;
}

export interface MemoryCheckRun {
  id: number;
  sha: string;
  status: "in_progress" | "completed";
  output: CheckRunOutput | null;
  externalId: string;
}

/** An error as Octokit throws one. */
export function httpError(status: number, message = "Server Error"): Error {
  return Object.assign(new Error(message), { status });
}

type Method = keyof Omit<Host, "identity">;

export class MemoryHost implements Host {
  readonly identity = IDENTITY;
  readonly calls: Method[] = [];
  readonly faults = new Map<Method, Error[]>();
  readonly #meanwhile = new Map<Method, Array<() => void>>();
  readonly branches = new Map<string, string>();
  readonly commits = new Map<string, CommitInfo & { files: Record<string, string> }>();
  readonly pulls: MemoryPull[] = [];
  readonly prComments: Array<{ number: number; body: string }> = [];
  readonly checkRuns: MemoryCheckRun[] = [];
  comment: string | null = null;
  files: Record<string, string>;
  config: Config = DEFAULT_CONFIG;
  app: AppSettings = DEFAULT_APP_SETTINGS;
  configError: string | null = null;
  #next = 1;
  readonly pr: Mutable<PullRequestInfo>;

  constructor(files: Record<string, string>, changed: readonly string[]) {
    this.files = files;
    const head = this.commit([], files, "the PR's work", "octocat", "octocat");
    this.branches.set("feature", head);
    this.pr = {
      number: 7,
      state: "open",
      headSha: head,
      headRef: "feature",
      headRepo: "acme/gitops",
      baseRepo: "acme/gitops",
      changedFiles: changed.length,
    };
    this.changed = changed;
  }

  readonly changed: readonly string[];

  /** A commit object; returns its sha. */
  commit(
    parents: string[],
    files: Record<string, string>,
    message: string,
    author: string,
    committer = author,
  ): string {
    const sha = `c${String(this.#next++).padStart(39, "0")}`;
    this.commits.set(sha, { sha, parents, authorName: author, committerName: committer, message, files });
    return sha;
  }

  /** A person pushes to the PR's branch. */
  pushToPr(files: Record<string, string>): string {
    this.files = { ...this.files, ...files };
    const sha = this.commit([this.pr.headSha], this.files, "push", "octocat");
    this.branches.set("feature", sha);
    this.pr.headSha = sha;
    return sha;
  }

  #call<T>(method: Method, run: () => T): Promise<T> {
    this.calls.push(method);
    this.#meanwhile.get(method)?.shift()?.();
    const fault = this.faults.get(method)?.shift();
    if (fault) return Promise.reject(fault);
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Runs `action` once, just before the next call of `method` takes effect: what someone else does meanwhile. */
  meanwhile(method: Method, action: () => void): void {
    this.#meanwhile.set(method, [...(this.#meanwhile.get(method) ?? []), action]);
  }

  /** A person pushes a commit of `files` onto `branch`; returns its sha. */
  pushAs(branch: string, files: Record<string, string>, author = "octocat"): string {
    const parent = this.branches.get(branch)!;
    const sha = this.commit([parent], { ...this.commits.get(parent)!.files, ...files }, "a person's edit", author);
    this.branches.set(branch, sha);
    return sha;
  }

  fail(method: Method, ...errors: Error[]): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...errors]);
  }

  pullRequest(number: number) {
    return this.#call("pullRequest", () => {
      if (number !== this.pr.number) throw httpError(404, "Not Found");
      return { ...this.pr };
    });
  }

  changedFiles(): Promise<ChangedFiles> {
    return this.#call("changedFiles", () => ({
      files: this.changed.map((path) => ({ path, status: "added" })),
      truncated: false,
    }));
  }

  snapshot(): Promise<SourceFile[]> {
    return this.#call("snapshot", () => sources(this.files));
  }

  chartFiles(_sha: string, directories: readonly string[]): Promise<SourceFile[]> {
    return this.#call("chartFiles", () => {
      const prefixes = directories.map((directory) => `${directory.replace(/\/+$/, "")}/`);
      return sources(this.files).filter((file) => prefixes.some((prefix) => file.path.startsWith(prefix)));
    });
  }

  configuration() {
    return this.#call("configuration", () =>
      this.configError === null ? { config: this.config, app: this.app } : { error: this.configError },
    );
  }

  startCheckRun(sha: string): Promise<CheckRunRef> {
    return this.#call("startCheckRun", () => {
      let run = this.checkRuns.find((r) => r.sha === sha);
      if (!run) {
        run = { id: this.#next++, sha, status: "in_progress", output: null, externalId: "" };
        this.checkRuns.push(run);
      }
      return { id: run.id, externalId: run.externalId, completed: run.status === "completed" };
    });
  }

  completeCheckRun(_sha: string, ref: CheckRunRef, output: CheckRunOutput) {
    return this.#call("completeCheckRun", () => {
      const run = this.checkRuns.find((r) => r.id === ref.id)!;
      const fingerprint = checkRunFingerprint(output);
      if (run.status === "completed" && run.externalId === fingerprint) return "unchanged" as const;
      Object.assign(run, { status: "completed", output, externalId: fingerprint });
      return "updated" as const;
    });
  }

  publishComment(_issue: number, body: string, create: boolean) {
    return this.#call("publishComment", () => {
      if (this.comment === null && !create) return "none" as const;
      const outcome = this.comment === null ? "created" : this.comment === body ? "unchanged" : "updated";
      this.comment = body;
      return outcome;
    });
  }

  postSuggestions(_pr: PullRequestInfo, suggestions: readonly Suggestion[]) {
    return this.#call("postSuggestions", () => suggestions.length);
  }

  followUps(branch: string) {
    return this.#call("followUps", () =>
      this.pulls
        .filter((pull) => pull.headRef === branch && pull.user === IDENTITY.botLogin)
        .map((pull) => ({ ...pull, headSha: pull.state === "open" ? this.branches.get(branch)! : pull.headSha }))
        .reverse(),
    );
  }

  branchTip(branch: string) {
    return this.#call("branchTip", () => this.branches.get(branch) ?? null);
  }

  readCommit(sha: string) {
    return this.#call("readCommit", () => {
      const commit = this.commits.get(sha);
      if (!commit) throw httpError(404, "Not Found");
      return commit;
    });
  }

  createBranch(branch: string, sha: string) {
    return this.#call("createBranch", () => {
      if (this.branches.has(branch)) return "exists" as const;
      this.branches.set(branch, sha);
      return "created" as const;
    });
  }

  #applied(parent: string, changes: readonly FileChange[]): Record<string, string> {
    const files = { ...this.commits.get(parent)!.files };
    for (const change of changes) files[change.path] = change.after;
    return files;
  }

  commitOnBranch(branch: string, expectedHead: string, changes: readonly FileChange[], message: CommitMessage) {
    return this.#call("commitOnBranch", () => {
      if (this.branches.get(branch) !== expectedHead) return "stale" as const;
      const sha = this.commit(
        [expectedHead],
        this.#applied(expectedHead, changes),
        `${message.headline}\n\n${message.body}`,
        IDENTITY.botLogin,
        "GitHub",
      );
      this.branches.set(branch, sha);
      return { sha };
    });
  }

  replaceBranchCommit(
    branch: string,
    { expectedTip, parent }: { expectedTip: string; parent: string },
    changes: readonly FileChange[],
    message: CommitMessage,
  ) {
    return this.#call("replaceBranchCommit", (): { sha: string } | BranchMoved => {
      const sha = this.commit(
        [parent],
        this.#applied(parent, changes),
        `${message.headline}\n\n${message.body}`,
        IDENTITY.botLogin,
      );
      // The commit is made either way (as GitHub's Git Data API makes it); the branch moves only from expectedTip.
      const tip = this.branches.get(branch) ?? null;
      if (tip !== expectedTip) return { moved: tip };
      this.branches.set(branch, sha);
      return { sha };
    });
  }

  deleteBranch(branch: string, expectedTip: string) {
    return this.#call("deleteBranch", (): "deleted" | BranchMoved => {
      const tip = this.branches.get(branch);
      if (tip !== undefined && tip !== expectedTip) return { moved: tip };
      this.branches.delete(branch);
      return "deleted";
    });
  }

  openFollowUp(input: NewFollowUp) {
    return this.#call("openFollowUp", (): MemoryPull | "exists" => {
      if (this.pulls.some((pull) => pull.state === "open" && pull.headRef === input.branch)) return "exists";
      const pull: MemoryPull = {
        number: 100 + this.pulls.length,
        url: `https://github.com/acme/gitops/pull/${100 + this.pulls.length}`,
        state: "open",
        merged: false,
        headSha: this.branches.get(input.branch)!,
        body: input.body,
        user: IDENTITY.botLogin,
        headRef: input.branch,
        base: input.base,
        title: input.title,
        draft: input.draft,
      };
      this.pulls.push(pull);
      return pull;
    });
  }

  updateFollowUp(number: number, update: { title?: string; body?: string; state?: "closed" }) {
    return this.#call("updateFollowUp", () => {
      const pull = this.pulls.find((p) => p.number === number)!;
      if (update.state === "closed") pull.headSha = this.branches.get(pull.headRef) ?? pull.headSha;
      Object.assign(pull, update);
    });
  }

  commentOnPull(number: number, body: string) {
    return this.#call("commentOnPull", () => {
      this.prComments.push({ number, body });
    });
  }

  /** Writes to the repository or a pull request (what a decision may not do in some cases). */
  writes(): Method[] {
    const writes = new Set<Method>([
      "createBranch",
      "commitOnBranch",
      "replaceBranchCommit",
      "deleteBranch",
      "openFollowUp",
      "updateFollowUp",
      "commentOnPull",
    ]);
    return this.calls.filter((call) => writes.has(call));
  }
}
