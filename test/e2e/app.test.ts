// The app end to end: Probot's real HTTP server, signed webhooks from @octokit/webhooks-examples, and a GitHub
// stand-in backed by a git repository on disk that checks every request against GitHub's OpenAPI description.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { CHANGES_TRAILER, changeSetDigest, changesTrailerOf } from "../../src/github/follow-up.js";
import { COMMENT_MARKER } from "../../src/github/types.js";
import { DEFAULT_CONFIG } from "../../src/policy/config.js";
import { analyse } from "../../src/policy/api.js";
import { fixOf } from "../helpers/analysis.js";
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

/** What the engine's fix makes of `ref`: the change set a follow-up commit on it must hold. */
async function expectedChanges(ref: string) {
  const files = standIn.git.files(ref);
  const result = await fixOf(
    [...files].map(([path, content]) => source(path, new Uint8Array(content))),
    { config: DEFAULT_CONFIG },
  );
  return result.changes;
}

function commitMessageOf(sha: string): string {
  return standIn.git.run(["log", "-1", "--format=%B", sha]);
}

/** The identity GitHub gives a commit the app makes through the Git Data API. */
function botIdentity(): Record<string, string> {
  const email = `${APP_ID}+${standIn.botLogin}@users.noreply.github.com`;
  return {
    GIT_AUTHOR_NAME: standIn.botLogin,
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: standIn.botLogin,
    GIT_COMMITTER_EMAIL: email,
  };
}

/** A commit of `files` on `branch` as `identity` makes it (a person by default), with `message`. */
function commitAs(
  branch: string,
  files: Record<string, string>,
  message: string,
  identity: Record<string, string> = {},
) {
  const ref = `refs/heads/${branch}`;
  const parent = standIn.git.resolve(ref)!;
  const paths = Object.keys(files);
  const shas = standIn.git.hashBlobs(paths.map((path) => files[path]!));
  const tree = standIn.git.writeTree(
    `${parent}^{tree}`,
    paths.map((path, i) => ({ path, mode: "100644", sha: shas[i]! })),
  );
  const sha = standIn.git.commitTree(tree, [parent], message, identity);
  standIn.git.run(["update-ref", ref, sha]);
  return sha;
}

function followUpTip(pr: PullRequestState): string | null {
  return standIn.git.resolve(`refs/heads/cilium-policy-bot/pr-${pr.number}`);
}

