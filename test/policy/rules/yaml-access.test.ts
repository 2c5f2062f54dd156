// plain() and documentValue() read most trees themselves instead of through yaml's toJS: they must give exactly what
// toJS gives (documentValue its errors too).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inspect, isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCollection, isPair, parseAllDocuments, visit } from "yaml";
import type { Document, Node } from "yaml";
import { MAX_ALIAS_COUNT } from "../../../src/policy/read/manifests.js";
import { quickParse } from "../../../src/policy/read/quick-yaml.js";
import { documentValue } from "../../../src/policy/read/plain-value.js";
import { plain } from "../../../src/policy/rules/yaml-access.js";
import { CILIUM_EXAMPLES_DIR, hasShared, PROJECT_ROOT } from "../../helpers/external.js";

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** Fails unless plain() of every collection of the documents is what toJS gives (or both fail). */
function expectAsToJS(documents: readonly Document.Parsed[], where: string): number {
  let compared = 0;
  for (const document of documents) {
    if (document.errors.length > 0) continue;
    // The whole document, as the rewrite's proof reads it: toJS's value, or its error.
    const whole = (read: () => unknown) => {
      try {
        return { value: read() };
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
    const asDocument = whole(() => documentValue(document));
    const byToJS = whole(() => document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    if (!isDeepStrictEqual(asDocument, byToJS)) {
      expect.fail(
        `${where}: documentValue gave ${inspect(asDocument, { depth: 9 })}, toJS ${inspect(byToJS, { depth: 9 })}`,
      );
    }
    visit(document, {
      Node(_key, node) {
        if (!isCollection(node) || isPair(node)) return;
        let expected: unknown;
        try {
          expected = (node as Node).toJS(document, { maxAliasCount: MAX_ALIAS_COUNT });
        } catch {
          expected = undefined;
        }
        // Node's deep equality, not toStrictEqual: that compares objects' `constructor`, an own key here ("constructor: x").
        const actual = plain(node, document);
        if (!isDeepStrictEqual(actual, expected)) {
          expect.fail(`${where}: plain gave ${inspect(actual, { depth: 9 })}, toJS ${inspect(expected, { depth: 9 })}`);
        }
        compared++;
      },
    });
  }
  return compared;
}

describe("documentValue", () => {
  it("throws where toJS throws (an alias bomb), so the rewrite's proof never compares nothing with nothing", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]"];
    bomb.push("c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]", "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]");
    const [document] = parseAllDocuments(`${bomb.join("\n")}\n`) as Document.Parsed[];
    expect(() => document!.toJS({ maxAliasCount: MAX_ALIAS_COUNT })).toThrow();
    expect(() => documentValue(document!)).toThrow();
  });
});

describe("plain", () => {
  it("gives what toJS gives for every collection of the project's YAML files, as the yaml package and the quick reader read them", () => {
    const dirs = [join(PROJECT_ROOT, "test/fixtures"), join(PROJECT_ROOT, "examples")];
    if (hasShared()) dirs.push(CILIUM_EXAMPLES_DIR);
    let compared = 0;
    for (const path of dirs.flatMap(yamlFilesUnder)) {
      const text = readFileSync(path, "utf8");
      compared += expectAsToJS(parseAllDocuments(text, { merge: true }) as Document.Parsed[], path);
      const quick = quickParse(text);
      if (quick) compared += expectAsToJS(quick.documents, `${path} (quick reader)`);
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it("gives what toJS gives for aliases, merge keys, tags, odd keys and inherited names", () => {
    const text = `base: &base {a: 1, constructor: x, __proto__: y}
merged: {<<: *base, b: 2}
inline-merge: {<<: {a: 1}, b: 2}
alias: *base
tagged: !!set {a, b}
omap: !!omap [{a: 1}]
binary: !!binary aGVsbG8=
keys: {1: one, true: yes, null: nothing, 1.5: x, "": empty}
collection-keys:
  ? [a, b]
  : seq
  ? {c: d}
  : map
nested: [[1, [2, {x: [3]}]], {toString: z, hasOwnProperty: w}]
`;
    // logLevel: toJS warns on the console that it stringifies the collection keys; that is what is compared.
    const documents = parseAllDocuments(text, { merge: true, logLevel: "error" }) as Document.Parsed[];
    expect(documents.flatMap((document) => document.errors.map((error) => error.message))).toEqual([]);
    expect(expectAsToJS(documents, "inline")).toBeGreaterThan(10);
  });

  it("gives what toJS gives for generated flow YAML", () => {
    const scalar = fc.oneof(
      fc.constantFrom("a", "1", "0x1F", "true", "null", "~", "1.5", "-.inf", "'q'", '"d"', "constructor", "__proto__"),
      fc.string({ maxLength: 4 }).map((s) => JSON.stringify(s)),
    );
    const tree: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        scalar,
        fc.array(tie("node"), { maxLength: 4 }).map((items) => `[${items.join(", ")}]`),
        fc
          .array(fc.tuple(scalar, tie("node")), { maxLength: 4 })
          .map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(", ")}}`),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (text) => {
        expectAsToJS(parseAllDocuments(`root: ${text}\n`, { merge: true }) as Document.Parsed[], text);
      }),
      { numRuns: 300 },
    );
  });
});
