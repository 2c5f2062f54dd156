// The app end to end: Probot's real HTTP server, signed webhooks from @octokit/webhooks-examples, and a GitHub
// stand-in backed by a git repository on disk that checks every request against GitHub's OpenAPI description.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { COMMENT_MARKER } from "../../src/github/types.js";
import { DEFAULT_CONFIG } from "../../src/policy/config.js";
import { scan } from "../../src/policy/engine.js";
import { generateAppKeys, startApp } from "../helpers/github-app.js";
import type { RunningApp } from "../helpers/github-app.js";
import { pullRequestEvent } from "../helpers/github-payloads.js";
import type { PullRequestAction, Sender } from "../helpers/github-payloads.js";
import { startStandIn } from "../helpers/github-standin.js";
import type { GitHubStandIn } from "../helpers/github-standin.js";
import type { PullRequestState } from "../helpers/github-standin.js";
import { source } from "../helpers/sources.js";
import { BASE_FILES, badPolicy, goodPolicy, unknownServicePolicy } from "./fixture-repo.js";

const APP_ID = 4711;
const SECRET = "webhook-secret-for-tests";
const keys = generateAppKeys();
let standIn: GitHubStandIn;
let app: RunningApp;
let branchCount = 0;

beforeAll(async () => {
  standIn = await startStandIn({ appId: APP_ID, publicKey: keys.publicKey }, BASE_FILES);
  app = await startApp({
    appId: APP_ID,
    keys,
    secret: SECRET,
    baseUrl: standIn.url,
  });
});

afterAll(async () => {
  await app?.stop();
  await standIn?.stop();
  standIn?.git.remove();
});

afterEach(() => {
  // Every request of every test was a valid call of GitHub's API, and the app wrote only its own branches.
  expect(standIn.violations).toEqual([]);
  for (const write of standIn.refWrites) expect(write.ref).toMatch(/^refs\/heads\/cilium-policy-bot\/pr-\d+$/);
});

function openPr(files: Record<string, string | null>, options: { fork?: string } = {}): PullRequestState {
  const branch = `feature-${++branchCount}`;
  standIn.git.commit(branch, files, "change policies", "refs/heads/main");
  return standIn.openPullRequest(branch, "main", options);
}

function push(pr: PullRequestState, files: Record<string, string | null>): PullRequestState {
  standIn.git.commit(pr.headRef, files, "push");
  return standIn.syncPullRequest(pr.number);
}

async function send(pr: PullRequestState, action: PullRequestAction, sender?: Sender) {
  const response = await app.deliver("pull_request", pullRequestEvent(standIn, pr, action, sender));
  await app.queue.idle();
  return response;
}

function lineOf(text: string, needle: string): number {
  return text.split("\n").findIndex((line) => line.includes(needle)) + 1;
}

function checkRunsOn(sha: string) {
  return standIn.checkRuns.filter((run) => run.headSha === sha);
}

function rescan(ref: string) {
  const files = standIn.git.files(ref);
  const sources = [...files].map(([path, content]) => source(path, new Uint8Array(content)));
  return { files, result: scan(sources, { config: DEFAULT_CONFIG }) };
}