async function rescan(ref: string) {
  const files = standIn.git.files(ref);
  const sources = [...files].map(([path, content]) => source(path, new Uint8Array(content)));
  return { files, result: await analyse(sources, { config: DEFAULT_CONFIG }) };
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
      title: `Rewrite toServices egress rules to toEndpoints (#${pr.number})`,
      draft: false,
    });
    expect(followUp.body).toContain("| <code>apps/shop/policy.yaml</code> |");
    expect(comments[0]!.body).toContain(`#${followUp.number}`);
    expect(comments[0]!.body).toContain("<details><summary>Diff: <code>apps/shop/policy.yaml</code>");

    if (process.env.E2E_DUMP_DIR) {
      // The README's rendered example comes from here: E2E_DUMP_DIR=/tmp/x npx vitest run test/e2e/app.test.ts
      writeFileSync(join(process.env.E2E_DUMP_DIR, "comment.md"), comments[0]!.body);
      writeFileSync(join(process.env.E2E_DUMP_DIR, "follow-up.md"), `# ${followUp.title}\n\n${followUp.body}`);
    }

    // One commit on the PR head, made by GraphQL's createCommitOnBranch on the branch created at the head: authored
    // by the app, committed (and signed) by GitHub, with the change set's digest as a trailer.
    const tip = standIn.git.resolve(`refs/heads/${followUp.headRef}`)!;
    expect(standIn.git.parentsOf(tip)).toEqual([pr.headSha]);
    const routes = requests.map((r) => r.route);
    expect(routes).toContain("POST /graphql");
    expect(routes.filter((route) => route.includes("/git/"))).toEqual(["POST /repos/{owner}/{repo}/git/refs"]);
    expect(standIn.git.run(["log", "-1", "--format=%an|%cn", tip]).trim()).toBe("cilium-policy-bot[bot]|GitHub");
    expect(changesTrailerOf(commitMessageOf(tip))).toBe(changeSetDigest(await expectedChanges(pr.headSha)));

    // Re-scanned by the engine: nothing left to rewrite, and every file outside the rewrite byte-identical.
    const { files, result } = await rescan(tip);
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
    const start = standIn.requests.length;
    await Promise.all([
      app.deliver("pull_request", payload, { id: "delivery-1" }),
      app.deliver("pull_request", payload, { id: "delivery-2" }),
    ]);
    await app.queue.idle(); // the redelivery comes after they ran: it has a run of its own
    await app.deliver("pull_request", payload, { id: "delivery-1" }); // redelivery
    await app.queue.idle();
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    expect(standIn.commentsOn(pr.number)[0]!.updates).toBe(0); // the text did not change
    expect(checkRunsOn(pr.headSha)).toHaveLength(1);
    expect(checkRunsOn(pr.headSha)[0]!.annotations).toHaveLength(1);
    expect(standIn.followUpsOf(pr.number)).toHaveLength(1);
    expect(standIn.refWrites.filter((w) => w.op === "create").length).toBe(creates);
    expect(standIn.git.resolve(`refs/heads/cilium-policy-bot/pr-${pr.number}`)).toBe(tip);
    // Each run found the open follow-up and its tip up to date by reading that commit once: no commit, no ref moved.
    const routes = standIn.requests.slice(start).map((r) => r.route);
    const runs = routes.filter((route) => route === "GET /repos/{owner}/{repo}/pulls").length;
    expect(runs).toBeGreaterThanOrEqual(2); // the queue may fold the concurrent deliveries into one run
    expect(routes.filter((route) => route === "GET /repos/{owner}/{repo}/git/commits/{commit_sha}")).toHaveLength(runs);
    expect(routes.filter((route) => route === "POST /repos/{owner}/{repo}/git/refs")).toEqual([]);
    expect(routes.filter((route) => route === "POST /graphql" || route.endsWith("/git/commits"))).toEqual([]);
    expect(routes.filter((route) => route.startsWith("PATCH") && route.includes("/git/refs/"))).toEqual([]);
  });

  test("an event for a head commit that is no longer the PR's head analyses the PR's head", async () => {
    // Its own event may never run: the queue keeps the latest event to arrive, and this one may arrive after it.
    const stale = pullRequestEvent(standIn, pr, "synchronize");
    push(pr, { "apps/shop/notes.yaml": "# notes\n" });
    await app.deliver("pull_request", stale);
    await app.queue.idle();
    expect(checkRunsOn(pr.headSha)).toHaveLength(1);
    expect(checkRunsOn(pr.headSha)[0]!.conclusion).toBe("failure");
    expect(standIn.git.parentsOf(followUpTip(pr)!)).toEqual([pr.headSha]);
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
  });

  test("a later push is analysed again: the follow-up branch is force-updated onto the new head", async () => {
    push(pr, { "apps/shop/notes-2.yaml": "# more notes\n" });
    const before = { ...standIn.followUpsOf(pr.number)[0]! };
    const writes = standIn.refWrites.length;
    const start = standIn.requests.length;
    await send(pr, "synchronize");
    const followUp = standIn.followUpsOf(pr.number)[0]!;
    const tip = standIn.git.resolve(`refs/heads/${followUp.headRef}`)!;
    expect(standIn.git.parentsOf(tip)).toEqual([pr.headSha]);
    expect(changesTrailerOf(commitMessageOf(tip))).toBe(changeSetDigest(await expectedChanges(pr.headSha)));
    // One ref write, straight to the new commit: never onto the PR head, where the follow-up would have no commit
    // over its base and GitHub would close it for good (the stand-in does the same). It stays the same, open PR.
    expect(standIn.refWrites.slice(writes)).toEqual([
      { op: "update", ref: `refs/heads/cilium-policy-bot/pr-${pr.number}`, sha: tip },
    ]);
    // Moved with GraphQL's updateRefs, only from the tip the app judged (REST's PATCH of a ref takes no such
    // condition): never the unconditional REST write.
    const requests = standIn.requests.slice(start);
    expect(requests.some((r) => r.route.startsWith("PATCH /repos/{owner}/{repo}/git/refs"))).toBe(false);
    const moves = requests.filter((r) => r.route === "POST /graphql" && JSON.stringify(r.body).includes("updateRefs"));
    expect(moves.map((r) => (r.body as { variables: unknown }).variables)).toEqual([
      {
        input: {
          repositoryId: "R_4242",
          refUpdates: [
            { name: `refs/heads/${followUp.headRef}`, beforeOid: before.headSha, afterOid: tip, force: true },
          ],
        },
      },
    ]);
    expect(followUp).toMatchObject({ number: before.number, state: "open", headSha: tip });
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
    expect(followUp!.body).toMatch(/- \[ \] <code>apps\/pay\/policy\.yaml<\/code>:\d+: <code>shop\/payments<\/code>/);
  });
});

