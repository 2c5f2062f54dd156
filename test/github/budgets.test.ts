// Every body the app posts stays under GitHub's limits, however large the rewrite, and says what it left out.
import { describe, expect, test } from "vitest";
import { ANNOTATIONS_PER_REQUEST, completeCheckRun, MAX_ANNOTATIONS } from "../../src/github/check-run.js";
import { planForkRewrite } from "../../src/github/fork.js";
import type { GitHub } from "../../src/github/types.js";
import {
  commentBody,
  configErrorSummary,
  findingsReport,
  followUpBody,
  gitPatch,
  MAX_BODY_CHARS,
  unreadNote,
} from "../../src/github/render.js";
import { InProcessQueue } from "../../src/github/queue.js";
import type { FileChange, Finding, FixResult } from "../../src/policy/api.js";

/** GitHub's limits: issue comments and PR bodies 65,536 characters, check-run summary and text 65,535. */
const COMMENT_LIMIT = 65_536;
const CHECK_RUN_LIMIT = 65_535;

function policyFile(i: number): string {
  return [
    "apiVersion: cilium.io/v2",
    "kind: CiliumNetworkPolicy",
    "metadata:",
    `  name: policy-${i}`,
    "  namespace: shop",
    "spec:",
    "  endpointSelector: {}",
    "  egress:",
    "    - toServices:",
    "        - k8sService: { serviceName: backend, namespace: shop }",
    "      toPorts:",
    "        - ports: [{ port: '80', protocol: TCP }]",
    "",
  ].join("\n");
}

function rewritten(i: number): string {
  return policyFile(i).replace(
    "    - toServices:\n        - k8sService: { serviceName: backend, namespace: shop }",
    "    - toEndpoints:\n        - matchLabels: { app: backend, k8s:io.kubernetes.pod.namespace: shop }",
  );
}

function scenario(rules: number) {
  const changes: FileChange[] = Array.from({ length: rules }, (_, i) => ({
    path: `apps/team-${i}/egress-policy.yaml`,
    before: policyFile(i),
    after: rewritten(i),
  }));
  const findings: Finding[] = changes.map((change, i) => ({
    ruleId: "to-services-with-to-ports",
    severity: "error",
    file: change.path,
    line: 9,
    column: 7,
    policy: `shop/policy-${i}`,
    message: "toServices combined with toPorts: Cilium 1.14–1.16 reject the policy, ≤1.13 allow any destination.",
    fix: i % 2 === 0 ? "auto" : "guessed",
  }));
  const fix: FixResult = {
    changes,
    rewrites: changes.flatMap((change, i) => [
      {
        file: change.path,
        line: 9,
        policy: `shop/policy-${i}`,
        status: "rewritten" as const,
        ruleIndex: 0,
        specPath: ["spec"],
        rulesAdded: 0,
        services: [
          {
            service: "shop/backend",
            resolution: i % 2 === 0 ? ("repo" as const) : ("guessed" as const),
            selector: { app: "backend", "k8s:io.kubernetes.pod.namespace": "shop" },
            note: "selector guessed from the Service's name",
          },
        ],
      },
      {
        file: change.path,
        line: 20,
        policy: `shop/policy-${i}`,
        status: "manual" as const,
        ruleIndex: 1,
        specPath: ["spec"],
        rulesAdded: 0,
        message: "the Service has no selector: write toEndpoints by hand",
        services: [],
      },
    ]),
  };
  return { changes, findings, fix, report: { filesScanned: rules, policies: rules, findings } };
}

