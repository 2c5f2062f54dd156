// The app against the GitHub stand-in of the end-to-end tests (test/helpers/github-*.ts, compiled to .bench/build):
// the GitHub API requests one pull_request event costs, and the latency from webhook delivery to comment.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { appName, FILES_PER_APP, policyOf, repositoryFiles } from "./generate.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const build = new URL("../.bench/build/", import.meta.url);

/** Compiles the test helpers (TypeScript) once per run and loads them. */
export async function loadHelpers() {
  // Type errors (someone's half-done file) do not stop the emit; a missing helper fails the import below.
  spawnSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "bench/tsconfig.json")],
    {
      stdio: "ignore",
    },
  );
  const load = (path) => import(new URL(path, build).href);
  const [app, standIn, payloads] = await Promise.all([
    load("test/helpers/github-app.js"),
    load("test/helpers/github-standin.js"),
    load("test/helpers/github-payloads.js"),
  ]);
  return { ...app, ...standIn, ...payloads };
}

const APP_ID = 4711;
const SECRET = "bench-webhook-secret";

/** Generated apps in a repository of `files` files. */
function appsOf(files) {
  return Math.floor(files / FILES_PER_APP);
}

/** A repository of exactly `files` files: generated apps plus filler text files. */
function repositoryOf(files) {
  const apps = appsOf(files);
  const entries = [...repositoryFiles(apps)];
  for (let i = entries.length; i < files; i++) entries.push({ path: `docs/note-${i}.md`, text: `note ${i}\n` });
  return entries;
}

/** One commit holding `entries`, written through a work tree (one `git add` instead of one process per file). */
export function commitAll(git, branch, entries) {
  const work = mkdtempSync(join(tmpdir(), "cpb-bench-work-"));
  const index = join(work, ".index");
  try {
    for (const entry of entries) {
      const target = join(work, "tree", entry.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, entry.text);
    }
    const env = { GIT_INDEX_FILE: index };
    git.run(["--work-tree", join(work, "tree"), "add", "-A", "."], { env });
    const tree = git.run(["write-tree"], { env }).trim();
    const sha = git.commitTree(tree, [], "generated repository");
    git.run(["update-ref", `refs/heads/${branch}`, sha]);
    return sha;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function environment(helpers, files, queue) {
  const keys = helpers.generateAppKeys();
  const startedAt = Date.now();
  const standIn = new helpers.GitHubStandIn({ ...helpers.TEST_REPOSITORY, appId: APP_ID, publicKey: keys.publicKey });
  await standIn.start();
  commitAll(standIn.git, "main", repositoryOf(files));
  const app = await helpers.startApp({
    appId: APP_ID,
    keys,
    secret: SECRET,
    baseUrl: standIn.url,
    ...(queue ? { queue } : {}),
  });
  let branches = 0;
  const openPr = () => {
    const branch = `change-${++branches}`;
    standIn.git.commit(
      branch,
      // App 1's policy (toEndpoints in the generated repository) changed to reach app 2 through toServices+toPorts.
      { [`apps/${appName(1)}/networkpolicy.yaml`]: policyOf(1, appsOf(files), { toServices: true }) },
      `change ${branch}`,
      "refs/heads/main",
    );
    return standIn.openPullRequest(branch);
  };
  const close = async () => {
    await app.stop();
    await standIn.stop();
    standIn.git.remove();
  };
  return { standIn, app, openPr, close, startedAt };
}

/** GitHub API requests for one opened event touching one policy, by repository size. */
export async function apiBudget(helpers, sizes = [50, 5000]) {
  const rows = [];
  for (const files of sizes) {
    const env = await environment(helpers, files);
    try {
      const pr = env.openPr();
      // The app's identity is read once per process: warm it up with a PR of its own so it is not counted.
      const warm = env.openPr();
      await env.app.deliver("pull_request", helpers.pullRequestEvent(env.standIn, warm, "opened"));
      await env.app.queue.idle();
      const start = env.standIn.requests.length;
      const response = await env.app.deliver("pull_request", helpers.pullRequestEvent(env.standIn, pr, "opened"));
      await env.app.queue.idle();
      const requests = env.standIn.requests.slice(start).filter((r) => !r.route.startsWith("codeload"));
      const checkRuns = env.standIn.checkRuns.filter((run) => run.headSha === pr.headSha).length;
      const comments = env.standIn.commentsOn(pr.number).length;
      const followUps = env.standIn.followUpsOf(pr.number);
      const changed = followUps[0]
        ? env.standIn.git.run(["diff", "--name-only", pr.headSha, followUps[0].headSha])
        : "";
      rows.push({
        files,
        status: response.status,
        requests: requests.length,
        routes: requests.map((r) => r.route),
        comments,
        checkRuns,
        followUps: followUps.length,
        filesRewritten: changed.split("\n").filter(Boolean).length,
        violations: env.standIn.violations.length,
      });
    } finally {
      await env.close();
    }
  }
  return rows;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds from POSTing the webhook to the stand-in creating the PR's comment; and the webhook's answer time. */
export async function deliverAndTime(helpers, env, pr) {
  const sentAt = Date.now();
  const response = await env.app.deliver("pull_request", helpers.pullRequestEvent(env.standIn, pr, "opened"));
  const answeredAt = Date.now();
  if (response.status >= 300) throw new Error(`webhook answered ${response.status}`);
  const commentRoute = (r) => r.method === "POST" && r.path.endsWith(`/issues/${pr.number}/comments`);
  for (;;) {
    const created = env.standIn.requests.find(commentRoute);
    if (created) return { toComment: env.startedAt + created.at - sentAt, answer: answeredAt - sentAt };
    await sleep(1);
  }
}

export async function latency(helpers, { sequential = 100, concurrent = 20, files = 50, queue } = {}) {
  const env = await environment(helpers, files, queue);
  try {
    const warm = env.openPr();
    await deliverAndTime(helpers, env, warm);
    await env.app.queue.idle();
    // The stand-in runs in this process and serves from git through synchronous subprocesses: measure that share.
    const git = env.standIn.git;
    const runBuffer = git.runBuffer.bind(git);
    let gitMs = 0;
    git.runBuffer = (...args) => {
      const started = performance.now();
      try {
        return runBuffer(...args);
      } finally {
        gitMs += performance.now() - started;
      }
    };
    const seq = [];
    let standInGitMs = 0;
    for (let i = 0; i < sequential; i++) {
      const pr = env.openPr();
      gitMs = 0;
      seq.push(await deliverAndTime(helpers, env, pr));
      await env.app.queue.idle();
      standInGitMs += gitMs;
    }
    const prs = Array.from({ length: concurrent }, () => env.openPr());
    const con = await Promise.all(prs.map((pr) => deliverAndTime(helpers, env, pr)));
    await env.app.queue.idle();
    const summary = (samples) => ({
      p50: percentile(
        samples.map((s) => s.toComment),
        50,
      ),
      p95: percentile(
        samples.map((s) => s.toComment),
        95,
      ),
      answerP95: percentile(
        samples.map((s) => s.answer),
        95,
      ),
    });
    return {
      sequential: { ...summary(seq), standInGitMs: Math.round(standInGitMs / Math.max(1, sequential)) },
      concurrent: summary(con),
      violations: env.standIn.violations.length,
    };
  } finally {
    await env.close();
  }
}