describe("faults", () => {
  test("5xx and secondary rate limit answers are retried with back-off", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    standIn.fail({ method: "GET", route: "/repos/{owner}/{repo}/pulls/{pull_number}/files", status: 502 });
    standIn.fail({ method: "POST", route: "/graphql", status: 502, times: 2 });
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
    standIn.fail({ method: "POST", route: "/repos/{owner}/{repo}/pulls", status: 500, times: 1000 });
    await send(pr, "opened");
    standIn.faults.length = 0;
    expect(standIn.git.resolve(`refs/heads/cilium-policy-bot/pr-${pr.number}`)).not.toBeNull();
    expect(standIn.followUpsOf(pr.number)).toEqual([]);
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain(
      "could not open the follow-up pull request: GitHub failed (500)",
    );
    await send(pr, "synchronize");
    expect(standIn.followUpsOf(pr.number)).toHaveLength(1);
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain(`#${standIn.followUpsOf(pr.number)[0]!.number}`);
  });
});

describe("createCommitOnBranch against a branch that moved (stale expectedHeadOid)", () => {
  afterEach(() => {
    standIn.beforeDispatch = null;
  });

  /** Makes `write` run once, just before the app's createCommitOnBranch is served: a concurrent writer wins. */
  function raceTheCommit(write: (input: { branch: { branchName: string }; message: Record<string, string> }) => void) {
    standIn.beforeDispatch = (route, body) => {
      if (route !== "POST /graphql") return;
      standIn.beforeDispatch = null;
      write((body as { variables: { input: Parameters<typeof write>[0] } }).variables.input);
    };
  }

  async function expectConsistent(pr: PullRequestState) {
    const tip = followUpTip(pr)!;
    expect(standIn.git.parentsOf(tip)).toEqual([pr.headSha]);
    expect(changesTrailerOf(commitMessageOf(tip))).toBe(changeSetDigest(await expectedChanges(pr.headSha)));
    const { result } = await rescan(tip);
    expect(result.findings.filter((f) => f.ruleId === "to-services-with-to-ports")).toEqual([]);
    const followUps = standIn.followUpsOf(pr.number);
    expect(followUps).toMatchObject([{ state: "open", headSha: tip }]);
    // The job went on to the comment and the check run: it did not fail at the commit.
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain(`#${followUps[0]!.number}`);
    expect(checkRunsOn(pr.headSha)).toHaveLength(1);
    return tip;
  }

  test("the same change set committed first (a concurrent run, or a retried request whose answer was lost) is kept", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    let concurrent = "";
    const changes = await expectedChanges(pr.headSha);
    raceTheCommit((input) => {
      // What a concurrent run for the same head commits: the same message, hence the same change set's digest.
      concurrent = commitAs(
        input.branch.branchName,
        Object.fromEntries(changes.map((change) => [change.path, change.after])),
        `${input.message.headline}\n\n${input.message.body}`,
        botIdentity(),
      );
    });
    await send(pr, "opened");
    const graphql = standIn.requests.filter((r) => r.route === "POST /graphql").at(-1)!;
    expect(graphql.status).toBe(200); // GitHub answers a stale head with 200 and an error of type STALE_DATA
    expect(await expectConsistent(pr)).toBe(concurrent);
    expect(standIn.refWrites.filter((w) => w.ref.endsWith(`/pr-${pr.number}`)).map((w) => w.op)).toEqual(["create"]);
  });

  test("another of the app's commits on the branch is replaced by this run's, in one forced ref update", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    let other = "";
    raceTheCommit((input) => {
      // A run for an older head of this PR, with another change set.
      const message = `${input.message.headline}\n\n${CHANGES_TRAILER}: ${"0".repeat(64)}`;
      other = commitAs(input.branch.branchName, { "apps/shop/stray.yaml": "# not ours\n" }, message, botIdentity());
    });
    await send(pr, "opened");
    const tip = await expectConsistent(pr);
    expect(tip).not.toBe(other);
    expect(standIn.git.files(tip).has("apps/shop/stray.yaml")).toBe(false);
    expect(standIn.refWrites.filter((w) => w.ref.endsWith(`/pr-${pr.number}`)).map((w) => w.op)).toEqual([
      "create",
      "update",
    ]);
  });

  test("a person's commit pushed in the moment between branch and commit is kept, and nothing is opened", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    let person = "";
    raceTheCommit((input) => {
      person = commitAs(input.branch.branchName, { "apps/shop/mine.yaml": "# mine\n" }, "my work");
    });
    await send(pr, "opened");
    expect(followUpTip(pr)).toBe(person);
    expect(standIn.followUpsOf(pr.number)).toEqual([]);
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain("holds commits that are not the app's");
    expect(checkRunsOn(pr.headSha)).toMatchObject([{ status: "completed", conclusion: "failure" }]);
  });

  test("a GraphQL failure for one attempt of the job: the queue tries the job again and the follow-up is made", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    standIn.fail({ method: "POST", route: "/graphql", status: 502, times: 4 }); // Octokit's first try and 3 retries
    await send(pr, "opened");
    expect(standIn.faults.every((fault) => fault.times === 0)).toBe(true);
    await expectConsistent(pr);
  });

  test("a GraphQL failure that persists: the bare branch left at the PR head is committed onto by the next event", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    standIn.fail({ method: "POST", route: "/graphql", status: 502, times: 1000 });
    const failedBefore = ((await (await fetch(`${app.url}/health`)).json()) as { failedJobs: number }).failedJobs;
    await send(pr, "opened");
    standIn.faults.length = 0;
    expect(standIn.followUpsOf(pr.number)).toEqual([]);
    // Its conditional delete needs GraphQL too: the bare branch stays, at the PR head, holding nothing of anyone's.
    expect(followUpTip(pr)).toBe(pr.headSha);
    const body = standIn.commentsOn(pr.number)[0]!.body;
    expect(body).toContain(`could not commit to branch cilium-policy-bot/pr-${pr.number}: GitHub failed (502)`);
    expect(checkRunsOn(pr.headSha)).toMatchObject([{ status: "completed", conclusion: "failure" }]);
    // The job failed for good after its attempts: /health counts it.
    const health = (await (await fetch(`${app.url}/health`)).json()) as { status: string; failedJobs: number };
    expect(health).toMatchObject({ status: "ok", failedJobs: failedBefore + 1 });
    await send(pr, "synchronize");
    await expectConsistent(pr);
  });
});

