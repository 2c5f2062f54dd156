// The app's job as a decision procedure over the host port, against an in-memory host: what it reads and writes,
// in which order, and what it leaves alone.
import { describe, expect, test } from "vitest";
import { JobFailure, runPullRequestJob } from "../../src/github/analyse.js";
import type { JobContext } from "../../src/github/analyse.js";
import { ownFollowUpOf } from "../../src/github/app.js";
import {
  CHANGES_TRAILER,
  isOwnCommit,
  recreateTickedBy,
  RECREATE_LABEL,
  EDITED_MARKER,
} from "../../src/github/follow-up.js";
import { InProcessQueue, jobKey } from "../../src/github/queue.js";
import type { PullRequestJob } from "../../src/github/queue.js";
import { httpError, IDENTITY, MemoryHost } from "../helpers/memory-host.js";
import { BASE_FILES, badPolicy, goodPolicy } from "../e2e/fixture-repo.js";

const BRANCH = "cilium-policy-bot/pr-7";

function setUp(extra: Record<string, string> = { "apps/shop/policy.yaml": badPolicy("shop") }) {
  return new MemoryHost({ ...BASE_FILES, ...extra }, Object.keys(extra));
}

const quiet = { info: () => {}, warn: () => {} };

function eventFor(host: MemoryHost, action = "synchronize", headSha = host.pr.headSha): PullRequestJob {
  return { installationId: 1, owner: "acme", repo: "gitops", pullNumber: 7, headSha, action, deliveryId: headSha };
}

function run(host: MemoryHost, action = "synchronize", options: Partial<JobContext> = {}) {
  return runPullRequestJob(eventFor(host, action), { host, log: quiet, webUrl: "https://github.com", ...options });
}

/** The PR with its follow-up open, as the first event leaves it. */
async function withFollowUp() {
  const host = setUp();
  await run(host, "opened");
  expect(host.pulls).toMatchObject([{ state: "open", headRef: BRANCH }]);
  host.calls.length = 0;
  return host;
}

