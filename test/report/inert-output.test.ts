// Every text the app writes is inert: arbitrary strings in every field that reaches Markdown, rendered by a
// GitHub-flavoured Markdown parser (mdast-util-from-markdown + micromark's GFM extension, the parser of the unified
// collective), never add an HTML element, a link, a mention, a reference, a table cell or any other structure that
// the same text with harmless values does not have.
import fc from "fast-check";
import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";
import { describe, expect, test } from "vitest";
import { planForkRewrite } from "../../src/github/fork.js";
import { commentBody, configErrorSummary, findingsReport, followUpBody, gitPatch } from "../../src/github/render.js";
import type { Finding, FixResult } from "../../src/policy/api.js";
import { renderMarkdown } from "../../src/policy/api.js";

interface Node {
  readonly type: string;
  readonly value?: string;
  readonly lang?: string | null;
  readonly children?: readonly Node[];
}

const MENTION = /(?<![\w`])@[A-Za-z0-9]/g;
const REFERENCE = /(?<![\w&])#\d/g;

/** The structure of a Markdown text as GitHub would see it: everything but the characters of its plain text. */
function structure(markdown: string): string[] {
  const out: string[] = [];
  const walk = (node: Node, depth: number) => {
    const text = node.value ?? "";
    if (node.type === "html") {
      out.push(`${depth} html ${[...text.matchAll(/<\/?[A-Za-z][^\s>/]*/g)].map((m) => m[0]).join(" ")}`);
    } else if (node.type === "code") {
      out.push(`${depth} code ${node.lang ?? ""}`);
    } else if (node.type !== "text") {
      out.push(`${depth} ${node.type}${node.type === "tableRow" ? ` ${node.children?.length}` : ""}`);
    }
    if (node.type === "text" || node.type === "html" || node.type === "inlineCode") {
      out.push(...[...text.matchAll(MENTION)].map(() => `${depth} mention`));
      out.push(...[...text.matchAll(REFERENCE)].map(() => `${depth} reference`));
    }
    for (const child of node.children ?? []) walk(child, depth + 1);
  };
  walk(fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }) as Node, 0);
  return out;
}

/** What `found` has beyond `allowed`, as a multiset: an empty field may remove structure, never add any. */
function added(found: readonly string[], allowed: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const item of allowed) left.set(item, (left.get(item) ?? 0) + 1);
  return found.filter((item) => {
    const count = left.get(item) ?? 0;
    left.set(item, count - 1);
    return count <= 0;
  });
}

const NASTY = [
  "<img src=x onerror=alert(1)>",
  "</code></summary></details>",
  "<!--",
  "\n\n",
  "\n",
  "|",
  "`",
  "```",
  "@user",
  "@org/team",
  "#123",
  "a@b.co",
  "https://evil.test/x",
  "www.evil.test",
  "[x](javascript:alert(1))",
  "![i](https://evil.test/i.png)",
  "<https://evil.test>",
  "&lt;",
  "&#64;",
  "\\",
  "*",
  "_",
  "~~",
  "\u202e",
  "\u200b",
  "\u2066",
  "    ",
  "- ",
  "1. ",
  "# ",
  "> ",
  "[^1]",
  "]",
  "(",
  "---",
  "===",
  "<details>",
  "\t",
];

/** Strings an attacker would write, in pieces, mixed with arbitrary characters. */
const hostile = fc
  .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: "binary", maxLength: 6 })), { maxLength: 6 })
  .map((pieces) => pieces.join(""));

interface Fields {
  readonly file: string;
  readonly policy: string;
  readonly message: string;
  readonly service: string;
  readonly labelKey: string;
  readonly labelValue: string;
  readonly entity: string;
  readonly note: string;
  readonly error: string;
  readonly content: string;
}

const fields: fc.Arbitrary<Fields> = fc.record({
  file: hostile,
  policy: hostile,
  message: hostile,
  service: hostile,
  labelKey: hostile,
  labelValue: hostile,
  entity: hostile,
  note: hostile,
  error: hostile.map((text) => `e${text}`), // an empty error is no error
  content: hostile,
});

const HARMLESS: Fields = {
  file: "f.yaml",
  policy: "p",
  message: "m",
  service: "s",
  labelKey: "k",
  labelValue: "v",
  entity: "e",
  note: "n",
  error: "boom",
  content: "c",
};

const fileUrl = (file: string, line: number) =>
  `https://github.test/o/r/blob/abc/${file.split("/").map(encodeURIComponent).join("/")}#L${line}`;

