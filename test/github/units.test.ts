// The app's pure helpers: branch guard, configuration merge, fork suggestions and patches.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { mergeConfigs } from "../../src/github/config.js";
import { CHANGES_TRAILER, changeSetDigest, changesTrailerOf } from "../../src/github/follow-up.js";
import { isStaleHead } from "../../src/github/github-host.js";
import { commentableLines, planForkRewrite } from "../../src/github/fork.js";
import { gitPatch, gitQuotedPath } from "../../src/github/render.js";
import { isSecondaryRateLimit } from "../../src/github/retry.js";
import { assertOwnBranch } from "../../src/github/types.js";

describe("assertOwnBranch", () => {
  test("lets only the app's own branches through", () => {
    expect(() => assertOwnBranch("heads/cilium-policy-bot/pr-12")).not.toThrow();
    expect(() => assertOwnBranch("refs/heads/cilium-policy-bot/pr-12")).not.toThrow();
    for (const ref of [
      "heads/main",
      "heads/feature/cilium-policy-bot/pr-1",
      "tags/cilium-policy-bot/pr-1",
      "heads/cilium-policy-bot/../main",
      "cilium-policy-bot/pr-1",
    ]) {
      expect(() => assertOwnBranch(ref), ref).toThrow(/refusing/);
    }
  });
});

describe("mergeConfigs", () => {
  test("later files win; objects merge deeply; arrays are replaced, not concatenated", () => {
    const org = {
      failOnError: false,
      paths: { include: ["**"], exclude: ["vendor/**"] },
      services: { "a/b": { selector: { x: "1" } } },
    };
    const repo = { paths: { exclude: ["charts/**"] }, services: { "c/d": { selector: { y: "2" } } } };
    expect(mergeConfigs([org, repo])).toEqual({
      failOnError: false,
      paths: { include: ["**"], exclude: ["charts/**"] },
      services: { "a/b": { selector: { x: "1" } }, "c/d": { selector: { y: "2" } } },
    });
  });
});

describe("secondary rate limits", () => {
  test("are recognised by status and message", () => {
    const error = (status: number, message: string) => Object.assign(new Error(message), { status });
    expect(isSecondaryRateLimit(error(403, "You have exceeded a secondary rate limit"))).toBe(true);
    expect(isSecondaryRateLimit(error(429, "Too many requests"))).toBe(true);
    expect(isSecondaryRateLimit(error(403, "Resource not accessible by integration"))).toBe(false);
    expect(isSecondaryRateLimit(error(500, "secondary rate limit"))).toBe(false);
  });
});

