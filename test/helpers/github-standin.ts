// A stand-in for GitHub's REST API on 127.0.0.1, backed by a real git repository on disk. Every request is checked
// against GitHub's OpenAPI description (violations are recorded and answered 422, as GitHub would), every GraphQL
// request (POST /graphql) against GitHub's GraphQL schema, every request is logged (tests count them), and faults
// can be injected per route.
import { createHash, randomBytes, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { graphql } from "graphql";
import { GitRepo } from "./github-git.js";
import { githubGraphqlSchema, openApiValidator } from "./github-openapi.js";

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly route: string;
  readonly status: number;
  readonly body?: unknown;
  /** The Accept header, where the request sent one. */
  readonly accept?: string;
  /** Milliseconds since the stand-in started, when the answer was sent. */
  readonly at: number;
}

export interface Fault {
  readonly method?: string;
  /** Matched against the route template (e.g. "/repos/{owner}/{repo}/pulls") or the raw path. */
  readonly route: string | RegExp;
  readonly status: number;
  /** How many matching requests fail; then the route works again. */
  times: number;
  readonly message?: string;
  readonly headers?: Record<string, string>;
}

export interface PullRequestState {
  number: number;
  state: "open" | "closed";
  title: string;
  body: string;
  draft: boolean;
  headRef: string;
  headSha: string;
  /** "owner/name" the head branch lives in: the base repository, or a fork. */
  headRepo: string;
  baseRef: string;
  user: string;
  /** Set by tests that merge a follow-up. */
  merged?: boolean;
}

export interface IssueComment {
  id: number;
  issueNumber: number;
  body: string;
  user: string;
  updates: number;
}

export interface ReviewComment {
  id: number;
  pullNumber: number;
  commitId: string;
  path: string;
  line: number;
  startLine: number | null;
  body: string;
  user: string;
}

export interface CheckRun {
  id: number;
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  externalId: string;
  title: string;
  summary: string;
  annotations: Array<Record<string, unknown>>;
  requests: number;
}

export interface RefWrite {
  readonly op: "create" | "update" | "delete";
  readonly ref: string;
  readonly sha?: string;
}

export interface StandInOptions {
  readonly owner: string;
  readonly repo: string;
  readonly appId: number;
  readonly appSlug: string;
  readonly installationId: number;
  /** The app's public key: JWTs on /app routes are verified with it. */
  readonly publicKey: KeyObject;
  readonly git?: GitRepo;
}

/** The repository and installation every app test and benchmark runs against. */
export const TEST_REPOSITORY = { owner: "acme", repo: "gitops", appSlug: "cilium-policy-bot", installationId: 31 };

/** A started stand-in for the test repository, with `files` committed on main. */
export async function startStandIn(
  app: { appId: number; publicKey: KeyObject },
  files: Record<string, string>,
): Promise<GitHubStandIn> {
  const standIn = new GitHubStandIn({ ...TEST_REPOSITORY, ...app });
  await standIn.start();
  standIn.git.commit("main", files, "initial");
  return standIn;
}

interface CreateCommitOnBranchInput {
  readonly branch: { readonly id?: string; readonly repositoryNameWithOwner?: string; readonly branchName?: string };
  readonly clientMutationId?: string;
  readonly expectedHeadOid: string;
  readonly fileChanges?: {
    readonly additions?: ReadonlyArray<{ readonly path: string; readonly contents: string }>;
    readonly deletions?: ReadonlyArray<{ readonly path: string }>;
  };
  readonly message: { readonly headline: string; readonly body?: string };
}

interface UpdateRefsInput {
  readonly clientMutationId?: string;
  readonly repositoryId: string;
  readonly refUpdates: ReadonlyArray<{
    readonly name: string;
    readonly afterOid: string;
    readonly beforeOid?: string | null;
    readonly force?: boolean | null;
  }>;
}

/** updateRefs' "no ref": as beforeOid, the ref must not exist; as afterOid, it is deleted. */
const NO_OID = "0".repeat(40);

/** A GraphQL field error with GitHub's `type` (STALE_DATA, NOT_FOUND, UNPROCESSABLE…). */
class GraphqlFailure extends Error {
  constructor(
    readonly type: string | null,
    message: string,
  ) {
    super(message);
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: unknown[],
  ) {
    super(message);
  }
}