describe.each([300, 3000])("at %i rules", (rules) => {
  const { changes, fix, report } = scenario(rules);

  test("the comment with the same-repository diffs", () => {
    const body = commentBody({ report, headSha: "abc1234", changes, followUp: { number: 5, url: "https://x/5" } });
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toMatch(/…and \d+ more findings not shown here/);
    expect(body).toMatch(/…and \d+ more diffs left out/);
  });

  test("the comment with a fork's patch", () => {
    const patch = changes.map(gitPatch).join("");
    expect(patch.length).toBeGreaterThan(COMMENT_LIMIT);
    const body = commentBody({ report, headSha: "abc1234", patch, suggestions: 3 });
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    const left = Number(/…and (\d+) more files whose rewrite is too large/.exec(body)?.[1]);
    const shown = body.match(/^diff --git /gm)?.length ?? 0;
    expect(shown).toBeGreaterThan(0);
    expect(shown + left).toBe(rules); // every file is either in the patch, whole, or counted
  });

  test("the check-run summary", () => {
    const summary = findingsReport(report, MAX_BODY_CHARS);
    expect(summary.length).toBeLessThanOrEqual(CHECK_RUN_LIMIT);
    expect(summary).toMatch(/…and \d+ more findings/);
    expect(configErrorSummary("x".repeat(200_000)).length).toBeLessThanOrEqual(CHECK_RUN_LIMIT);
  });

  test("the follow-up pull request's body", () => {
    const body = followUpBody(12, fix);
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toMatch(/…and \d+ more guessed selectors: check each in the diff/);
    expect(body).toMatch(/…and \d+ more rules left for a human/);
    expect(body).toMatch(/…and \d+ more rewrites not listed here/);
    expect(body.endsWith("\n")).toBe(true);
  });

  test("review comments", () => {
    const huge: FileChange = {
      path: "big.yaml",
      before: "a: 1\n",
      after: `a: ${"x".repeat(70_000)}\n`,
    };
    const plan = planForkRewrite(
      [...changes.slice(0, 5), huge],
      [
        ...changes
          .slice(0, 5)
          .map((c) => ({ path: c.path, status: "modified", patch: `@@ -1,13 +1,13 @@\n${c.before}` })),
        { path: "big.yaml", status: "modified", patch: "@@ -1 +1 @@\n-a: 0\n+a: 1" },
      ],
    );
    for (const suggestion of plan.suggestions) expect(suggestion.body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(plan.patch).toContain("diff --git a/big.yaml b/big.yaml"); // too large to suggest: in the patch instead
  });
});

describe("manifests the job did not read", () => {
  const empty = { filesScanned: 3, policies: 0, findings: [] };

  test("are said in the comment, with findings or without", () => {
    const note = "The repository is larger than this app reads: 136 files not checked";
    expect(commentBody({ report: empty, headSha: "abc1234", unreadFiles: 136 })).toContain(note);
    expect(commentBody({ report: empty, headSha: "abc1234", unreadFiles: 136 })).not.toContain("all clear");
    expect(commentBody({ report: scenario(3).report, headSha: "abc1234", unreadFiles: 136 })).toContain(note);
    expect(commentBody({ report: empty, headSha: "abc1234", unreadFiles: 0 })).toContain("all clear");
    expect(unreadNote(1)).toContain("1 file not checked");
  });

  test("the in-process queue says in /health that its jobs do not survive the process", async () => {
    const queue = new InProcessQueue();
    const health = await queue.health();
    expect(health).toMatchObject({ ok: true, durable: false });
    expect(health.detail).toContain("lost if this process dies");
    await queue.close();
  });
});

describe("the check run as sent to GitHub", () => {
  test("its summary and every annotation message stay under GitHub's limits", async () => {
    const sent: Array<{ output: { summary: string; annotations?: Array<{ message: string }> } }> = [];
    const octokit = {
      rest: { checks: { update: async (request: (typeof sent)[number]) => void sent.push(request) } },
    } as unknown as GitHub;
    const finding: Finding = {
      ruleId: "to-services-with-to-ports",
      severity: "error",
      file: "a.yaml",
      line: 1,
      column: 1,
      policy: null,
      message: "m".repeat(100_000),
      fix: "none",
    };
    await completeCheckRun(
      octokit,
      { owner: "o", repo: "r" },
      { id: 1, externalId: "", completed: false },
      { conclusion: "failure", title: "t", summary: "s".repeat(70_000), findings: [finding] },
    );
    expect(sent[0]!.output.summary.length).toBeLessThanOrEqual(CHECK_RUN_LIMIT);
    expect(sent[0]!.output.summary).toContain("cut to stay under GitHub's size limit");
    expect(sent[0]!.output.annotations![0]!.message.length).toBeLessThanOrEqual(64 * 1024);
  });

  test("findings past the annotation cap cost no more requests, and the summary says so", async () => {
    const sent: Array<{ output: { summary: string; annotations?: unknown[] } }> = [];
    const octokit = {
      rest: { checks: { update: async (request: (typeof sent)[number]) => void sent.push(request) } },
    } as unknown as GitHub;
    const findings: Finding[] = Array.from({ length: MAX_ANNOTATIONS + 500 }, (_, i) => ({
      ruleId: "to-services-with-to-ports",
      severity: "error",
      file: "a.yaml",
      line: i + 1,
      column: 1,
      policy: null,
      message: "m",
      fix: "none",
    }));
    await completeCheckRun(
      octokit,
      { owner: "o", repo: "r" },
      { id: 1, externalId: "", completed: false },
      { conclusion: "failure", title: "t", summary: "s", findings },
    );
    expect(sent).toHaveLength(MAX_ANNOTATIONS / ANNOTATIONS_PER_REQUEST);
    expect(sent.flatMap((request) => request.output.annotations ?? [])).toHaveLength(MAX_ANNOTATIONS);
    expect(sent[0]!.output.summary).toContain("500 more finding(s) are not marked");
  });
});