describe("webhook deliveries", () => {
  test("unsigned or badly signed deliveries get 4xx and change nothing", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    const before = standIn.requests.length;
    const payload = pullRequestEvent(standIn, pr, "opened");
    const unsigned = await app.deliver("pull_request", payload, { sign: false });
    const wrong = await app.deliver("pull_request", payload, { sign: "not-the-secret" });
    await app.queue.idle();
    expect(unsigned.status).toBeGreaterThanOrEqual(400);
    expect(unsigned.status).toBeLessThan(500);
    expect(wrong.status).toBeGreaterThanOrEqual(400);
    expect(wrong.status).toBeLessThan(500);
    expect(standIn.requests.length).toBe(before);
    expect(standIn.commentsOn(pr.number)).toEqual([]);
  });

  test("the health route answers with the queue's state", async () => {
    const response = await fetch(`${app.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", queue: { ok: true } });
  });

  test("events sent by the app itself are ignored", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    await send(pr, "opened"); // caches the app's identity
    const before = standIn.requests.length;
    await send(pr, "synchronize", { login: "cilium-policy-bot[bot]", type: "Bot" });
    expect(standIn.requests.length).toBe(before);
  });
});

describe("a pull request adding a toServices+toPorts policy", () => {
  let pr: PullRequestState;
  const policy = badPolicy("shop");

  test("gets one comment, a failing check run annotated at the rule, and a follow-up PR", async () => {
    pr = openPr({ "apps/shop/policy.yaml": policy });
    const start = standIn.requests.length;
    const response = await send(pr, "opened");
    expect(response.status).toBe(200);
    const requests = standIn.requests.slice(start).filter((r) => !r.route.startsWith("codeload"));
    process.stdout.write(
      `[figure] GitHub API requests for one opened event (fixture repo): ${requests.length}\n` +
        requests.map((r) => `  ${r.status} ${r.route}`).join("\n") +
        "\n",
    );

    const comments = standIn.commentsOn(pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body.startsWith(COMMENT_MARKER)).toBe(true);
    expect(comments[0]!.body).toContain("to-services-with-to-ports");
    // No DOCS_URL in the tests: a relative README link would be broken on GitHub, so rule ids are not linked.
    expect(comments[0]!.body).toContain("`to-services-with-to-ports`");
    expect(comments[0]!.body).not.toContain("README.md#");

    const runs = checkRunsOn(pr.headSha);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ name: "Cilium policy", status: "completed", conclusion: "failure" });
    expect(runs[0]!.annotations).toEqual([
      expect.objectContaining({
        path: "apps/shop/policy.yaml",
        start_line: lineOf(policy, "- toServices:"),
        annotation_level: "failure",
      }),
    ]);

    const followUps = standIn.followUpsOf(pr.number);
    expect(followUps).toHaveLength(1);
    const followUp = followUps[0]!;
    expect(followUp).toMatchObject({
      state: "open",
      baseRef: pr.headRef,
      headRef: `cilium-policy-bot/pr-${pr.number}`,
      title: `Rewrite toServices+toPorts to toEndpoints (#${pr.number})`,
      draft: false,
    });
    expect(followUp.body).toContain("| `apps/shop/policy.yaml` |");
    expect(comments[0]!.body).toContain(`#${followUp.number}`);
    expect(comments[0]!.body).toContain("<details><summary>Diff: <code>apps/shop/policy.yaml</code>");

    if (process.env.E2E_DUMP_DIR) {
      // The README's rendered example comes from here: E2E_DUMP_DIR=/tmp/x npx vitest run test/e2e/app.test.ts
      writeFileSync(join(process.env.E2E_DUMP_DIR, "comment.md"), comments[0]!.body);
      writeFileSync(join(process.env.E2E_DUMP_DIR, "follow-up.md"), `# ${followUp.title}\n\n${followUp.body}`);
    }

    // One commit on the PR head.
    const tip = standIn.git.resolve(`refs/heads/${followUp.headRef}`)!;
    expect(standIn.git.parentsOf(tip)).toEqual([pr.headSha]);

    // Re-scanned by the engine: nothing left to rewrite, and every file outside the rewrite byte-identical.
    const { files, result } = rescan(tip);
    expect(result.findings.filter((f) => f.ruleId === "to-services-with-to-ports")).toEqual([]);
    const head = standIn.git.files(pr.headSha);
    const changed = [...files.keys()].filter((path) => !files.get(path)!.equals(head.get(path) ?? Buffer.alloc(0)));
    expect(changed.sort()).toEqual(["apps/legacy/policy.yaml", "apps/shop/policy.yaml"]);
    expect([...files.keys()].sort()).toEqual([...head.keys()].sort());
    expect(files.get("apps/shop/policy.yaml")!.toString()).toContain("toEndpoints:");
  });

  test("a redelivered event and two concurrent ones leave one comment, one check run, one follow-up", async () => {
    const payload = pullRequestEvent(standIn, pr, "synchronize");
    const creates = standIn.refWrites.filter((w) => w.op === "create").length;
    const tip = standIn.git.resolve(`refs/heads/cilium-policy-bot/pr-${pr.number}`);
    await Promise.all([
      app.deliver("pull_request", payload, { id: "delivery-1" }),
      app.deliver("pull_request", payload, { id: "delivery-2" }),
    ]);
    await app.deliver("pull_request", payload, { id: "delivery-1" }); // redelivery
    await app.queue.idle();
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    expect(standIn.commentsOn(pr.number)[0]!.updates).toBe(0); // the text did not change
    expect(checkRunsOn(pr.headSha)).toHaveLength(1);
    expect(checkRunsOn(pr.headSha)[0]!.annotations).toHaveLength(1);
    expect(standIn.followUpsOf(pr.number)).toHaveLength(1);
    expect(standIn.refWrites.filter((w) => w.op === "create").length).toBe(creates);
    expect(standIn.git.resolve(`refs/heads/cilium-policy-bot/pr-${pr.number}`)).toBe(tip);
  });

  test("an event for a head commit that is no longer the PR's head is dropped", async () => {
    const stale = pullRequestEvent(standIn, pr, "synchronize");
    push(pr, { "apps/shop/notes.yaml": "# notes\n" });
    const before = standIn.requests.length;
    await app.deliver("pull_request", stale);
    await app.queue.idle();
    const routes = standIn.requests.slice(before).map((r) => r.route);
    expect(routes).toEqual(["GET /repos/{owner}/{repo}/pulls/{pull_number}"]);
  });

  test("a later push is analysed again: the follow-up branch is force-updated onto the new head", async () => {
    await send(pr, "synchronize");
    const followUp = standIn.followUpsOf(pr.number)[0]!;
    const tip = standIn.git.resolve(`refs/heads/${followUp.headRef}`)!;
    expect(standIn.git.parentsOf(tip)).toEqual([pr.headSha]);
    expect(standIn.followUpsOf(pr.number)).toHaveLength(1);
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    expect(checkRunsOn(pr.headSha)).toHaveLength(1);
  });

  test("when the findings are gone: the comment says all clear and the follow-up is closed, its branch deleted", async () => {
    push(pr, { "apps/shop/policy.yaml": goodPolicy("shop"), "apps/legacy/policy.yaml": goodPolicy("legacy") });
    await send(pr, "synchronize");
    const [comment] = standIn.commentsOn(pr.number);
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    expect(comment!.body).toContain("all clear");
    expect(checkRunsOn(pr.headSha)[0]!.conclusion).toBe("success");
    const followUp = standIn.followUpsOf(pr.number)[0]!;
    expect(followUp.state).toBe("closed");
    expect(standIn.commentsOn(followUp.number)).toHaveLength(1);
    expect(standIn.git.resolve(`refs/heads/cilium-policy-bot/pr-${pr.number}`)).toBeNull();
  });
});