describe("fork rewrites", () => {
  const before = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n";
  const after = "a: 1\nb: 20\nc: 3\nd: 4\ne: 50\nf: 6\n";

  test("commentable lines are the new side of the PR's diff", () => {
    const patch = "@@ -1,2 +1,3 @@\n a\n-b\n+B\n+C\n@@ -10,1 +11,2 @@\n x\n+y";
    expect([...commentableLines(patch)]).toEqual([1, 2, 3, 11, 12]);
  });

  test("changes inside the PR's diff become suggestions; the others a patch that git apply takes", () => {
    const change = { path: "p.yaml", before, after };
    const allLines =
      "@@ -1,5 +1,5 @@\n" +
      before
        .trimEnd()
        .split("\n")
        .map((l) => ` ${l}`)
        .join("\n");
    const covered = planForkRewrite([change], [{ path: "p.yaml", status: "modified", patch: allLines }]);
    expect(covered.patch).toBe("");
    expect(covered.suggestions.map((s) => [s.startLine, s.line])).toEqual([
      [2, 2],
      [5, 5],
    ]);
    expect(covered.suggestions[1]!.body).toContain("```suggestion\ne: 50\nf: 6\n```");

    const onlyFirst = planForkRewrite(
      [change],
      [{ path: "p.yaml", status: "modified", patch: "@@ -1,2 +1,2 @@\n a: 1\n b: 2" }],
    );
    expect(onlyFirst.suggestions).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), "cpb-patch-"));
    try {
      writeFileSync(join(dir, "p.yaml"), before);
      writeFileSync(join(dir, "fix.patch"), onlyFirst.patch);
      execFileSync("git", ["apply", "fix.patch"], { cwd: dir });
      expect(readFileSync(join(dir, "p.yaml"), "utf8")).toBe(after);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("files outside the PR get neither", () => {
    const plan = planForkRewrite([{ path: "other.yaml", before, after }], []);
    expect(plan).toEqual({ suggestions: [], patch: "" });
  });

  test("gitPatch handles a file without a final newline", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpb-patch-"));
    try {
      writeFileSync(join(dir, "q.yaml"), "a: 1\nb: 2");
      writeFileSync(join(dir, "fix.patch"), gitPatch({ path: "q.yaml", before: "a: 1\nb: 2", after: "a: 1\nb: 3" }));
      execFileSync("git", ["apply", "fix.patch"], { cwd: dir });
      expect(readFileSync(join(dir, "q.yaml"), "utf8")).toBe("a: 1\nb: 3");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("patch paths", () => {
  test("are quoted as git quotes them: a name with newlines cannot smuggle patch headers", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpb-patch-"));
    // Unquoted, its header lines would end the name and start a hunk of their own.
    const weird = 'p.yaml\n@@ -1 +1 @@\n-a: 1\n+pwned: 1\n"é\\\t.yaml';
    try {
      writeFileSync(join(dir, weird), "a: 1\n");
      writeFileSync(join(dir, "fix.patch"), gitPatch({ path: weird, before: "a: 1\n", after: "a: 2\n" }));
      const quoted = '"a/p.yaml\\n@@ -1 +1 @@\\n-a: 1\\n+pwned: 1\\n\\"\\303\\251\\\\\\t.yaml"';
      expect(readFileSync(join(dir, "fix.patch"), "utf8").split("\n")[0]).toBe(
        `diff --git ${quoted} ${quoted.replace('"a/', '"b/')}`,
      );
      execFileSync("git", ["apply", "fix.patch"], { cwd: dir });
      expect(readFileSync(join(dir, weird), "utf8")).toBe("a: 2\n");
      expect(readdirSync(dir).sort()).toEqual(["fix.patch", weird].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("plain paths stay unquoted", () => {
    expect(gitQuotedPath("a/apps/shop/policy.yaml")).toBe("a/apps/shop/policy.yaml");
    expect(gitQuotedPath("a/with space.yaml")).toBe("a/with space.yaml");
  });
});

describe("follow-up commits", () => {
  const a = { path: "a.yaml", before: "", after: "x: 1\n" };
  const b = { path: "b.yaml", before: "", after: "y: 2\n" };

  test("a change set's digest ignores order and sees every path and byte", () => {
    expect(changeSetDigest([a, b])).toMatch(/^[0-9a-f]{64}$/);
    expect(changeSetDigest([b, a])).toBe(changeSetDigest([a, b]));
    expect(changeSetDigest([a])).not.toBe(changeSetDigest([a, b]));
    expect(changeSetDigest([{ ...a, after: "x: 2\n" }, b])).not.toBe(changeSetDigest([a, b]));
    expect(changeSetDigest([{ ...a, path: "c.yaml" }, b])).not.toBe(changeSetDigest([a, b]));
    // Where a path ends and its content begins is not ambiguous.
    expect(changeSetDigest([{ path: "ab", before: "", after: "c" }])).not.toBe(
      changeSetDigest([{ path: "a", before: "", after: "bc" }]),
    );
  });

  test("the digest is read back from the commit message's trailer only", () => {
    const digest = changeSetDigest([a]);
    expect(changesTrailerOf(`Rewrite\n\nFollow-up for #1.\n\n${CHANGES_TRAILER}: ${digest}\n`)).toBe(digest);
    expect(changesTrailerOf(`Rewrite\n\nmentions ${CHANGES_TRAILER}: ${digest} in a sentence`)).toBeNull();
    expect(changesTrailerOf("Rewrite toServices egress rules to toEndpoints")).toBeNull();
  });

  test("a stale expectedHeadOid is recognised by GitHub's error type or message, nothing else", () => {
    expect(isStaleHead({ errors: [{ type: "STALE_DATA", message: "whatever" }] })).toBe(true);
    expect(
      isStaleHead({ errors: [{ message: 'Expected branch to point to "abc" but it did not.  Pull and try again.' }] }),
    ).toBe(true);
    expect(isStaleHead({ errors: [{ type: "NOT_FOUND", message: "Could not resolve to a Repository" }] })).toBe(false);
    expect(isStaleHead(Object.assign(new Error("Server Error"), { status: 502 }))).toBe(false);
    expect(isStaleHead(null)).toBe(false);
  });
});