describe("findings first", () => {
  test("the check run is started before anything is read, and completed before the follow-up is made", async () => {
    const host = setUp();
    await run(host, "opened");
    expect(host.calls).toEqual([
      "pullRequest",
      "startCheckRun",
      "configuration",
      "changedFiles",
      "snapshot",
      "completeCheckRun",
      "createBranch",
      "commitOnBranch",
      "openFollowUp",
      "publishComment",
    ]);
    expect(host.checkRuns).toMatchObject([{ status: "completed", output: { conclusion: "failure" } }]);
    expect(host.comment).toContain(`#${host.pulls[0]!.number}`);
  });

  test("a follow-up refused for good (403) is said in the comment and logged; the job ends normally, no retry", async () => {
    const host = setUp();
    host.fail("createBranch", httpError(403, "Resource not accessible by integration"));
    const warnings: object[] = [];
    const log = { info: () => {}, warn: (obj: object) => void warnings.push(obj) };
    await expect(run(host, "opened", { log })).resolves.toBe("analysed");
    expect(warnings).toEqual([
      expect.objectContaining({
        repo: "acme/gitops",
        pull: 7,
        step: `create branch ${BRANCH}`,
        err: "Resource not accessible by integration",
      }),
    ]);
    expect(host.comment).toContain(`could not create branch ${BRANCH}: the app may not write to this repository (403)`);
    expect(host.comment).toContain("contents: write");
    expect(host.checkRuns).toMatchObject([{ status: "completed" }]);
    expect(host.pulls).toEqual([]);
  });

  test("a transient follow-up failure is said in the comment, and the job fails as transient for the queue", async () => {
    const host = setUp();
    host.fail("openFollowUp", httpError(502, "Bad Gateway"));
    const failure = await run(host, "opened").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobFailure);
    expect((failure as JobFailure).transient).toBe(true);
    expect(host.comment).toContain("could not open the follow-up pull request: GitHub failed (502)");
    expect(host.checkRuns).toMatchObject([{ status: "completed" }]);
    // The retry: the branch holds the app's commit, the PR is opened, the comment names it.
    await run(host, "opened");
    expect(host.pulls).toMatchObject([{ state: "open" }]);
    expect(host.comment).not.toContain("could not");
  });

  test("a transient failure before the findings leaves the check in progress for the retry; the last attempt completes it", async () => {
    const host = setUp();
    host.fail("snapshot", httpError(503), httpError(503));
    await expect(run(host, "opened", { finalAttempt: false })).rejects.toMatchObject({ transient: true });
    expect(host.checkRuns).toMatchObject([{ status: "in_progress" }]);
    await expect(run(host, "opened", { finalAttempt: true })).rejects.toBeInstanceOf(JobFailure);
    expect(host.checkRuns).toMatchObject([
      { status: "completed", output: { conclusion: "failure", title: "Could not be checked" } },
    ]);
    expect(host.checkRuns[0]!.output!.summary).toContain("GitHub failed (503)");
  });

  test("a commit that failed leaves no bare branch behind", async () => {
    const host = setUp();
    host.fail("commitOnBranch", httpError(500));
    await expect(run(host, "opened")).rejects.toMatchObject({ transient: true });
    expect(host.branches.has(BRANCH)).toBe(false);

    // When the clean-up fails too, the next run commits onto the bare branch at the PR head (it holds nothing else).
    const leftover = setUp();
    leftover.fail("commitOnBranch", httpError(502));
    leftover.fail("deleteBranch", httpError(502));
    await expect(run(leftover, "opened")).rejects.toMatchObject({ transient: true });
    expect(leftover.branches.get(BRANCH)).toBe(leftover.pr.headSha);
    await run(leftover, "opened");
    expect(leftover.commits.get(leftover.branches.get(BRANCH)!)).toMatchObject({ parents: [leftover.pr.headSha] });
    expect(leftover.pulls).toMatchObject([{ state: "open", headRef: BRANCH }]);

    // Unless someone pushed onto it meanwhile: then it is theirs, and kept.
    const pushed = setUp();
    pushed.fail("commitOnBranch", httpError(500));
    let person = "";
    pushed.meanwhile("deleteBranch", () => (person = pushed.pushAs(BRANCH, { "mine.yaml": "# mine\n" })));
    await expect(run(pushed, "opened")).rejects.toMatchObject({ transient: true });
    expect(pushed.branches.get(BRANCH)).toBe(person);
  });
});