describe("pull requests", () => {
  test("a PR that never had findings gets no comment, only a successful check run", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": goodPolicy("shop") });
    await send(pr, "opened");
    expect(standIn.commentsOn(pr.number)).toEqual([]);
    expect(checkRunsOn(pr.headSha)).toMatchObject([{ conclusion: "success" }]);
    expect(standIn.followUpsOf(pr.number)).toEqual([]);
  });

  test("a PR changing more files than GitHub lists (3,000) is checked against every policy of the repository", async () => {
    const files: Record<string, string> = { "apps/shop/policy.yaml": goodPolicy("shop") };
    for (let i = 0; i < 3001; i++)
      files[`apps/gen/cm-${String(i).padStart(4, "0")}.yaml`] = `kind: ConfigMap\n# ${i}\n`;
    const pr = openPr(files);
    await send(pr, "opened");
    const listed = standIn.requests.filter((r) => r.path.endsWith(`/pulls/${pr.number}/files`));
    expect(listed).toHaveLength(30); // 3,000 files at 100 a page, then GitHub stops
    const [comment] = standIn.commentsOn(pr.number);
    // apps/legacy/policy.yaml is not in the PR, but the listing is incomplete: every policy is reported on
    expect(comment!.body).toContain("apps/legacy/policy.yaml");
    expect(comment!.body).toContain("more files than GitHub lists");
  });

  test("closing the PR closes its follow-up with a comment and deletes the branch", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    await send(pr, "opened");
    const followUp = standIn.followUpsOf(pr.number)[0]!;
    pr.state = "closed";
    await send(pr, "closed");
    expect(followUp.state).toBe("closed");
    expect(standIn.commentsOn(followUp.number)[0]!.body).toContain(`#${pr.number} was closed`);
    expect(standIn.git.resolve(`refs/heads/cilium-policy-bot/pr-${pr.number}`)).toBeNull();
  });

  test("reopened and ready_for_review are analysed; other actions are not", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    await send(pr, "opened");
    pr.state = "closed";
    await send(pr, "closed");
    expect(standIn.followUpsOf(pr.number).map((f) => f.state)).toEqual(["closed"]);
    pr.state = "open";
    await send(pr, "reopened");
    expect(standIn.followUpsOf(pr.number).map((f) => f.state)).toEqual(["closed", "open"]);
    push(pr, { "apps/shop/policy.yaml": goodPolicy("shop"), "apps/legacy/policy.yaml": goodPolicy("legacy") });
    await send(pr, "ready_for_review");
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain("all clear");
    const before = standIn.requests.length;
    const labeled = { ...pullRequestEvent(standIn, pr, "synchronize"), action: "labeled" };
    expect((await app.deliver("pull_request", labeled)).status).toBe(200);
    await app.queue.idle();
    expect(standIn.requests.length).toBe(before);
  });

  test("a guessed selector makes the follow-up a draft with a checklist", async () => {
    const pr = openPr({ "apps/pay/policy.yaml": unknownServicePolicy("pay") });
    await send(pr, "opened");
    const [followUp] = standIn.followUpsOf(pr.number);
    expect(followUp).toMatchObject({ draft: true });
    expect(followUp!.body).toMatch(/- \[ \] `apps\/pay\/policy\.yaml`:\d+: `shop\/payments`/);
  });
});

