// Property tests: no input, however broken, makes the parser or the scan throw or report an internal error.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../src/policy/config.js";
import { INTERNAL_ERROR } from "../../src/policy/rules/index.js";
import { analyse } from "../../src/policy/api.js";
import { parseManifestFile } from "../../src/policy/read/manifests.js";
import type { SourceFile } from "../../src/policy/types.js";
import { PROJECT_ROOT } from "../helpers/external.js";
import { source } from "../helpers/sources.js";

const EXAMPLE = join(PROJECT_ROOT, "examples/gitops-repo");

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : /\.ya?ml$/.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

/** Valid manifests to mangle: the example repository, whose policies every rule has something to say about. */
const SEEDS: readonly SourceFile[] = walk(EXAMPLE).map((path) =>
  source(relative(EXAMPLE, path).split("\\").join("/"), readFileSync(path)),
);

type Mutation = (bytes: Uint8Array) => Uint8Array;
const encoder = new TextEncoder();

function insertAt(bytes: Uint8Array, at: number, inserted: Uint8Array): Uint8Array {
  const i = at % (bytes.length + 1);
  const out = new Uint8Array(bytes.length + inserted.length);
  out.set(bytes.subarray(0, i));
  out.set(inserted, i);
  out.set(bytes.subarray(i), i + inserted.length);
  return out;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Byte flips.
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, value]): Mutation => (bytes) => {
    if (bytes.length === 0) return bytes;
    const out = bytes.slice();
    out[at % out.length] = value;
    return out;
  }),
  // Truncation.
  fc.nat().map(
    (at): Mutation =>
      (bytes) =>
        bytes.subarray(0, at % (bytes.length + 1)),
  ),
  // YAML and template syntax dropped in anywhere.
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom("{{", "}}", "&a ", "*a", "&a [*a, *a]", "*b ", ": ", "- ", "\n---\n", "\t", "'", '"', "[", "{"),
    )
    .map(
      ([at, text]): Mutation =>
        (bytes) =>
          insertAt(bytes, at, encoder.encode(text)),
    ),
  // Indentation changes: a line moved left or right.
  fc.tuple(fc.nat(), fc.boolean()).map(([at, deeper]): Mutation => (bytes) => {
    const lines = new TextDecoder().decode(bytes).split("\n");
    const i = at % lines.length;
    lines[i] = deeper ? `  ${lines[i]}` : lines[i]!.replace(/^ {1,2}/, "");
    return encoder.encode(lines.join("\n"));
  }),
);

async function scanAll(files: readonly SourceFile[]) {
  const result = await analyse(files, { config: DEFAULT_CONFIG });
  expect(result.findings.filter((f) => f.ruleId === INTERNAL_ERROR.id)).toEqual([]);
  for (const finding of result.findings) {
    expect(finding.line).toBeGreaterThanOrEqual(1);
    expect(finding.column).toBeGreaterThanOrEqual(1);
  }
  return result;
}

describe("parser and scan on arbitrary input", () => {
  it("never throw on arbitrary strings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 400 }), async (text) => {
        parseManifestFile(source("a.yaml", text));
        await scanAll([source("a.yaml", text)]);
      }),
      { numRuns: 300 },
    );
  });

  it("never throw on arbitrary bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
        parseManifestFile(source("a.yaml", bytes));
        await scanAll([source("a.yaml", bytes)]);
      }),
      { numRuns: 300 },
    );
  });

  it("never throw on strings built from YAML's own syntax", async () => {
    const token = fc.constantFrom(
      "apiVersion: cilium.io/v2\n",
      "kind: CiliumNetworkPolicy\n",
      "kind: List\nitems:\n",
      "spec:\n",
      "specs:\n",
      "  egress:\n",
      "  - toServices:\n",
      "    toPorts: [{ports: [{port: '80'}]}]\n",
      "- ",
      "  ",
      "&x ",
      "*x",
      "!!str ",
      "? ",
      ": ",
      "{",
      "}",
      "[",
      "]",
      "---\n",
      "...\n",
      "# c\n",
      "|\n",
      ">-\n",
      "\n",
    );
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 40 }), async (tokens) => {
        const text = tokens.join("");
        parseManifestFile(source("a.yaml", text));
        await scanAll([source("a.yaml", text)]);
      }),
      { numRuns: 400 },
    );
  });
});

describe("parser and scan on mangled valid manifests", () => {
  it("the seeds are what they should be", async () => {
    expect(SEEDS.length).toBeGreaterThan(15);
    expect((await scanAll(SEEDS)).findings.length).toBeGreaterThan(0);
  });

  it("never throw, whatever is flipped, cut or inserted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: SEEDS.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        async (seedIndex, mutations) => {
          const seed = SEEDS[seedIndex]!;
          const bytes = mutations.reduce((current, mutate) => mutate(current), seed.content as Uint8Array);
          const mangled = source(seed.path, bytes);
          parseManifestFile(mangled);
          // With the rest of the repository, so that cross-file rules see the mangled file too.
          await scanAll(SEEDS.map((file) => (file.path === seed.path ? mangled : file)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