describe("edited branches", () => {
  test("a person's commit on the follow-up branch is never replaced; the follow-up says so once", async () => {
    const host = await withFollowUp();
    const appTip = host.branches.get(BRANCH)!;
    const person = host.commit([appTip], host.commits.get(appTip)!.files, "fix the selector", "octocat");
    host.branches.set(BRANCH, person);
    host.pushToPr({ "apps/shop/notes.yaml": "# notes\n" });
    await run(host);
    expect(host.branches.get(BRANCH)).toBe(person);
    expect(host.writes()).toEqual(["updateFollowUp"]);
    expect(host.pulls[0]!.body).toContain(EDITED_MARKER);
    expect(host.pulls[0]!.body).toContain(`- [ ] ${RECREATE_LABEL}`);
    expect(host.comment).toContain("holds commits that are not the app's");
    host.calls.length = 0;
    host.pushToPr({ "apps/shop/more.yaml": "# more\n" });
    await run(host);
    expect(host.writes()).toEqual([]);
  });

  test("the ticked recreate checkbox replaces the edits with the app's commit on the PR head", async () => {
    const host = await withFollowUp();
    const person = host.commit([host.branches.get(BRANCH)!], {}, "an edit", "octocat");
    host.branches.set(BRANCH, person);
    await run(host);
    const pull = host.pulls[0]!;
    pull.body = pull.body.replace(`- [ ] ${RECREATE_LABEL}`, `- [x] ${RECREATE_LABEL}`);
    await run(host, "recreate");
    const tip = host.branches.get(BRANCH)!;
    expect(tip).not.toBe(person);
    expect(host.commits.get(tip)).toMatchObject({ parents: [host.pr.headSha], authorName: IDENTITY.botLogin });
    expect(pull.body).not.toContain(EDITED_MARKER);
    expect(host.comment).not.toContain("not the app's");
  });

  test("a person's push between the app's look at the branch and its write survives; the app says it was edited", async () => {
    const host = await withFollowUp();
    host.pushToPr({ "apps/shop/notes.yaml": "# notes\n" }); // a new head: the app's commit is to be replaced
    let person = "";
    host.meanwhile("replaceBranchCommit", () => (person = host.pushAs(BRANCH, { "apps/shop/mine.yaml": "# mine\n" })));
    await run(host);
    expect(host.branches.get(BRANCH)).toBe(person);
    expect(host.calls.filter((call) => call === "replaceBranchCommit")).toHaveLength(1);
    expect(host.pulls[0]!).toMatchObject({ state: "open" });
    expect(host.pulls[0]!.body).toContain(EDITED_MARKER);
    expect(host.comment).toContain("holds commits that are not the app's");
    // The next event reads the branch afresh and leaves it as it is.
    host.calls.length = 0;
    host.pushToPr({ "apps/shop/more.yaml": "# more\n" });
    await run(host);
    expect(host.branches.get(BRANCH)).toBe(person);
    expect(host.writes()).toEqual([]);
  });

  test("a tip that moved to another of the app's commits (a listing that lagged) is judged again and updated", async () => {
    const host = await withFollowUp();
    host.pushToPr({ "apps/shop/notes.yaml": "# notes\n" });
    host.meanwhile("replaceBranchCommit", () => {
      const older = host.branches.get(BRANCH)!;
      const message = `Rewrite\n\n${CHANGES_TRAILER}: ${"0".repeat(64)}`;
      host.branches.set(BRANCH, host.commit([older], {}, message, IDENTITY.botLogin, "GitHub"));
    });
    await run(host);
    const tip = host.branches.get(BRANCH)!;
    expect(host.commits.get(tip)).toMatchObject({ parents: [host.pr.headSha], authorName: IDENTITY.botLogin });
    expect(host.calls.filter((call) => call === "replaceBranchCommit")).toHaveLength(2);
    expect(host.pulls[0]!.body).not.toContain(EDITED_MARKER);
    expect(host.comment).not.toContain("not the app's");
  });

  test("a push after the recreate box was ticked is not discarded with the edits the box was ticked for", async () => {
    const host = await withFollowUp();
    host.pushAs(BRANCH, { "apps/shop/first.yaml": "# first\n" });
    await run(host);
    const pull = host.pulls[0]!;
    pull.body = pull.body.replace(`- [ ] ${RECREATE_LABEL}`, `- [x] ${RECREATE_LABEL}`);
    let later = "";
    host.meanwhile("replaceBranchCommit", () => (later = host.pushAs(BRANCH, { "apps/shop/later.yaml": "# later\n" })));
    await run(host, "recreate");
    expect(host.branches.get(BRANCH)).toBe(later);
    expect(host.comment).toContain("holds commits that are not the app's");
  });

  test("a branch of that name the app did not create is not touched, and nothing is opened", async () => {
    const host = setUp();
    const theirs = host.commit([], {}, "mine", "octocat");
    host.branches.set(BRANCH, theirs);
    await run(host, "opened");
    await run(host);
    expect(host.branches.get(BRANCH)).toBe(theirs);
    expect(host.writes()).toEqual(["createBranch", "createBranch"]); // answered "exists": nothing written
    expect(host.pulls).toEqual([]);
    expect(host.comment).toContain("exists that this app did not create");
    host.pr.state = "closed";
    await run(host, "closed");
    expect(host.branches.get(BRANCH)).toBe(theirs);
  });

  test("a follow-up a person closed is not opened again for the same change set; another change set opens one", async () => {
    const host = await withFollowUp();
    host.pulls[0]!.state = "closed";
    host.pushToPr({ "apps/shop/notes.yaml": "# notes\n" });
    await run(host);
    expect(host.writes()).toEqual([]);
    expect(host.comment).toContain("was closed without merging");
    host.pushToPr({ "apps/pay/policy.yaml": badPolicy("pay") });
    await run(host);
    expect(host.pulls.map((pull) => pull.state)).toEqual(["closed", "open"]);
  });

  test("closing the original closes the follow-up; the app's branch is deleted, an edited one kept", async () => {
    const host = await withFollowUp();
    host.pr.state = "closed";
    await run(host, "closed");
    expect(host.pulls[0]!.state).toBe("closed");
    expect(host.branches.has(BRANCH)).toBe(false);

    const edited = await withFollowUp();
    const person = edited.commit([edited.branches.get(BRANCH)!], {}, "an edit", "octocat");
    edited.branches.set(BRANCH, person);
    edited.pr.state = "closed";
    await run(edited, "closed");
    expect(edited.pulls[0]!.state).toBe("closed");
    expect(edited.branches.get(BRANCH)).toBe(person);
    expect(edited.prComments.at(-1)!.body).toContain("so it is kept");
  });

  test("a person's push between the app's look and its delete on close survives, and the close comment says so", async () => {
    const host = await withFollowUp();
    host.pr.state = "closed";
    let person = "";
    host.meanwhile("deleteBranch", () => (person = host.pushAs(BRANCH, { "apps/shop/mine.yaml": "# mine\n" })));
    await run(host, "closed");
    expect(host.pulls[0]!.state).toBe("closed");
    expect(host.branches.get(BRANCH)).toBe(person);
    expect(host.prComments.at(-1)!.body).toContain("so it is kept");
  });

  test("nothing left to rewrite closes the app's follow-up; when that fails, the all-clear comment says so", async () => {
    const host = await withFollowUp();
    host.pushToPr({ "apps/shop/policy.yaml": goodPolicy("shop"), "apps/legacy/policy.yaml": goodPolicy("legacy") });
    host.fail("updateFollowUp", httpError(403, "Resource not accessible by integration"));
    await run(host);
    expect(host.pulls[0]!.state).toBe("open");
    expect(host.comment).toContain("all clear");
    expect(host.comment).toContain(
      `could not close the follow-up pull request #${host.pulls[0]!.number}: the app may not write to this repository (403)`,
    );
    host.pushToPr({ "apps/shop/notes.yaml": "# notes\n" });
    await run(host);
    expect(host.pulls[0]!.state).toBe("closed");
    expect(host.branches.has(BRANCH)).toBe(false);
    expect(host.comment).not.toContain("could not");
    expect(host.prComments.map((c) => c.number)).toEqual([host.pulls[0]!.number]); // said once, when closed
  });
});