describe("faults", () => {
  test("5xx and secondary rate limit answers are retried with back-off", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    standIn.fail({ method: "GET", route: "/repos/{owner}/{repo}/pulls/{pull_number}/files", status: 502 });
    standIn.fail({ method: "POST", route: "/repos/{owner}/{repo}/git/trees", status: 500, times: 2 });
    standIn.fail({
      method: "POST",
      route: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      status: 403,
      message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      headers: { "retry-after": "1" },
    });
    await send(pr, "opened");
    expect(standIn.faults.every((fault) => fault.times === 0)).toBe(true);
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    expect(checkRunsOn(pr.headSha)).toHaveLength(1);
    expect(standIn.followUpsOf(pr.number)).toHaveLength(1);
  });

  test("a failure half-way (branch created, PR creation failed) is repaired by the next event", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    standIn.fail({ method: "POST", route: "/repos/{owner}/{repo}/pulls", status: 500, times: 4 });
    await send(pr, "opened");
    expect(standIn.git.resolve(`refs/heads/cilium-policy-bot/pr-${pr.number}`)).not.toBeNull();
    expect(standIn.followUpsOf(pr.number)).toEqual([]);
    await send(pr, "synchronize");
    expect(standIn.followUpsOf(pr.number)).toHaveLength(1);
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain(`#${standIn.followUpsOf(pr.number)[0]!.number}`);
  });
});

describe("configuration", () => {
  afterEach(() => {
    standIn.git.commit("main", { ".github/cilium-policy-bot.yml": null }, "drop config");
    standIn.orgFiles.clear();
  });

  test("an invalid configuration is reported in the comment and the check run, not a crash", async () => {
    standIn.git.commit("main", { ".github/cilium-policy-bot.yml": "failOnError: maybe\n" }, "config");
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    await send(pr, "opened");
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain("invalid configuration");
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain("failOnError");
    expect(checkRunsOn(pr.headSha)).toMatchObject([{ conclusion: "failure", title: "Invalid configuration" }]);
  });

  test("organisation defaults from the .github repository apply: failOnError false makes the check neutral", async () => {
    standIn.orgFiles.set(".github/cilium-policy-bot.yml", "failOnError: false\nfollowUp: false\n");
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    await send(pr, "opened");
    expect(checkRunsOn(pr.headSha)).toMatchObject([{ conclusion: "neutral" }]);
    expect(standIn.followUpsOf(pr.number)).toEqual([]);
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
  });

  test("more than 50 findings are annotated in batches of 50", async () => {
    const many = Array.from({ length: 120 }, (_, i) => badPolicy(`app-${i}`)).join("---\n");
    // followUp off: this test is about the check run (the rewrite of 120 policies in one file is slow)
    standIn.git.commit("main", { ".github/cilium-policy-bot.yml": "followUp: false\n" }, "config");
    const pr = openPr({ "apps/many/policies.yaml": many });
    await send(pr, "opened");
    const [run] = checkRunsOn(pr.headSha);
    expect(run!.annotations).toHaveLength(120);
    expect(run!.requests).toBe(3);
    expect(new Set(run!.annotations.map((a) => a.start_line)).size).toBe(120);
  });
  test("paths.exclude keeps files out of the findings", async () => {
    standIn.git.commit(
      "main",
      { ".github/cilium-policy-bot.yml": "paths:\n  exclude: ['apps/vendor/**']\n" },
      "config",
    );
    const pr = openPr({ "apps/vendor/policy.yaml": badPolicy("vendor") });
    await send(pr, "opened");
    expect(standIn.commentsOn(pr.number)).toEqual([]);
    expect(checkRunsOn(pr.headSha)).toMatchObject([{ conclusion: "success" }]);
  });
});

