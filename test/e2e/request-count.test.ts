// How many GitHub API requests one pull_request event costs on the example repository (examples/gitops-repo):
// printed as a figure, checked to stay within the budget of 13 (issue 9: 12, and the update that completes the check
// run created in progress when the job starts), and not to depend on the repository's size.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "../../src/policy/config.js";
import { fixOf } from "../helpers/analysis.js";
import { PROJECT_ROOT } from "../helpers/external.js";
import { source } from "../helpers/sources.js";
import { generateAppKeys, startApp } from "../helpers/github-app.js";
import type { RunningApp } from "../helpers/github-app.js";
import { pullRequestEvent } from "../helpers/github-payloads.js";
import { startStandIn } from "../helpers/github-standin.js";

const EXAMPLE = join(PROJECT_ROOT, "examples/gitops-repo");
const CHANGED = "apps/shop/network-policy.yaml";

function filesUnder(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else files[relative(dir, full)] = readFileSync(full, "utf8");
    }
  };
  walk(dir);
  return files;
}

interface EventRoutes {
  /** The process's first opened event. */
  readonly cold: string[];
  /** An opened event of a process that has run one already. */
  readonly warm: string[];
  /** A push to that second PR: the follow-up's commit replaced, its branch moved. */
  readonly push: string[];
}

/** The API routes requested by events of a PR touching CHANGED in a repository of `files`. */
async function routesForOneEvent(files: Record<string, string>): Promise<EventRoutes> {
  const keys = generateAppKeys();
  const standIn = await startStandIn({ appId: 99, publicKey: keys.publicKey }, files);
  let app: RunningApp | null = null;
  try {
    app = await startApp({ appId: 99, keys, secret: "s", baseUrl: standIn.url });
    const runs: string[][] = [];
    for (const branch of ["first", "second"]) {
      standIn.git.commit(
        branch,
        { [CHANGED]: `${files[CHANGED]}\n# touched by ${branch}\n` },
        "touch",
        "refs/heads/main",
      );
      const pr = standIn.openPullRequest(branch);
      const start = standIn.requests.length;
      await app.deliver("pull_request", pullRequestEvent(standIn, pr, "opened"));
      await app.queue.idle();
      runs.push(
        standIn.requests
          .slice(start)
          .filter((r) => !r.route.startsWith("codeload"))
          .map((r) => r.route),
      );
    }
    const second = [...standIn.pulls.values()].find((p) => p.headRef === "second")!;
    standIn.git.commit("second", { "apps/shop/notes.yaml": "# notes\n" }, "push");
    standIn.syncPullRequest(second.number);
    const start = standIn.requests.length;
    await app.deliver("pull_request", pullRequestEvent(standIn, second, "synchronize"));
    await app.queue.idle();
    const push = standIn.requests
      .slice(start)
      .filter((r) => !r.route.startsWith("codeload"))
      .map((r) => r.route);
    expect(standIn.violations).toEqual([]);
    // The follow-up branch holds exactly what the engine's fix makes of the PR head, and nothing else moved.
    const pr = [...standIn.pulls.values()].find((p) => p.headRef === "second")!;
    const head = standIn.git.files(pr.headSha);
    const branch = standIn.git.files(`refs/heads/cilium-policy-bot/pr-${pr.number}`);
    const config = parseConfig(head.get(".github/cilium-policy-bot.yml")?.toString() ?? "");
    const expected = await fixOf(
      [...head].map(([path, content]) => source(path, new Uint8Array(content))),
      { config },
    );
    expect(expected.changes.length).toBeGreaterThan(0);
    const changed = new Map(expected.changes.map((c) => [c.path, c.after]));
    expect([...branch.keys()].sort()).toEqual([...head.keys()].sort());
    for (const [path, content] of branch) {
      expect(content.toString("utf8"), path).toBe(changed.get(path) ?? head.get(path)!.toString("utf8"));
    }
    return { cold: runs[0]!, warm: runs[1]!, push };
  } finally {
    await app?.stop();
    await standIn.stop();
    standIn.git.remove();
  }
}