describe("the stand-in's GraphQL endpoint", () => {
  const MUTATION = `mutation ($input: CreateCommitOnBranchInput!) {
    createCommitOnBranch(input: $input) { commit { oid } }
  }`;

  async function post(body: unknown, token: string | null = standIn.installationToken()) {
    const response = await fetch(`${standIn.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `token ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  function input(branchName: string, expectedHeadOid: string, additions = [{ path: "a.txt", contents: "aGkK" }]) {
    return {
      branch: { repositoryNameWithOwner: standIn.fullName, branchName },
      expectedHeadOid,
      message: { headline: "h", body: "b" },
      fileChanges: { additions },
    };
  }

  test("checks the document and the variables against GitHub's schema; a misfit is a violation, answered 200", async () => {
    const unknownField = await post({ query: "mutation { createCommitOnBranch(input: {}) { nope } }" });
    const missingOid = await post({
      query: MUTATION,
      variables: { input: { ...input("x", "0"), expectedHeadOid: undefined } },
    });
    for (const answer of [unknownField, missingOid]) {
      expect(answer.status).toBe(200);
      expect(answer.json.data).toBeUndefined();
      expect((answer.json.errors as unknown[]).length).toBeGreaterThan(0);
    }
    expect(standIn.violations.join("\n")).toContain('Cannot query field "nope" on type "CreateCommitOnBranchPayload"');
    expect(standIn.violations.join("\n")).toContain("expectedHeadOid");
    standIn.violations.length = 0; // expected here; every other test must leave none
    expect((await post({ query: MUTATION }, null)).status).toBe(401);
  });

  test("createCommitOnBranch: a stale head is STALE_DATA, a missing branch NOT_FOUND, else one commit", async () => {
    const main = standIn.git.resolve("refs/heads/main")!;
    const branch = "cilium-policy-bot/pr-999999";
    standIn.git.run(["update-ref", `refs/heads/${branch}`, main]);
    try {
      const stale = await post({ query: MUTATION, variables: { input: input(branch, "0".repeat(40)) } });
      expect(stale.status).toBe(200);
      expect(stale.json.data).toEqual({ createCommitOnBranch: null });
      expect(stale.json.errors).toMatchObject([{ type: "STALE_DATA", path: ["createCommitOnBranch"] }]);
      const missing = await post({ query: MUTATION, variables: { input: input(`${branch}-gone`, main) } });
      expect(missing.json.errors).toMatchObject([{ type: "NOT_FOUND" }]);
      const notBase64 = await post({
        query: MUTATION,
        variables: { input: input(branch, main, [{ path: "a.txt", contents: "not base64!" }]) },
      });
      expect(notBase64.json.errors).toMatchObject([{ type: "UNPROCESSABLE" }]);
      expect(standIn.git.resolve(`refs/heads/${branch}`)).toBe(main);

      const done = await post({ query: MUTATION, variables: { input: input(branch, main) } });
      const oid = (done.json.data as { createCommitOnBranch: { commit: { oid: string } } }).createCommitOnBranch.commit
        .oid;
      expect(standIn.git.resolve(`refs/heads/${branch}`)).toBe(oid);
      expect(standIn.git.parentsOf(oid)).toEqual([main]);
      expect(standIn.git.files(oid).get("a.txt")!.toString()).toBe("hi\n");
      expect(commitMessageOf(oid)).toBe("h\n\nb\n");
      expect(standIn.violations).toEqual([]);
    } finally {
      standIn.git.run(["update-ref", "-d", `refs/heads/${branch}`]);
    }
  });
});

describe("the stand-in's updateRefs", () => {
  const UPDATE_REFS = `mutation ($input: UpdateRefsInput!) { updateRefs(input: $input) { clientMutationId } }`;
  const NO_OID = "0".repeat(40);
  const first = "cilium-policy-bot/pr-999997";
  const second = "cilium-policy-bot/pr-999998";

  async function updateRefs(refUpdates: unknown[], repositoryId = "R_4242") {
    const response = await fetch(`${standIn.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `token ${standIn.installationToken()}` },
      body: JSON.stringify({ query: UPDATE_REFS, variables: { input: { repositoryId, refUpdates } } }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  afterEach(() => {
    for (const branch of [first, second]) standIn.git.run(["update-ref", "-d", `refs/heads/${branch}`]);
  });

  test("applies every update only where beforeOid holds, all or none; a refusal is a generic error, answered 200", async () => {
    const main = standIn.git.resolve("refs/heads/main")!;
    const other = standIn.git.commit(first, { "x.txt": "x\n" }, "other", "refs/heads/main");
    standIn.git.run(["update-ref", `refs/heads/${second}`, main]);
    const writes = standIn.refWrites.length;
    const at = (branch: string) => standIn.git.resolve(`refs/heads/${branch}`);

    // One stale beforeOid among two: neither ref moves, and the error names no type (GitHub's names none).
    const stale = await updateRefs([
      { name: `refs/heads/${first}`, beforeOid: other, afterOid: main, force: true },
      { name: `refs/heads/${second}`, beforeOid: other, afterOid: other, force: true },
    ]);
    expect(stale.status).toBe(200);
    expect(stale.json.data).toEqual({ updateRefs: null });
    expect(stale.json.errors).toMatchObject([{ path: ["updateRefs"] }]);
    expect((stale.json.errors as Array<Record<string, unknown>>)[0]!.type).toBeUndefined();
    expect([at(first), at(second)]).toEqual([other, main]);
    // Zeros as beforeOid: only where the ref does not exist. Without force: only a fast-forward.
    expect(
      (await updateRefs([{ name: `refs/heads/${first}`, beforeOid: NO_OID, afterOid: main }])).json.errors,
    ).toBeDefined();
    expect(
      (await updateRefs([{ name: `refs/heads/${first}`, beforeOid: other, afterOid: main }])).json.errors,
    ).toBeDefined();
    expect((await updateRefs([], "R_1")).json.errors).toMatchObject([{ type: "NOT_FOUND" }]);
    expect(standIn.refWrites.length).toBe(writes);

    // Matching: both apply at once, a forced move and a delete.
    const done = await updateRefs([
      { name: `refs/heads/${first}`, beforeOid: other, afterOid: main, force: true },
      { name: `refs/heads/${second}`, beforeOid: main, afterOid: NO_OID },
    ]);
    expect(done.json).toEqual({ data: { updateRefs: { clientMutationId: null } } });
    expect([at(first), at(second)]).toEqual([main, null]);
    expect(standIn.refWrites.slice(writes)).toEqual([
      { op: "update", ref: `refs/heads/${first}`, sha: main },
      { op: "delete", ref: `refs/heads/${second}` },
    ]);
    // A misfit of GitHub's schema (no afterOid) is a violation, like any other request the stand-in does not know.
    await updateRefs([{ name: `refs/heads/${first}`, beforeOid: main }]);
    expect(standIn.violations.join("\n")).toContain("afterOid");
    standIn.violations.length = 0; // expected here; every other test must leave none
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
    expect(run!.requests).toBe(4); // created in progress, then completed with 50 + 50 + 20

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
    const result = await analyse(
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

describe("findings first, failures isolated", () => {
  test("the check run is in progress within 1 s of the webhook, before the repository is read", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    let seenAtSnapshot: string[] | null = null;
    standIn.beforeDispatch = (route) => {
      if (route !== "GET /repos/{owner}/{repo}/tarball/{ref}") return;
      standIn.beforeDispatch = null;
      seenAtSnapshot = checkRunsOn(pr.headSha).map((run) => run.status);
    };
    const sent = Date.now();
    const delivered = app.deliver("pull_request", pullRequestEvent(standIn, pr, "opened"));
    let inProgressAfter = -1;
    while (Date.now() - sent < 5000) {
      if (checkRunsOn(pr.headSha).length > 0) {
        inProgressAfter = Date.now() - sent;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await delivered;
    await app.queue.idle();
    process.stdout.write(`[figure] check run in progress ${inProgressAfter} ms after the webhook was sent\n`);
    expect(inProgressAfter).toBeGreaterThanOrEqual(0);
    expect(inProgressAfter).toBeLessThan(1000);
    expect(seenAtSnapshot).toEqual(["in_progress"]);
    const runs = checkRunsOn(pr.headSha);
    expect(runs).toMatchObject([{ status: "completed", conclusion: "failure" }]);
    const routes = standIn.requests.filter(
      (r) => r.path.includes(`/pulls/${pr.number}`) || r.route.includes("check-runs"),
    );
    expect(routes.findIndex((r) => r.route === "POST /repos/{owner}/{repo}/check-runs")).toBeLessThan(
      routes.findIndex((r) => r.route === "GET /repos/{owner}/{repo}/pulls/{pull_number}/files"),
    );
  });

  test("branch creation refused (403): one comment naming the reason, a completed check run, no retry", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    standIn.fail({
      method: "POST",
      route: "/repos/{owner}/{repo}/git/refs",
      status: 403,
      message: "Resource not accessible by integration",
      times: 1000,
    });
    const start = standIn.requests.length;
    try {
      await send(pr, "opened");
    } finally {
      standIn.faults.length = 0;
    }
    const comments = standIn.commentsOn(pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(
      `could not create branch cilium-policy-bot/pr-${pr.number}: the app may not write to this repository (403)`,
    );
    expect(comments[0]!.body).toContain("to-services-with-to-ports");
    expect(checkRunsOn(pr.headSha)).toMatchObject([{ status: "completed", conclusion: "failure" }]);
    expect(checkRunsOn(pr.headSha)[0]!.annotations).toHaveLength(1);
    expect(standIn.followUpsOf(pr.number)).toEqual([]);
    // A permanent refusal is not worth another attempt: the branch was asked for once.
    const refs = standIn.requests.slice(start).filter((r) => r.route === "POST /repos/{owner}/{repo}/git/refs");
    expect(refs).toHaveLength(1);
  });
});

describe("follow-up branches edited by people", () => {
  /** The PR and its follow-up, open. */
  async function withFollowUp() {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    await send(pr, "opened");
    const followUp = standIn.followUpsOf(pr.number)[0]!;
    expect(followUp.state).toBe("open");
    return { pr, followUp };
  }

  test("a person's commit on the follow-up branch is still there after the next push; both PRs say so once", async () => {
    const { pr, followUp } = await withFollowUp();
    const writes = standIn.refWrites.length;
    const person = commitAs(followUp.headRef, { "apps/shop/policy.yaml": goodPolicy("shop") }, "fix the selector");
    standIn.syncPullRequest(followUp.number);
    push(pr, { "apps/shop/notes.yaml": "# notes\n" });
    await send(pr, "synchronize");
    expect(followUpTip(pr)).toBe(person);
    expect(standIn.refWrites.slice(writes)).toEqual([]);
    expect(followUp.body).toContain("edited by someone other than the app");
    expect(followUp.body).toContain("- [ ] recreate this pull request, discarding the edits");
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain("holds commits that are not the app's");
    // Another push: still kept, and the follow-up's body is not written again.
    const bodyWrites = () =>
      standIn.requests.filter((r) => r.route === "PATCH /repos/{owner}/{repo}/pulls/{pull_number}").length;
    const bodies = bodyWrites();
    push(pr, { "apps/shop/more-notes.yaml": "# more\n" });
    await send(pr, "synchronize");
    expect(followUpTip(pr)).toBe(person);
    expect(bodyWrites()).toBe(bodies);
    expect(followUp.body.split("recreate this pull request").length).toBe(2);

    // Closing the original PR closes the follow-up but keeps the edited branch.
    pr.state = "closed";
    await send(pr, "closed");
    expect(followUp.state).toBe("closed");
    expect(followUpTip(pr)).toBe(person);
    expect(standIn.commentsOn(followUp.number).at(-1)!.body).toContain("so it is kept");
  });

  test("ticking the recreate checkbox recreates the follow-up from the PR head, discarding the edits", async () => {
    const { pr, followUp } = await withFollowUp();
    const person = commitAs(followUp.headRef, { "apps/shop/stray.yaml": "# mine\n" }, "an edit");
    standIn.syncPullRequest(followUp.number);
    await send(pr, "synchronize");
    expect(followUpTip(pr)).toBe(person);
    const before = followUp.body;
    // Events that do not tick the box change nothing: a person editing other text, or the app's own edits.
    const start = standIn.requests.length;
    followUp.body = before.replace("Follow-up for", "Follow-up (see below) for");
    await app.deliver("pull_request", pullRequestEvent(standIn, followUp, "edited", undefined, before));
    await app.queue.idle();
    expect(standIn.requests.length).toBe(start);
    followUp.body = before.replace("- [ ] recreate", "- [x] recreate");
    await app.deliver("pull_request", pullRequestEvent(standIn, followUp, "edited", undefined, before));
    await app.queue.idle();
    const tip = followUpTip(pr)!;
    expect(tip).not.toBe(person);
    expect(standIn.git.parentsOf(tip)).toEqual([pr.headSha]);
    expect(changesTrailerOf(commitMessageOf(tip))).toBe(changeSetDigest(await expectedChanges(pr.headSha)));
    expect(standIn.git.files(tip).has("apps/shop/stray.yaml")).toBe(false);
    expect(followUp).toMatchObject({ state: "open", headSha: tip });
    expect(followUp.body).not.toContain("recreate this pull request");
    expect(standIn.commentsOn(pr.number)[0]!.body).not.toContain("holds commits that are not the app's");
  });

  describe("a person's push between the app's look at the branch and its write", () => {
    afterEach(() => {
      standIn.beforeDispatch = null;
    });

    /** Makes a person push onto `branch` once, just before the app's next request to `route` is served. */
    function pushBefore(route: string, branch: string): { sha: string } {
      const pushed = { sha: "" };
      standIn.beforeDispatch = (served) => {
        if (served !== route) return;
        standIn.beforeDispatch = null;
        pushed.sha = commitAs(branch, { "apps/shop/mine.yaml": "# mine\n" }, "my work");
      };
      return pushed;
    }

    test("on a later push: the person's commit survives, and both PRs say the branch was edited", async () => {
      const { pr, followUp } = await withFollowUp();
      push(pr, { "apps/shop/notes.yaml": "# notes\n" });
      const writes = standIn.refWrites.length;
      // After the app listed the follow-up (its tip: the app's commit) and made its new commit, before the move.
      const person = pushBefore("POST /repos/{owner}/{repo}/git/commits", followUp.headRef);
      await send(pr, "synchronize");
      expect(person.sha).not.toBe("");
      expect(followUpTip(pr)).toBe(person.sha);
      expect(standIn.refWrites.slice(writes)).toEqual([]);
      expect(followUp.state).toBe("open");
      expect(followUp.body).toContain("edited by someone other than the app");
      expect(standIn.commentsOn(pr.number)[0]!.body).toContain("holds commits that are not the app's");
      expect(checkRunsOn(pr.headSha)).toMatchObject([{ status: "completed", conclusion: "failure" }]);
      // The refused move was one updateRefs answered with an error; the branch read again told why.
      const moves = standIn.requests.filter(
        (r) => r.route === "POST /graphql" && JSON.stringify(r.body).includes("updateRefs"),
      );
      expect(moves.at(-1)!.status).toBe(200);

      // The follow-up's listing still shows the app's commit (GitHub's may lag): the next push does not write either.
      push(pr, { "apps/shop/more-notes.yaml": "# more\n" });
      await send(pr, "synchronize");
      expect(followUpTip(pr)).toBe(person.sha);
      expect(standIn.refWrites.slice(writes)).toEqual([]);
      expect(followUp.body.split("recreate this pull request").length).toBe(2);
    });

    test("an event without the repository's node id (a job queued by an older version): read once, then the same", async () => {
      const { pr, followUp } = await withFollowUp();
      push(pr, { "apps/shop/notes.yaml": "# notes\n" });
      const person = pushBefore("POST /repos/{owner}/{repo}/git/commits", followUp.headRef);
      const payload = pullRequestEvent(standIn, pr, "synchronize");
      delete (payload.repository as Record<string, unknown>).node_id;
      const start = standIn.requests.length;
      await app.deliver("pull_request", payload);
      await app.queue.idle();
      expect(followUpTip(pr)).toBe(person.sha);
      const routes = standIn.requests.slice(start).map((r) => r.route);
      expect(routes.filter((route) => route === "GET /repos/{owner}/{repo}")).toHaveLength(1);
      expect(routes.indexOf("GET /repos/{owner}/{repo}")).toBeGreaterThan(
        routes.indexOf("POST /repos/{owner}/{repo}/git/commits"),
      );
    });

    test("on close: the person's commit survives, and the close comment says the branch is kept", async () => {
      const { pr, followUp } = await withFollowUp();
      const writes = standIn.refWrites.length;
      // After the app judged the branch its own, while it closes the follow-up.
      const person = pushBefore("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", followUp.headRef);
      pr.state = "closed";
      await send(pr, "closed");
      expect(person.sha).not.toBe("");
      expect(followUp.state).toBe("closed");
      expect(followUpTip(pr)).toBe(person.sha);
      expect(standIn.refWrites.slice(writes)).toEqual([]);
      expect(standIn.commentsOn(followUp.number).at(-1)!.body).toContain("so it is kept");
    });
  });

  test("a branch of that name the app did not create is never touched and nothing is opened", async () => {
    const pr = openPr({ "apps/shop/policy.yaml": badPolicy("shop") });
    const squatted = standIn.git.commit(
      `cilium-policy-bot/pr-${pr.number}`,
      { "x.txt": "mine\n" },
      "mine",
      "refs/heads/main",
    );
    await send(pr, "opened");
    push(pr, { "apps/shop/notes.yaml": "# notes\n" });
    await send(pr, "synchronize");
    expect(followUpTip(pr)).toBe(squatted);
    expect(standIn.refWrites.filter((w) => w.ref.endsWith(`/pr-${pr.number}`))).toEqual([]);
    expect(standIn.followUpsOf(pr.number)).toEqual([]);
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain(
      `A branch \`cilium-policy-bot/pr-${pr.number}\` exists that this app did not create`,
    );
    pr.state = "closed";
    await send(pr, "closed");
    expect(followUpTip(pr)).toBe(squatted);
  });

  test("a follow-up a person closed is not opened again for the same change set; a different one opens a new PR", async () => {
    const { pr, followUp } = await withFollowUp();
    followUp.state = "closed"; // closed by a person, not merged
    push(pr, { "apps/shop/notes.yaml": "# notes\n" });
    await send(pr, "synchronize");
    expect(standIn.followUpsOf(pr.number).map((f) => f.state)).toEqual(["closed"]);
    expect(standIn.commentsOn(pr.number)[0]!.body).toContain(`#${followUp.number} was closed without merging`);
    push(pr, { "apps/pay/policy.yaml": badPolicy("pay") });
    await send(pr, "synchronize");
    expect(standIn.followUpsOf(pr.number).map((f) => f.state)).toEqual(["closed", "open"]);
  });

  test("a person's PR from a branch that merely starts with cilium-policy-bot/ is checked", async () => {
    standIn.git.commit(
      "cilium-policy-bot/my-change",
      { "apps/shop/policy.yaml": badPolicy("shop") },
      "mine",
      "refs/heads/main",
    );
    const pr = standIn.openPullRequest("cilium-policy-bot/my-change");
    await send(pr, "opened");
    expect(checkRunsOn(pr.headSha)).toMatchObject([{ status: "completed", conclusion: "failure" }]);
    expect(standIn.commentsOn(pr.number)).toHaveLength(1);
    // The app's own follow-up PRs are not analysed: a push there (by a person) costs no request.
    const followUp = standIn.followUpsOf(pr.number)[0]!;
    const before = standIn.requests.length;
    await send(followUp, "synchronize");
    expect(standIn.requests.length).toBe(before);
  });
});