describe("the PR as it is now, whatever the event said (deliveries do not arrive in the order of the pushes)", () => {
  test("a push's event arriving after the next push's replaces it in the queue; the last push is still analysed", async () => {
    const host = setUp();
    const queue = new InProcessQueue();
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const outcomes: string[] = [];
    queue.start(async (event, { superseded }) => {
      if (event.action === "opened") await gate;
      outcomes.push(await runPullRequestJob(event, { host, log: quiet, webUrl: "https://github.com", superseded }));
    });
    const key = jobKey("acme", "gitops", 7);
    await queue.enqueue(key, eventFor(host, "opened")); // runs, and waits at the gate
    const first = host.pushToPr({ "apps/shop/one.yaml": badPolicy("one") });
    const last = host.pushToPr({ "apps/shop/two.yaml": badPolicy("two") });
    // The two pushes' events arrive in the wrong order (two instances, a late redelivery): the first one's wins.
    await queue.enqueue(key, eventFor(host, "synchronize", last));
    await queue.enqueue(key, eventFor(host, "synchronize", first));
    open();
    await queue.idle();
    expect(host.checkRuns.filter((check) => check.sha === last)).toMatchObject([{ status: "completed" }]);
    expect(host.comment).toContain("apps/shop/two.yaml");
    const tip = host.branches.get(BRANCH)!;
    expect(host.commits.get(tip)).toMatchObject({ parents: [last] });
    expect(host.commits.get(tip)!.files["apps/shop/two.yaml"]).toContain("toEndpoints:");
    // The opened event, superseded while it waited, left the work to the stored one: the PR was analysed once.
    expect(outcomes).toEqual(["superseded", "analysed"]);
    expect(host.calls.filter((call) => call === "snapshot")).toHaveLength(1);
  });

  test("a superseded event leaves the work to the newer one without reading anything", async () => {
    const host = await withFollowUp();
    const job = eventFor(host);
    const superseded = async () => true;
    await expect(runPullRequestJob(job, { host, log: quiet, webUrl: "https://github.com", superseded })).resolves.toBe(
      "superseded",
    );
    expect(host.calls).toEqual([]);
  });

  test("a closed event arriving after the reopened one analyses the open PR and leaves its follow-up open", async () => {
    const host = await withFollowUp();
    host.pushToPr({ "apps/shop/notes.yaml": "# notes\n" }); // pushed while closed, then reopened
    await expect(run(host, "closed")).resolves.toBe("analysed");
    expect(host.checkRuns.filter((check) => check.sha === host.pr.headSha)).toMatchObject([{ status: "completed" }]);
    expect(host.pulls).toMatchObject([{ state: "open", headRef: BRANCH }]);
    expect(host.commits.get(host.branches.get(BRANCH)!)).toMatchObject({ parents: [host.pr.headSha] });
  });

  test("a push's event arriving after the closed one retires the follow-up as the closed event would", async () => {
    const host = await withFollowUp();
    host.pr.state = "closed";
    await expect(run(host, "synchronize")).resolves.toBe("closed-follow-up");
    expect(host.pulls[0]!.state).toBe("closed");
    expect(host.branches.has(BRANCH)).toBe(false);
    expect(host.checkRuns).toHaveLength(1); // the one of the first event: nothing is analysed on a closed PR
  });
});