describe("pull requests from forks", () => {
  test("get suggestions on the changed lines and no branch", async () => {
    const writes = standIn.refWrites.length;
    const policy = badPolicy("fork");
    const pr = openPr({ "apps/fork/policy.yaml": policy }, { fork: "contributor/gitops" });
    await send(pr, "opened");
    expect(standIn.refWrites.length).toBe(writes);
    expect(standIn.followUpsOf(pr.number)).toEqual([]);
    const suggestions = standIn.reviewComments.filter((c) => c.pullNumber === pr.number);
    expect(suggestions.length).toBeGreaterThan(0);
    // Applying the suggestions gives the file the engine rewrites to, and the re-scan is clean.
    const lines = policy.split("\n");
    for (const s of [...suggestions].sort((a, b) => b.line - a.line)) {
      const replacement = /```suggestion\n([\s\S]*?)```/.exec(s.body)![1]!.replace(/\n$/, "");
      lines.splice((s.startLine ?? s.line) - 1, s.line - (s.startLine ?? s.line) + 1, ...replacement.split("\n"));
    }
    const after = lines.join("\n");
    expect(after).toContain("toEndpoints:");
    const result = scan(
      [source("apps/fork/policy.yaml", after), source("apps/api/service.yaml", BASE_FILES["apps/api/service.yaml"]!)],
      {
        config: DEFAULT_CONFIG,
      },
    );
    expect(result.findings.filter((f) => f.ruleId === "to-services-with-to-ports")).toEqual([]);
    // Redelivery does not repeat them.
    await send(pr, "synchronize");
    expect(standIn.reviewComments.filter((c) => c.pullNumber === pr.number)).toHaveLength(suggestions.length);
  });

  test("get a git-apply-able patch when the rule lies outside the PR's diff", async () => {
    const base = badPolicy("outside");
    standIn.git.commit("main", { "apps/outside/policy.yaml": base }, "existing policy");
    const edited = base.replace("# egress of outside to the API", "# egress of outside to the API (edited)");
    const pr = openPr({ "apps/outside/policy.yaml": edited }, { fork: "contributor/gitops" });
    await send(pr, "opened");
    const body = standIn.commentsOn(pr.number)[0]!.body;
    const patch = /```diff\n(diff --git a\/apps\/outside[\s\S]*?)```/.exec(body)?.[1];
    expect(patch).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "cpb-apply-"));
    try {
      execFileSync("git", ["init", "-q"], { cwd: dir });
      execFileSync("mkdir", ["-p", "apps/outside"], { cwd: dir });
      writeFileSync(join(dir, "apps/outside/policy.yaml"), edited);
      writeFileSync(join(dir, "fix.patch"), patch!);
      execFileSync("git", ["apply", "fix.patch"], { cwd: dir });
      const applied = execFileSync("cat", ["apps/outside/policy.yaml"], { cwd: dir }).toString();
      expect(applied).toContain("toEndpoints:");
    } finally {
      rmSync(dir, { recursive: true, force: true });
      standIn.git.commit("main", { "apps/outside/policy.yaml": null }, "drop");
    }
  });
});
