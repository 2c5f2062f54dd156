// A rule's description and the rewrite's name live once, in the engine (rule metadata, report/rule-docs.ts), and the
// shells say them from there: the follow-up pull request (title, body, commit), the suggestions on a fork's pull
// request, the CLI's `fix`. No shell source restates them.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { REWRITE, rewrittenRules } from "../../src/policy/api.js";
import type { FixResult } from "../../src/policy/api.js";
import { RULES } from "../../src/policy/rules/index.js";
import { commitMessage } from "../../src/github/follow-up.js";
import { planForkRewrite } from "../../src/github/fork.js";
import { commentBody, followUpBody, followUpTitle } from "../../src/github/render.js";
import { registerFixCommand } from "../../src/cli/fix-command.js";
import { PROJECT_ROOT } from "../helpers/external.js";
import { typeScriptFilesUnder } from "../helpers/source-tree.js";

const change = { path: "p.yaml", before: "a: 1\n", after: "a: 2\n" };
const result: FixResult = { changes: [change], rewrites: [] };

describe("the shells' wording of rules and the rewrite", () => {
  it("comes from the engine's surface", () => {
    expect(followUpTitle(7)).toBe(`${REWRITE.title} (#7)`);
    expect(commitMessage(7, result).headline).toBe(REWRITE.title);
    const body = followUpBody(7, result);
    expect(rewrittenRules().map((rule) => rule.id)).toEqual(
      RULES.filter((rule) => rule.meta.fixable).map((rule) => rule.meta.id),
    );
    for (const rule of rewrittenRules()) expect(body).toContain(`- \`${rule.id}\`: ${rule.description}`);
    expect(body).toContain(REWRITE.effect);
    const comment = commentBody({
      report: { filesScanned: 1, policies: 1, findings: [finding] },
      headSha: "abc1234",
      followUp: { number: 8, url: "https://example.org/8" },
    });
    expect(comment).toContain(`The follow-up pull request #8, **${REWRITE.title}**,`);
    const forkFile = { path: "p.yaml", status: "modified", patch: "@@ -1 +1 @@\n-a: 0\n+a: 1" };
    const [suggestion] = planForkRewrite([change], [forkFile]).suggestions;
    expect(suggestion?.body).toContain(`${REWRITE.title}:`);
    const program = new Command();
    registerFixCommand(program);
    expect(program.commands.find((command) => command.name() === "fix")?.description()).toContain(REWRITE.title);
  });

  it("is not restated in the shells' sources", () => {
    const files = [
      ...typeScriptFilesUnder(join(PROJECT_ROOT, "src/github")),
      ...typeScriptFilesUnder(join(PROJECT_ROOT, "src/cli")),
    ];
    expect(files.length).toBeGreaterThan(10);
    // The first 40 characters of each: a sentence copied into a shell, even reworded at its end, is found.
    const phrases = [
      REWRITE.title,
      REWRITE.effect.slice(0, 40),
      ...RULES.map((rule) => rule.meta.description.slice(0, 40)),
    ];
    const restated = files.flatMap((file) => {
      const text = readFileSync(file, "utf8");
      return phrases
        .filter((phrase) => text.includes(phrase))
        .map((phrase) => `${relative(PROJECT_ROOT, file)}: ${phrase}`);
    });
    expect(restated).toEqual([]);
  });
});

const finding = {
  ruleId: "to-services-with-to-ports",
  severity: "error" as const,
  file: "p.yaml",
  line: 1,
  column: 1,
  policy: "shop/p",
  message: "m",
  fix: "auto" as const,
};