describe("GitHub API requests for one pull_request event", () => {
  const example = filesUnder(EXAMPLE);
  let small: EventRoutes;
  let large: EventRoutes;
  let withoutConfig: EventRoutes;

  beforeAll(async () => {
    small = await routesForOneEvent(example);
    // Without .github/cilium-policy-bot.yml the app also looks in the organisation's .github repository.
    const bare = { ...example };
    delete bare[".github/cilium-policy-bot.yml"];
    withoutConfig = await routesForOneEvent(bare);
    // The same repository with 2,000 more manifests: the count must not move.
    const padded = { ...example };
    for (let i = 0; i < 2000; i++) {
      padded[`apps/generated-${i}/configmap.yaml`] =
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  namespace: gen\ndata:\n  key: "${i}"\n`;
    }
    large = await routesForOneEvent(padded);
  }, 300_000);

  afterAll(() => {
    process.stdout.write(
      `[figure] examples/gitops-repo, one opened event touching ${CHANGED}: ${small.warm.length} API requests ` +
        `(${small.cold.length} for the process's first event, which also reads GET /app and an installation token)\n` +
        small.cold.map((route) => `  ${route}`).join("\n") +
        "\n" +
        `[figure] the same without a configuration file: ${withoutConfig.warm.length} API requests ` +
        `(${withoutConfig.cold.length} for the process's first event)\n` +
        `[figure] a push to that pull request (the follow-up's commit replaced): ${small.push.length} API requests\n` +
        small.push.map((route) => `  ${route}`).join("\n") +
        "\n",
    );
  });

  test("stays within 13 requests, with or without a configuration file", () => {
    expect(small.warm.length).toBeLessThanOrEqual(13);
    expect(withoutConfig.warm.length).toBeLessThanOrEqual(13);
    const config = "GET /repos/{owner}/{repo}/contents/{path}";
    expect(withoutConfig.warm.filter((route) => route === config)).toHaveLength(2);
    expect(small.warm.filter((route) => route === config)).toHaveLength(1);
    expect(withoutConfig.warm.filter((route) => route !== config)).toEqual(
      small.warm.filter((route) => route !== config),
    );
  });

  test("creates the check run in progress first, and completes it before the follow-up is made", () => {
    const run = "POST /repos/{owner}/{repo}/check-runs";
    expect(small.warm.slice(0, 3)).toEqual([
      "GET /repos/{owner}/{repo}/pulls/{pull_number}",
      "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
      run,
    ]);
    const completed = small.warm.indexOf("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}");
    expect(completed).toBeGreaterThan(small.warm.indexOf("GET /repos/{owner}/{repo}/tarball/{ref}"));
    expect(completed).toBeLessThan(small.warm.indexOf("POST /repos/{owner}/{repo}/git/refs"));
  });

  test("commits the follow-up with createRef at the PR head and one createCommitOnBranch", () => {
    expect(small.warm.filter((route) => route.includes("/git/"))).toEqual(["POST /repos/{owner}/{repo}/git/refs"]);
    expect(small.warm.filter((route) => route === "POST /graphql")).toHaveLength(1);
    expect(small.warm.indexOf("POST /repos/{owner}/{repo}/git/refs")).toBeLessThan(small.warm.indexOf("POST /graphql"));
  });

  test("a push replaces the follow-up's commit and moves its branch with one conditional updateRefs, no REST ref write", () => {
    const git = small.push.filter((route) => route.includes("/git/"));
    expect(git).toEqual([
      "GET /repos/{owner}/{repo}/git/commits/{commit_sha}", // the branch's tip, judged
      "GET /repos/{owner}/{repo}/git/commits/{commit_sha}", // the PR head, for its tree
      "POST /repos/{owner}/{repo}/git/trees",
      "POST /repos/{owner}/{repo}/git/commits",
    ]);
    expect(small.push.filter((route) => route === "POST /graphql")).toHaveLength(1);
    expect(small.push.indexOf("POST /graphql")).toBeGreaterThan(
      small.push.indexOf("POST /repos/{owner}/{repo}/git/commits"),
    );
  });

  test("does not grow with the repository's size", () => {
    expect(large.push).toEqual(small.push);
    expect(large.warm).toEqual(small.warm);
    expect(large.cold).toEqual(small.cold);
  });

  test("reads the repository with one tarball request", () => {
    expect(small.warm.filter((route) => route.includes("tarball"))).toHaveLength(1);
    expect(small.warm.some((route) => route.includes("/contents/") && !route.includes("{path}"))).toBe(false);
  });
});