function b64url(input: string): Buffer {
  return Buffer.from(input.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

export class GitHubStandIn {
  readonly options: StandInOptions;
  readonly git: GitRepo;
  readonly requests: LoggedRequest[] = [];
  readonly violations: string[] = [];
  readonly faults: Fault[] = [];
  readonly pulls = new Map<number, PullRequestState>();
  readonly issueComments: IssueComment[] = [];
  readonly reviewComments: ReviewComment[] = [];
  readonly checkRuns: CheckRun[] = [];
  readonly refWrites: RefWrite[] = [];
  /** Files of the organisation's `.github` repository (path → text). */
  readonly orgFiles = new Map<string, string>();
  readonly defaultBranch = "main";
  /** Artificial latency per request, to widen race windows in tests. */
  delayMs = 0;
  /** Runs before a valid request is served: tests make a concurrent writer act at an exact point with it. */
  beforeDispatch: ((route: string, body: unknown) => void | Promise<void>) | null = null;
  #server: Server | null = null;
  #url = "";
  #nextId = 1000;
  #tokens = new Set<string>();
  readonly #started = Date.now();

  constructor(options: StandInOptions) {
    this.options = options;
    this.git = options.git ?? new GitRepo();
  }

  get url(): string {
    return this.#url;
  }

  get fullName(): string {
    return `${this.options.owner}/${this.options.repo}`;
  }

  get botLogin(): string {
    return `${this.options.appSlug}[bot]`;
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
    this.#server = null;
  }

  /** Requests to GitHub's API proper (the tarball's redirect target on codeload is not one). */
  apiRequests(): LoggedRequest[] {
    return this.requests.filter((r) => !r.route.startsWith("codeload"));
  }

  /** An installation token, for tests that call the stand-in directly. */
  installationToken(): string {
    const token = `ghs_${randomBytes(12).toString("hex")}`;
    this.#tokens.add(token);
    return token;
  }

  fail(fault: Omit<Fault, "times"> & { times?: number }): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Opens a PR from `head` (a branch of this repository, or of `fork` when given) into `base`. */
  openPullRequest(head: string, base = this.defaultBranch, options: { fork?: string; user?: string } = {}) {
    const sha = this.git.resolve(`refs/heads/${head}`);
    if (!sha) throw new Error(`no branch ${head}`);
    const number = this.#id();
    const pr: PullRequestState = {
      number,
      state: "open",
      title: `Change ${head}`,
      body: "",
      draft: false,
      headRef: head,
      headSha: sha,
      headRepo: options.fork ?? this.fullName,
      baseRef: base,
      user: options.user ?? "octocat",
    };
    this.pulls.set(number, pr);
    return pr;
  }

  /** After a push to a PR's branch: GitHub moves the PR head. */
  syncPullRequest(number: number): PullRequestState {
    const pr = this.pulls.get(number)!;
    pr.headSha = this.git.resolve(`refs/heads/${pr.headRef}`)!;
    return pr;
  }

  commentsOn(issueNumber: number): IssueComment[] {
    return this.issueComments.filter((c) => c.issueNumber === issueNumber);
  }

  followUpsOf(pullNumber: number): PullRequestState[] {
    return [...this.pulls.values()].filter((pr) => pr.headRef === `cilium-policy-bot/pr-${pullNumber}`);
  }

  pullJson(pr: PullRequestState) {
    const repo = this.#repoJson();
    const [headOwner, headName] = pr.headRepo.split("/") as [string, string];
    const baseSha = this.git.resolve(`refs/heads/${pr.baseRef}`) ?? pr.headSha;
    return {
      url: `${this.#url}/repos/${this.fullName}/pulls/${pr.number}`,
      id: pr.number * 10,
      node_id: `PR_${pr.number}`,
      html_url: `https://github.com/${this.fullName}/pull/${pr.number}`,
      number: pr.number,
      state: pr.state,
      locked: false,
      title: pr.title,
      body: pr.body,
      draft: pr.draft,
      merged: pr.merged === true,
      merged_at: pr.merged === true ? "2026-01-01T00:00:00Z" : null,
      user: { login: pr.user, id: 1, type: pr.user.endsWith("[bot]") ? "Bot" : "User" },
      head: {
        label: `${headOwner}:${pr.headRef}`,
        ref: pr.headRef,
        sha: pr.headSha,
        user: { login: headOwner, id: 2, type: "User" },
        repo: {
          ...repo,
          name: headName,
          full_name: pr.headRepo,
          owner: { login: headOwner, id: 2, type: "User" },
          fork: pr.headRepo !== this.fullName,
        },
      },
      base: { label: `${this.options.owner}:${pr.baseRef}`, ref: pr.baseRef, sha: baseSha, user: repo.owner, repo },
      changed_files: this.#diffNames(pr).length,
    };
  }

  #repoJson() {
    const { owner, repo } = this.options;
    return {
      id: 4242,
      node_id: "R_4242",
      name: repo,
      full_name: this.fullName,
      private: false,
      owner: { login: owner, id: 7, type: "Organization" },
      html_url: `https://github.com/${this.fullName}`,
      default_branch: this.defaultBranch,
      fork: false,
    };
  }

  #id(): number {
    return this.#nextId++;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    let body: unknown;
    let route = "?";
    let status = 500;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      if (path.startsWith("/_codeload/")) {
        route = "codeload";
        status = this.#codeload(path, res);
        return;
      }
      // GraphQL is not in the REST description: its requests are checked against the GraphQL schema when run.
      const match =
        method === "POST" && path === "/graphql"
          ? { template: "/graphql", params: {} }
          : openApiValidator().match(method, path);
      route = match ? `${method} ${match.template}` : `${method} ${path}`;
      const problems = match?.template === "/graphql" ? [] : openApiValidator().check(method, path, body);
      if (problems.length > 0) {
        this.violations.push(...problems);
        throw new HttpError(match ? 422 : 404, problems.join("; "));
      }
      this.#authenticate(req, match!.template);
      const fault = this.faults.find(
        (f) =>
          f.times > 0 &&
          (!f.method || f.method === method) &&
          (typeof f.route === "string" ? f.route === match!.template || f.route === path : f.route.test(path)),
      );
      if (fault) {
        fault.times--;
        throw Object.assign(new HttpError(fault.status, fault.message ?? "Server Error"), { headers: fault.headers });
      }
      await this.beforeDispatch?.(route, body);
      const result = await this.#dispatch(method, match!.template, match!.params, url.searchParams, body, req);
      status = result.status ?? 200;
      if (result.redirect) {
        res.writeHead(302, { location: result.redirect });
        res.end();
      } else if (result.raw !== undefined) {
        res.writeHead(status, { "content-type": result.contentType ?? "text/plain; charset=utf-8" });
        res.end(result.raw);
      } else if (status === 204) {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...(result.headers ?? {}) });
        res.end(JSON.stringify(result.json ?? {}));
      }
    } catch (error) {
      const http = error instanceof HttpError ? error : new HttpError(500, (error as Error).message);
      status = http.status;
      const headers = (error as { headers?: Record<string, string> }).headers ?? {};
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(
        JSON.stringify({
          message: http.message,
          documentation_url: "https://docs.github.com/rest",
          ...(http.errors ? { errors: http.errors } : {}),
        }),
      );
    } finally {
      this.requests.push({
        method,
        path,
        route,
        status,
        at: Date.now() - this.#started,
        ...(body !== undefined ? { body } : {}),
        ...(req.headers.accept ? { accept: req.headers.accept } : {}),
      });
    }
  }

  #authenticate(req: IncomingMessage, template: string): void {
    const header = req.headers.authorization ?? "";
    if (template.startsWith("/app")) {
      const [scheme, jwt] = header.split(" ");
      if (scheme?.toLowerCase() !== "bearer" || !jwt) throw new HttpError(401, "A JSON web token could not be decoded");
      const [h, p, s] = jwt.split(".") as [string, string, string];
      const ok = verify("RSA-SHA256", Buffer.from(`${h}.${p}`), this.options.publicKey, b64url(s ?? ""));
      const payload = JSON.parse(b64url(p ?? "").toString("utf8")) as { iss?: unknown };
      if (!ok || String(payload.iss) !== String(this.options.appId)) throw new HttpError(401, "Bad credentials");
      return;
    }
    const token = header.replace(/^token /i, "");
    if (!this.#tokens.has(token)) throw new HttpError(401, "Bad credentials");
  }

  #codeload(path: string, res: ServerResponse): number {
    // /_codeload/{owner}/{repo}/legacy.tar.gz/{sha}
    const sha = path.split("/").pop()!;
    const archive = this.git.runBuffer([
      "archive",
      "--format=tar.gz",
      `--prefix=${this.options.owner}-${this.options.repo}-${sha.slice(0, 7)}/`,
      sha,
    ]);
    res.writeHead(200, { "content-type": "application/x-gzip" });
    res.end(archive);
    return 200;
  }

  #checkRepo(params: Record<string, string>): void {
    if (`${params.owner}/${params.repo}`.toLowerCase() !== this.fullName.toLowerCase()) {
      throw new HttpError(404, "Not Found");
    }
  }

  #page<T>(items: T[], query: URLSearchParams, path: string) {
    const perPage = Number(query.get("per_page") ?? 30);
    const page = Number(query.get("page") ?? 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < items.length) {
      const next = new URLSearchParams(query);
      next.set("page", String(page + 1));
      headers.link = `<${this.#url}${path}?${next.toString()}>; rel="next"`;
    }
    return { json: slice, headers };
  }

  #diffNames(pr: PullRequestState): Array<{ status: string; path: string; previous?: string }> {
    const base = this.git.resolve(`refs/heads/${pr.baseRef}`);
    if (!base) return [];
    const mergeBase = this.git.run(["merge-base", base, pr.headSha]).trim();
    const out = this.git.run(["diff", "--name-status", "-M", "-z", mergeBase, pr.headSha]).split("\0");
    const files: Array<{ status: string; path: string; previous?: string }> = [];
    for (let i = 0; i < out.length - 1;) {
      const code = out[i++]!;
      const statusOf = { A: "added", M: "modified", D: "removed", R: "renamed", C: "copied", T: "changed" } as const;
      const status = statusOf[code[0] as keyof typeof statusOf] ?? "modified";
      if (code[0] === "R" || code[0] === "C") {
        const previous = out[i++]!;
        files.push({ status, path: out[i++]!, previous });
      } else files.push({ status, path: out[i++]! });
    }
    return files;
  }

  readonly #patchCache = new Map<string, Map<string, string>>();

  /** Each file's hunks between two commits, as GitHub's `patch` field holds them; one git diff for all files. */
  #patches(from: string, to: string): Map<string, string> {
    const key = `${from}..${to}`;
    const cached = this.#patchCache.get(key);
    if (cached) return cached;
    const patches = new Map<string, string>();
    const diff = this.git.run(["diff", "-M", "--no-color", from, to]);
    for (const section of diff.split(/^(?=diff --git )/m)) {
      const path = /^\+\+\+ b\/(.*)$/m.exec(section)?.[1];
      const at = section.indexOf("\n@@");
      if (path && at !== -1) patches.set(path, section.slice(at + 1).replace(/\n$/, ""));
    }
    this.#patchCache.set(key, patches);
    return patches;
  }

  #pull(number: string | number): PullRequestState {
    const pr = this.pulls.get(Number(number));
    if (!pr) throw new HttpError(404, "Not Found");
    return pr;
  }

  #refWrite(write: RefWrite): void {
    this.refWrites.push(write);
  }

  async #dispatch(
    method: string,
    template: string,
    params: Record<string, string>,
    query: URLSearchParams,
    rawBody: unknown,
    req: IncomingMessage,
  ): Promise<{
    status?: number;
    json?: unknown;
    raw?: string | Buffer;
    contentType?: string;
    redirect?: string;
    headers?: Record<string, string>;
  }> {
    const body = (rawBody ?? {}) as Record<string, unknown>;
    const key = `${method} ${template}`;
    const git = this.git;
    if (key === "GET /app") {
      return {
        json: {
          id: this.options.appId,
          slug: this.options.appSlug,
          name: "Cilium policy bot",
          owner: { login: this.options.owner },
        },
      };
    }
    if (key === "POST /app/installations/{installation_id}/access_tokens") {
      if (Number(params.installation_id) !== this.options.installationId) throw new HttpError(404, "Not Found");
      const token = `ghs_${randomBytes(12).toString("hex")}`;
      this.#tokens.add(token);
      return {
        status: 201,
        json: {
          token,
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          permissions: {},
          repository_selection: "all",
        },
      };
    }
    if (key === "GET /repos/{owner}/{repo}/contents/{path}") {
      let text: string | undefined;
      if (params.repo === ".github" && params.owner === this.options.owner) text = this.orgFiles.get(params.path!);
      else {
        this.#checkRepo(params);
        const ref = query.get("ref") ?? this.defaultBranch;
        const files = git.files(git.resolve(ref) ?? ref);
        text = files.get(params.path!)?.toString("utf8");
      }
      if (text === undefined) throw new HttpError(404, "Not Found");
      if ((req.headers.accept ?? "").includes("raw")) return { raw: text, contentType: "text/plain; charset=utf-8" };
      return {
        json: { type: "file", encoding: "base64", content: Buffer.from(text).toString("base64"), path: params.path },
      };
    }
    if (key === "POST /graphql") return { json: await this.#graphql(body) };
    this.#checkRepo(params);
    switch (key) {
      case "GET /repos/{owner}/{repo}":
        return { json: this.#repoJson() };
      case "GET /repos/{owner}/{repo}/pulls/{pull_number}":
        return { json: this.pullJson(this.#pull(params.pull_number!)) };
      case "GET /repos/{owner}/{repo}/pulls": {
        const head = query.get("head");
        const state = query.get("state") ?? "open";
        const list = [...this.pulls.values()].filter(
          (pr) =>
            (state === "all" || pr.state === state) &&
            (!head || head === `${pr.headRepo.split("/")[0]}:${pr.headRef}`) &&
            (!query.get("base") || pr.baseRef === query.get("base")),
        );
        if (query.get("direction") === "desc") list.reverse(); // created order is the map's order
        return this.#page(
          list.map((pr) => this.pullJson(pr)),
          query,
          `/repos/${this.fullName}/pulls`,
        );
      }
      case "POST /repos/{owner}/{repo}/pulls": {
        const head = String(body.head).replace(new RegExp(`^${this.options.owner}:`), "");
        const base = String(body.base);
        if (!git.resolve(`refs/heads/${head}`) || !git.resolve(`refs/heads/${base}`)) {
          throw new HttpError(422, "Validation Failed", [{ resource: "PullRequest", field: "head", code: "invalid" }]);
        }
        const open = [...this.pulls.values()].find(
          (pr) => pr.state === "open" && pr.headRef === head && pr.baseRef === base,
        );
        if (open) {
          throw new HttpError(422, "Validation Failed", [
            {
              resource: "PullRequest",
              code: "custom",
              message: `A pull request already exists for ${this.options.owner}:${head}.`,
            },
          ]);
        }
        const number = this.#id();
        const pr: PullRequestState = {
          number,
          state: "open",
          title: String(body.title),
          body: String(body.body ?? ""),
          draft: body.draft === true,
          headRef: head,
          headSha: git.resolve(`refs/heads/${head}`)!,
          headRepo: this.fullName,
          baseRef: base,
          user: this.botLogin,
        };
        this.pulls.set(number, pr);
        return { status: 201, json: this.pullJson(pr) };
      }
      case "PATCH /repos/{owner}/{repo}/pulls/{pull_number}": {
        const pr = this.#pull(params.pull_number!);
        if (typeof body.title === "string") pr.title = body.title;
        if (typeof body.body === "string") pr.body = body.body;
        if (body.state === "open" || body.state === "closed") pr.state = body.state;
        return { json: this.pullJson(pr) };
      }
      case "GET /repos/{owner}/{repo}/pulls/{pull_number}/files": {
        const pr = this.#pull(params.pull_number!);
        const mergeBase = git.run(["merge-base", git.resolve(`refs/heads/${pr.baseRef}`)!, pr.headSha]).trim();
        const patches = this.#patches(mergeBase, pr.headSha);
        // GitHub lists at most 3,000 files
        const files = this.#diffNames(pr)
          .slice(0, 3000)
          .map((file) => {
            const patch = patches.get(file.path);
            return {
              sha: createHash("sha1").update(file.path).digest("hex"),
              filename: file.path,
              status: file.status,
              additions: 0,
              deletions: 0,
              changes: 0,
              blob_url: "",
              raw_url: "",
              contents_url: "",
              ...(patch ? { patch } : {}),
              ...(file.previous ? { previous_filename: file.previous } : {}),
            };
          });
        return this.#page(files, query, `/repos/${this.fullName}/pulls/${pr.number}/files`);
      }
      case "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments": {
        const number = Number(params.pull_number);
        const list = this.reviewComments
          .filter((c) => c.pullNumber === number)
          .map((c) => ({
            id: c.id,
            path: c.path,
            line: c.line,
            start_line: c.startLine,
            body: c.body,
            commit_id: c.commitId,
            user: { login: c.user, type: "Bot" },
          }));
        return this.#page(list, query, `/repos/${this.fullName}/pulls/${number}/comments`);
      }
      case "POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews": {
        const pr = this.#pull(params.pull_number!);
        const commitId = String(body.commit_id ?? pr.headSha);
        const files = new Map<string, Set<number>>();
        const mergeBase = git.run(["merge-base", git.resolve(`refs/heads/${pr.baseRef}`)!, commitId]).trim();
        for (const comment of (body.comments as Array<Record<string, unknown>>) ?? []) {
          const path = String(comment.path);
          if (!files.has(path)) {
            const lines = new Set<number>();
            const diff = git.run(["diff", "--no-color", mergeBase, commitId, "--", path]);
            let right = 0;
            for (const text of diff.split("\n")) {
              const header = /^@@ -\d+(?:,\d+)? \+(\d+)/.exec(text);
              if (header) right = Number(header[1]);
              else if (right > 0 && !text.startsWith("-") && !text.startsWith("\\")) lines.add(right++);
            }
            files.set(path, lines);
          }
          const lines = files.get(path)!;
          const end = Number(comment.line);
          const start = comment.start_line === undefined ? end : Number(comment.start_line);
          for (let line = start; line <= end; line++) {
            if (!lines.has(line)) {
              throw new HttpError(422, "Unprocessable Entity", [
                "Pull request review thread line must be part of the diff",
              ]);
            }
          }
        }
        for (const comment of (body.comments as Array<Record<string, unknown>>) ?? []) {
          this.reviewComments.push({
            id: this.#id(),
            pullNumber: pr.number,
            commitId,
            path: String(comment.path),
            line: Number(comment.line),
            startLine: comment.start_line === undefined ? null : Number(comment.start_line),
            body: String(comment.body),
            user: this.botLogin,
          });
        }
        return {
          json: {
            id: this.#id(),
            body: body.body,
            state: "COMMENTED",
            commit_id: commitId,
            user: { login: this.botLogin },
          },
        };
      }
      case "GET /repos/{owner}/{repo}/issues/{issue_number}/comments": {
        const number = Number(params.issue_number);
        const list = this.commentsOn(number).map((c) => this.#commentJson(c));
        return this.#page(list, query, `/repos/${this.fullName}/issues/${number}/comments`);
      }
      case "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": {
        const number = Number(params.issue_number);
        if (!this.pulls.has(number)) throw new HttpError(404, "Not Found");
        const comment: IssueComment = {
          id: this.#id(),
          issueNumber: number,
          body: String(body.body),
          user: this.botLogin,
          updates: 0,
        };
        this.issueComments.push(comment);
        return { status: 201, json: this.#commentJson(comment) };
      }
      case "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}": {
        const comment = this.issueComments.find((c) => c.id === Number(params.comment_id));
        if (!comment) throw new HttpError(404, "Not Found");
        if (comment.user !== this.botLogin) throw new HttpError(403, "Resource not accessible by integration");
        comment.body = String(body.body);
        comment.updates++;
        return { json: this.#commentJson(comment) };
      }
      case "GET /repos/{owner}/{repo}/commits/{ref}/check-runs": {
        const sha = git.resolve(params.ref!) ?? params.ref!;
        const runs = this.checkRuns.filter(
          (run) =>
            run.headSha === sha &&
            (!query.get("check_name") || run.name === query.get("check_name")) &&
            (!query.get("app_id") || Number(query.get("app_id")) === this.options.appId),
        );
        return { json: { total_count: runs.length, check_runs: runs.map((run) => this.#checkJson(run)) } };
      }
      case "POST /repos/{owner}/{repo}/check-runs": {
        const run: CheckRun = {
          id: this.#id(),
          name: String(body.name),
          headSha: String(body.head_sha),
          status: String(body.status ?? "queued"),
          conclusion: (body.conclusion as string | undefined) ?? null,
          externalId: String(body.external_id ?? ""),
          title: "",
          summary: "",
          annotations: [],
          requests: 0,
        };
        if (!git.objectType(run.headSha)) throw new HttpError(422, "No commit found for SHA");
        this.#applyCheckOutput(run, body);
        this.checkRuns.push(run);
        return { status: 201, json: this.#checkJson(run) };
      }
      case "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": {
        const run = this.checkRuns.find((r) => r.id === Number(params.check_run_id));
        if (!run) throw new HttpError(404, "Not Found");
        if (typeof body.status === "string") run.status = body.status;
        if (typeof body.conclusion === "string") run.conclusion = body.conclusion;
        if (typeof body.external_id === "string") run.externalId = body.external_id;
        this.#applyCheckOutput(run, body);
        return { json: this.#checkJson(run) };
      }
      case "GET /repos/{owner}/{repo}/tarball/{ref}": {
        const sha = git.resolve(params.ref!);
        if (!sha) throw new HttpError(404, "Not Found");
        return { redirect: `${this.#url}/_codeload/${this.fullName}/legacy.tar.gz/${sha}` };
      }
      case "GET /repos/{owner}/{repo}/git/commits/{commit_sha}": {
        const sha = params.commit_sha!;
        if (git.objectType(sha) !== "commit") throw new HttpError(404, "Not Found");
        return { json: this.#commitJson(sha) };
      }
      case "POST /repos/{owner}/{repo}/git/trees": {
        const base = body.base_tree as string | undefined;
        if (base && git.objectType(base) !== "tree") throw new HttpError(422, "base_tree is not a tree");
        const entries = (body.tree as Array<Record<string, unknown>>).map((entry) => {
          if (typeof entry.content === "string") {
            return { path: String(entry.path), mode: String(entry.mode), sha: git.hashBlob(entry.content) };
          }
          return { path: String(entry.path), mode: String(entry.mode), sha: (entry.sha as string | null) ?? null };
        });
        const sha = git.writeTree(base ?? null, entries);
        return { status: 201, json: { sha, url: "", tree: [], truncated: false } };
      }
      case "POST /repos/{owner}/{repo}/git/commits": {
        const tree = String(body.tree);
        const parents = (body.parents as string[] | undefined) ?? [];
        if (git.objectType(tree) !== "tree" || parents.some((p) => git.objectType(p) !== "commit")) {
          throw new HttpError(422, "Invalid tree or parent");
        }
        // Without author and committer, GitHub makes the authenticated app both.
        const sha = git.commitTree(tree, parents, String(body.message), {
          GIT_AUTHOR_NAME: this.botLogin,
          GIT_AUTHOR_EMAIL: `${this.options.appId}+${this.botLogin}@users.noreply.github.com`,
          GIT_COMMITTER_NAME: this.botLogin,
          GIT_COMMITTER_EMAIL: `${this.options.appId}+${this.botLogin}@users.noreply.github.com`,
        });
        return { status: 201, json: this.#commitJson(sha) };
      }
      case "POST /repos/{owner}/{repo}/git/refs": {
        const ref = String(body.ref);
        const sha = String(body.sha);
        if (!ref.startsWith("refs/heads/") || git.objectType(sha) !== "commit")
          throw new HttpError(422, "Invalid request");
        if (git.resolve(ref)) throw new HttpError(422, "Reference already exists");
        git.run(["update-ref", ref, sha]);
        this.#refWrite({ op: "create", ref, sha });
        return { status: 201, json: { ref, object: { sha, type: "commit" } } };
      }
      case "PATCH /repos/{owner}/{repo}/git/refs/{ref}": {
        const ref = `refs/${params.ref}`;
        const sha = String(body.sha);
        const current = git.resolve(ref);
        if (!current) throw new HttpError(422, "Reference does not exist");
        if (body.force !== true) {
          const ff = git.run(["merge-base", current, sha]).trim() === current;
          if (!ff) throw new HttpError(422, "Update is not a fast forward");
        }
        git.run(["update-ref", ref, sha]);
        this.#refWrite({ op: "update", ref, sha });
        this.#movePullHeads(ref, sha);
        return { json: { ref, object: { sha, type: "commit" } } };
      }
      case "DELETE /repos/{owner}/{repo}/git/refs/{ref}": {
        const ref = `refs/${params.ref}`;
        if (!git.resolve(ref)) throw new HttpError(422, "Reference does not exist");
        git.run(["update-ref", "-d", ref]);
        this.#refWrite({ op: "delete", ref });
        return { status: 204 };
      }
      case "GET /repos/{owner}/{repo}/git/ref/{ref}": {
        const ref = `refs/${params.ref}`;
        const sha = git.resolve(ref);
        if (!sha) throw new HttpError(404, "Not Found");
        return { json: { ref, object: { sha, type: "commit" } } };
      }
    }
    throw new HttpError(501, `the stand-in does not implement ${key}`);
  }

  /**
   * After a write to `ref`: the open PRs from it follow. GitHub closes a PR whose head branch is force-pushed so
   * that it has no commit left over its base (and does not let it be reopened): modelled, so a flow that moves its
   * follow-up branch onto the PR head before committing fails the tests as it would fail on GitHub.
   */
  #movePullHeads(ref: string, sha: string): void {
    for (const pr of this.pulls.values()) {
      if (`refs/heads/${pr.headRef}` !== ref || pr.headRepo !== this.fullName || pr.state !== "open") continue;
      pr.headSha = sha;
      const base = this.git.resolve(`refs/heads/${pr.baseRef}`);
      if (base && this.git.isAncestor(sha, base)) pr.state = "closed";
    }
  }

  /** POST /graphql: the document and its variables are checked against GitHub's schema by graphql-js. */
  async #graphql(body: Record<string, unknown>): Promise<unknown> {
    if (typeof body.query !== "string") {
      this.violations.push("POST /graphql: the body has no query");
      throw new HttpError(400, "Problems parsing JSON");
    }
    const implemented: Record<string, unknown> = {
      createCommitOnBranch: (args: { input: CreateCommitOnBranchInput }) => this.#createCommitOnBranch(args.input),
      updateRefs: (args: { input: UpdateRefsInput }) => this.#updateRefs(args.input),
    };
    const rootValue = new Proxy(implemented, {
      get: (target, field) => {
        if (typeof field === "string" && field in target) return target[field];
        throw new Error(`the stand-in does not implement ${String(field)}`);
      },
    });
    const result = await graphql({
      schema: githubGraphqlSchema(),
      source: body.query,
      variableValues: (body.variables as Record<string, unknown> | undefined) ?? {},
      operationName: (body.operationName as string | undefined) ?? null,
      rootValue,
    });
    // No data at all: the document or its variables do not fit GitHub's schema, which GitHub answers with 200
    // and errors, as here.
    if (!("data" in result) || result.data === undefined) {
      this.violations.push(...(result.errors ?? []).map((error) => `POST /graphql: ${error.message}`));
    }
    return {
      ...(result.data !== undefined ? { data: result.data } : {}),
      ...(result.errors
        ? {
            errors: result.errors.map((error) => ({
              ...error.toJSON(),
              ...(error.originalError instanceof GraphqlFailure && error.originalError.type !== null
                ? { type: error.originalError.type }
                : {}),
            })),
          }
        : {}),
    };
  }

  /**
   * GitHub's createCommitOnBranch: appends one commit to an existing branch whose tip must be expectedHeadOid,
   * authored by the app and committed by GitHub (which signs it). A stale expectedHeadOid is not an HTTP error:
   * 200 with `data.createCommitOnBranch: null` and an error of type STALE_DATA.
   */
  #createCommitOnBranch(input: CreateCommitOnBranchInput) {
    const git = this.git;
    const { branch } = input;
    if (branch.id) throw new GraphqlFailure("NOT_FOUND", "the stand-in locates branches by name only");
    if (branch.repositoryNameWithOwner?.toLowerCase() !== this.fullName.toLowerCase() || !branch.branchName) {
      throw new GraphqlFailure(
        "NOT_FOUND",
        `Could not resolve to a Repository with the name '${branch.repositoryNameWithOwner ?? ""}'.`,
      );
    }
    const ref = `refs/heads/${branch.branchName.replace(/^refs\/heads\//, "")}`;
    const tip = git.resolve(ref);
    if (!tip) throw new GraphqlFailure("NOT_FOUND", `A ref named "${ref}" could not be found.`);
    if (!/^[0-9a-f]{40}$/.test(input.expectedHeadOid)) {
      throw new GraphqlFailure("UNPROCESSABLE", `${JSON.stringify(input.expectedHeadOid)} is not a valid oid`);
    }
    if (tip !== input.expectedHeadOid) {
      throw new GraphqlFailure(
        "STALE_DATA",
        `Expected branch to point to "${input.expectedHeadOid}" but it did not.  Pull and try again.`,
      );
    }
    const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
    const additions = input.fileChanges?.additions ?? [];
    const deletions = input.fileChanges?.deletions ?? [];
    for (const addition of additions) {
      if (!base64.test(addition.contents)) {
        throw new GraphqlFailure("UNPROCESSABLE", `contents of ${addition.path} are not valid base64`);
      }
    }
    const existing = git.files(tip);
    for (const deletion of deletions) {
      if (!existing.has(deletion.path)) {
        throw new GraphqlFailure(
          "UNPROCESSABLE",
          `A path was requested for deletion which does not exist as of commit oid \`${tip}\``,
        );
      }
    }
    const shas = git.hashBlobs(additions.map((addition) => Buffer.from(addition.contents, "base64")));
    const tree = git.writeTree(`${tip}^{tree}`, [
      ...deletions.map((deletion) => ({ path: deletion.path, mode: "100644", sha: null })),
      ...additions.map((addition, i) => ({ path: addition.path, mode: "100644", sha: shas[i]! })),
    ]);
    const message = input.message.body ? `${input.message.headline}\n\n${input.message.body}` : input.message.headline;
    const sha = git.commitTree(tree, [tip], message, {
      GIT_AUTHOR_NAME: this.botLogin,
      GIT_AUTHOR_EMAIL: `${this.options.appId}+${this.botLogin}@users.noreply.github.com`,
      GIT_COMMITTER_NAME: "GitHub",
      GIT_COMMITTER_EMAIL: "noreply@github.com",
    });
    git.run(["update-ref", ref, sha, tip]);
    this.#refWrite({ op: "update", ref, sha });
    this.#movePullHeads(ref, sha);
    return {
      clientMutationId: input.clientMutationId ?? null,
      commit: { oid: sha, url: `https://github.com/${this.fullName}/commit/${sha}` },
      ref: { name: ref.replace(/^refs\/heads\//, ""), prefix: "refs/heads/" },
    };
  }

  /**
   * GitHub's updateRefs: every update is checked first (beforeOid, when given, is where the ref points now, zeros
   * for "does not exist"; afterOid a commit, or zeros to delete; a non-fast-forward only with force), then all are
   * applied in one git transaction, or none. A refused update is a generic error without a `type`, as GitHub answers
   * a stale beforeOid (its wording is not documented: the stand-in's is its own, and the app must not rely on it).
   */
  #updateRefs(input: UpdateRefsInput) {
    const git = this.git;
    if (input.repositoryId !== this.#repoJson().node_id) {
      throw new GraphqlFailure(
        "NOT_FOUND",
        `Could not resolve to a node with the global id of '${input.repositoryId}'`,
      );
    }
    const oid = /^[0-9a-f]{40}$/;
    const commands: string[] = [];
    const applied: RefWrite[] = [];
    for (const update of input.refUpdates) {
      const { name, afterOid } = update;
      const beforeOid = update.beforeOid ?? null;
      if (!/^refs\/heads\/./.test(name) || !oid.test(afterOid) || (beforeOid !== null && !oid.test(beforeOid))) {
        throw new GraphqlFailure("UNPROCESSABLE", `invalid ref update for ${JSON.stringify(name)}`);
      }
      const current = git.resolve(name) ?? NO_OID;
      if (beforeOid !== null && beforeOid !== current) {
        throw new GraphqlFailure(null, `A ref update for ${name} was rejected: it is not at ${beforeOid}.`);
      }
      if (afterOid === NO_OID) {
        if (current === NO_OID) throw new GraphqlFailure(null, `A ref update for ${name} was rejected: no such ref.`);
        commands.push(`delete ${name} ${current}`);
        applied.push({ op: "delete", ref: name });
        continue;
      }
      if (git.objectType(afterOid) !== "commit") {
        throw new GraphqlFailure(null, `A ref update for ${name} was rejected: ${afterOid} is not a commit.`);
      }
      if (current !== NO_OID && update.force !== true && !git.isAncestor(current, afterOid)) {
        throw new GraphqlFailure(null, `A ref update for ${name} was rejected: not a fast-forward.`);
      }
      commands.push(`update ${name} ${afterOid} ${current}`);
      applied.push({ op: current === NO_OID ? "create" : "update", ref: name, sha: afterOid });
    }
    git.run(["update-ref", "--stdin"], { input: `${commands.join("\n")}\n` });
    for (const write of applied) {
      this.#refWrite(write);
      if (write.op === "update") this.#movePullHeads(write.ref, write.sha!);
    }
    return { clientMutationId: input.clientMutationId ?? null };
  }

  #commentJson(c: IssueComment) {
    return {
      id: c.id,
      body: c.body,
      user: { login: c.user, id: c.user === this.botLogin ? 99 : 1, type: c.user.endsWith("[bot]") ? "Bot" : "User" },
      html_url: `https://github.com/${this.fullName}/pull/${c.issueNumber}#issuecomment-${c.id}`,
    };
  }

  #checkJson(run: CheckRun) {
    return {
      id: run.id,
      name: run.name,
      head_sha: run.headSha,
      status: run.status,
      conclusion: run.conclusion,
      external_id: run.externalId,
      output: { title: run.title, summary: run.summary, annotations_count: run.annotations.length },
      app: { id: this.options.appId, slug: this.options.appSlug },
    };
  }

  #applyCheckOutput(run: CheckRun, body: Record<string, unknown>): void {
    run.requests++;
    const output = body.output as
      { title?: string; summary?: string; annotations?: Array<Record<string, unknown>> } | undefined;
    if (!output) return;
    if (output.annotations && output.annotations.length > 50) {
      throw new HttpError(422, "Only 50 annotations are allowed per request");
    }
    run.title = output.title ?? run.title;
    run.summary = output.summary ?? run.summary;
    run.annotations.push(...(output.annotations ?? []));
  }

  #commitJson(sha: string) {
    return {
      sha,
      tree: { sha: this.git.treeOf(sha), url: "" },
      parents: this.git.parentsOf(sha).map((p) => ({ sha: p, url: "", html_url: "" })),
      message: this.git.run(["log", "-1", "--format=%B", sha]).trim(),
      author: this.#person(sha, "a"),
      committer: this.#person(sha, "c"),
    };
  }

  #person(sha: string, who: "a" | "c") {
    const [name, email, date] = this.git.run(["log", "-1", `--format=%${who}n%n%${who}e%n%${who}I`, sha]).split("\n");
    return { name: name ?? "", email: email ?? "", date: date ?? "" };
  }
}