describe("who is who", () => {
  test("the app's commits: its author, its or GitHub's committer, and its trailer", () => {
    const message = `Rewrite\n\n${CHANGES_TRAILER}: ${"a".repeat(64)}`;
    const commit = { sha: "s", parents: [], authorName: IDENTITY.botLogin, committerName: "GitHub", message };
    expect(isOwnCommit(commit, IDENTITY)).toBe(true);
    expect(isOwnCommit({ ...commit, committerName: IDENTITY.botLogin }, IDENTITY)).toBe(true);
    expect(isOwnCommit({ ...commit, authorName: "octocat" }, IDENTITY)).toBe(false);
    expect(isOwnCommit({ ...commit, committerName: "octocat" }, IDENTITY)).toBe(false);
    expect(isOwnCommit({ ...commit, message: "Rewrite" }, IDENTITY)).toBe(false);
  });

  test("only a tick made by the edit counts", () => {
    const unticked = `${EDITED_MARKER}\n- [ ] ${RECREATE_LABEL}\n`;
    const ticked = `${EDITED_MARKER}\n- [x] ${RECREATE_LABEL}\n`;
    expect(recreateTickedBy(unticked, ticked)).toBe(true);
    expect(recreateTickedBy(ticked, ticked)).toBe(false);
    expect(recreateTickedBy(unticked, unticked)).toBe(false);
    expect(recreateTickedBy("", `- [x] ${RECREATE_LABEL}\n`)).toBe(false); // not the app's notice
  });

  test("issue 10 #8: only the app's own follow-ups are skipped", () => {
    const pr = (ref: string, user: string, repo = "acme/gitops") => ({
      number: 1,
      user: { login: user },
      head: { ref, repo: { full_name: repo } },
    });
    expect(ownFollowUpOf(pr("cilium-policy-bot/pr-7", IDENTITY.botLogin), "acme/gitops", IDENTITY.botLogin)).toBe(7);
    expect(ownFollowUpOf(pr("cilium-policy-bot/my-change", "octocat"), "acme/gitops", IDENTITY.botLogin)).toBeNull();
    expect(
      ownFollowUpOf(pr("cilium-policy-bot/my-change", IDENTITY.botLogin), "acme/gitops", IDENTITY.botLogin),
    ).toBeNull();
    expect(ownFollowUpOf(pr("cilium-policy-bot/pr-7", "octocat"), "acme/gitops", IDENTITY.botLogin)).toBeNull();
    expect(
      ownFollowUpOf(pr("cilium-policy-bot/pr-7", IDENTITY.botLogin, "fork/gitops"), "acme/gitops", IDENTITY.botLogin),
    ).toBeNull();
  });
});