function findings(f: Fields): Finding[] {
  return (["error", "warning", "info"] as const).map((severity) => ({
    ruleId: "to-services-with-to-ports",
    severity,
    file: f.file,
    line: 3,
    column: 1,
    policy: f.policy,
    message: f.message,
    fix: "auto" as const,
  }));
}

function fixResult(f: Fields): FixResult {
  return {
    changes: [{ path: f.file, before: `a: 1\nb: ${f.content}\n`, after: `a: 1\nb: 2\n` }],
    rewrites: [
      {
        file: f.file,
        line: 2,
        policy: f.policy,
        status: "rewritten",
        ruleIndex: 0,
        specPath: ["spec"],
        rulesAdded: 0,
        services: [
          { service: f.service, resolution: "guessed", selector: { [f.labelKey]: f.labelValue }, note: f.note },
          { service: f.service, resolution: "repo", selector: null, entities: [f.entity], cidrs: [f.entity] },
          { service: f.service, resolution: "config", selector: null, cidrs: [f.entity] },
        ],
      },
      {
        file: f.file,
        line: 9,
        policy: null,
        status: "manual",
        ruleIndex: 1,
        specPath: ["spec"],
        rulesAdded: 0,
        message: f.message,
        services: [],
      },
    ],
  };
}

/** Every body the app posts, from one set of field values. */
function bodies(f: Fields): Record<string, string> {
  const report = { filesScanned: 2, policies: 1, findings: findings(f) };
  const fix = fixResult(f);
  const fork = planForkRewrite(fix.changes, [
    { path: f.file, status: "modified", patch: "@@ -1,2 +1,2 @@\n a: 1\n-b: 1" },
  ]);
  return {
    markdown: renderMarkdown(report, { fileUrl, docsBaseUrl: "https://docs.test/README.md" }),
    unlinked: renderMarkdown(report, { docsBaseUrl: null }),
    checkRunSummary: findingsReport(report, 60_000, fileUrl, null),
    configErrorSummary: configErrorSummary(f.error),
    configErrorComment: commentBody({ report, headSha: "abc1234", configError: f.error }),
    comment: commentBody({
      report,
      fileUrl,
      headSha: "abc1234",
      followUp: { number: 7, url: "https://github.test/o/r/pull/7" },
      changes: fix.changes,
      patch: gitPatch({ path: f.file, before: "x: 1\n", after: `x: ${f.content}\n` }),
      suggestions: 1,
      fixError: f.error,
    }),
    followUp: followUpBody(12, fix),
    suggestions: fork.suggestions.map((s) => s.body).join("\n\n"),
  };
}

describe("every text the app writes is inert", () => {
  const harmless = Object.fromEntries(Object.entries(bodies(HARMLESS)).map(([k, v]) => [k, structure(v)]));

  test("the harmless rendering has the structure the property compares against", () => {
    expect(harmless.comment).toContain("1 html <details <summary <code </code </summary");
    expect(harmless.comment!.filter((n) => n.endsWith(" link")).length).toBeGreaterThan(0);
    expect(harmless.followUp!.filter((n) => n.endsWith("tableRow 6")).length).toBe(4);
  });

  test("arbitrary strings in every field add no element, link, mention, reference or table cell", () => {
    fc.assert(
      fc.property(fields, (f) => {
        for (const [name, body] of Object.entries(bodies(f))) {
          expect(added(structure(body), harmless[name]!), name).toEqual([]);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("bidi and zero-width characters are shown escaped, not passed through", () => {
    const body = bodies({ ...HARMLESS, policy: "a\u202eb\u200bc", file: "x\u2066.yaml" });
    for (const name of ["markdown", "comment", "followUp"]) {
      expect(body[name], name).not.toMatch(/[\u202e\u200b\u2066]/);
      expect(body[name], name).toContain("\\\\u\\{202E\\}"); // renders as \u{202E}
    }
    expect(body.comment).toContain("\\u{2066}"); // in the <summary> HTML block, where backslashes are literal
  });

  test("the attacks of the issue", () => {
    const attack = bodies({
      ...HARMLESS,
      file: 'x<img src=x>\n\n<a href="javascript:alert(1)">y</a>.yaml',
      policy: "@org/team #123 https://evil.test",
      service: "s`<b>`|x",
      labelValue: "v|w",
    });
    for (const [name, body] of Object.entries(attack)) {
      expect(added(structure(body), harmless[name]!), name).toEqual([]);
    }
    for (const name of ["markdown", "checkRunSummary", "followUp"]) {
      expect(attack[name], name).toContain("@&#8203;org/team \\#&#8203;123 https:&#8203;//evil.test");
    }
  });
});
