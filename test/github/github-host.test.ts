// The GitHub adapter's conditional ref writes, against the OpenAPI-checked stand-in: the follow-up branch moves or
// goes only from the tip the job judged, and where it points after a failed write says what happened.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { GitHubHost } from "../../src/github/github-host.js";
import type { GitHub } from "../../src/github/types.js";
import { FastRetryOctokit, generateAppKeys } from "../helpers/github-app.js";
import { startStandIn } from "../helpers/github-standin.js";
import type { GitHubStandIn } from "../helpers/github-standin.js";
import { IDENTITY } from "../helpers/memory-host.js";

const BRANCH = "cilium-policy-bot/pr-41";
const REF = `refs/heads/${BRANCH}`;
const MESSAGE = { headline: "Rewrite", body: "Cilium-Policy-Bot-Changes: " + "a".repeat(64), digest: "a".repeat(64) };
const CHANGES = [{ path: "apps/shop/policy.yaml", before: "a: 1\n", after: "a: 2\n" }];

let standIn: GitHubStandIn;
let host: GitHubHost;
let main: string;

beforeAll(async () => {
  standIn = await startStandIn(
    { appId: 5, publicKey: generateAppKeys().publicKey },
    { "apps/shop/policy.yaml": "a: 1\n" },
  );
  main = standIn.git.resolve("refs/heads/main")!;
  const octokit = new FastRetryOctokit({
    auth: { token: standIn.installationToken() },
    baseUrl: standIn.url,
  }) as unknown as GitHub;
  host = new GitHubHost(octokit, { owner: "acme", repo: "gitops" }, IDENTITY, { repositoryId: "R_4242" });
});

afterAll(async () => {
  await standIn?.stop();
  standIn?.git.remove();
});

afterEach(() => {
  expect(standIn.violations).toEqual([]);
  standIn.beforeDispatch = null;
  standIn.faults.length = 0;
  standIn.git.run(["update-ref", "-d", REF]);
});

/** The follow-up branch at a commit of its own on main; returns that commit. */
function branchAtOwnCommit(): string {
  standIn.git.run(["update-ref", REF, main]);
  return standIn.git.commit(BRANCH, { "x.txt": "app\n" }, "the app's earlier commit");
}

function updateRefsRequests() {
  return standIn.requests.filter((r) => r.route === "POST /graphql" && JSON.stringify(r.body).includes("updateRefs"));
}

describe("replaceBranchCommit", () => {
  test("moves the branch when it points to the expected tip, in one updateRefs naming it", async () => {
    const tip = branchAtOwnCommit();
    const before = updateRefsRequests().length;
    const written = await host.replaceBranchCommit(BRANCH, { expectedTip: tip, parent: main }, CHANGES, MESSAGE);
    expect(written).toEqual({ sha: standIn.git.resolve(REF) });
    expect(standIn.git.parentsOf(standIn.git.resolve(REF)!)).toEqual([main]);
    expect(updateRefsRequests().slice(before)).toHaveLength(1);
    const [move] = updateRefsRequests().slice(before);
    expect(move!.accept).toBe("application/vnd.github.update-refs-preview+json");
    expect(standIn.requests.some((r) => r.route.startsWith("PATCH /repos/{owner}/{repo}/git/refs"))).toBe(false);
  });

  test("a branch that moved is left where it is, and its new tip is returned", async () => {
    const tip = branchAtOwnCommit();
    const person = standIn.git.commit(BRANCH, { "mine.txt": "mine\n" }, "a person's commit");
    expect(await host.replaceBranchCommit(BRANCH, { expectedTip: tip, parent: main }, CHANGES, MESSAGE)).toEqual({
      moved: person,
    });
    expect(standIn.git.resolve(REF)).toBe(person);
  });

  test("a write that took effect before its answer failed counts as done", async () => {
    const tip = branchAtOwnCommit();
    standIn.beforeDispatch = (route, body) => {
      if (route !== "POST /graphql") return;
      // As if an earlier try of this very request had moved the branch: this one then fails on beforeOid.
      const [update] = (body as { variables: { input: { refUpdates: Array<{ afterOid: string }> } } }).variables.input
        .refUpdates;
      standIn.git.run(["update-ref", REF, update!.afterOid]);
    };
    const written = await host.replaceBranchCommit(BRANCH, { expectedTip: tip, parent: main }, CHANGES, MESSAGE);
    expect(written).toEqual({ sha: standIn.git.resolve(REF) });
    expect(written).not.toEqual({ sha: tip });
  });

  test("refused for another reason (the branch still at the expected tip): the failure is thrown as it came", async () => {
    const tip = branchAtOwnCommit();
    standIn.fail({ method: "POST", route: "/graphql", status: 403, message: "Resource not accessible by integration" });
    await expect(
      host.replaceBranchCommit(BRANCH, { expectedTip: tip, parent: main }, CHANGES, MESSAGE),
    ).rejects.toMatchObject({ status: 403 });
    expect(standIn.git.resolve(REF)).toBe(tip);
  });

  test("only the app's own branches, checked before any request", async () => {
    const before = standIn.requests.length;
    await expect(
      host.replaceBranchCommit("main", { expectedTip: main, parent: main }, CHANGES, MESSAGE),
    ).rejects.toThrow(/refusing/);
    await expect(host.deleteBranch("main", main)).rejects.toThrow(/refusing/);
    expect(standIn.requests.length).toBe(before);
  });
});

describe("deleteBranch", () => {
  test("deletes the branch at the expected tip; one already gone counts as deleted", async () => {
    const tip = branchAtOwnCommit();
    expect(await host.deleteBranch(BRANCH, tip)).toBe("deleted");
    expect(standIn.git.resolve(REF)).toBeNull();
    expect(await host.deleteBranch(BRANCH, tip)).toBe("deleted");
  });

  test("keeps a branch that moved, and returns its new tip", async () => {
    const tip = branchAtOwnCommit();
    const person = standIn.git.commit(BRANCH, { "mine.txt": "mine\n" }, "a person's commit");
    expect(await host.deleteBranch(BRANCH, tip)).toEqual({ moved: person });
    expect(standIn.git.resolve(REF)).toBe(person);
  });
});

test("without the repository's node id it is read once, when the first ref write needs it", async () => {
  const octokit = new FastRetryOctokit({
    auth: { token: standIn.installationToken() },
    baseUrl: standIn.url,
  }) as unknown as GitHub;
  const bare = new GitHubHost(octokit, { owner: "acme", repo: "gitops" }, IDENTITY);
  const start = standIn.requests.length;
  const tip = branchAtOwnCommit();
  const written = await bare.replaceBranchCommit(BRANCH, { expectedTip: tip, parent: main }, CHANGES, MESSAGE);
  expect(await bare.deleteBranch(BRANCH, (written as { sha: string }).sha)).toBe("deleted");
  expect(standIn.requests.slice(start).filter((r) => r.route === "GET /repos/{owner}/{repo}")).toHaveLength(1);
});
