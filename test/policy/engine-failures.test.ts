// Failures outside the rules: the parser or the repository index throwing on one file.
import { describe, expect, it, vi } from "vitest";
import { DEFAULT_CONFIG } from "../../src/policy/config.js";
import { analyse } from "../../src/policy/api.js";
import type * as Manifests from "../../src/policy/read/manifests.js";
import type * as RepoIndex from "../../src/policy/index/repo-index.js";
import type { PolicyRule } from "../../src/policy/rules/rule.js";
import { sources } from "../helpers/sources.js";

vi.mock("../../src/policy/read/manifests.js", async (importOriginal) => {
  const actual = await importOriginal<typeof Manifests>();
  return {
    ...actual,
    parseManifestFileIn: (...args: Parameters<typeof actual.parseManifestFileIn>) => {
      if (args[0].path.includes("explode")) throw new TypeError("parser exploded");
      return actual.parseManifestFileIn(...args);
    },
  };
});

vi.mock("../../src/policy/index/repo-index.js", async (importOriginal) => {
  const actual = await importOriginal<typeof RepoIndex>();
  return {
    ...actual,
    buildRepoIndex: (files: Parameters<typeof actual.buildRepoIndex>[0]) => {
      if (files.some((file) => file.path.includes("poison"))) throw new RangeError("index poisoned");
      if (files.length > 1 && files.every((file) => file.path.includes("pair"))) throw new Error("only together");
      const index = actual.buildRepoIndex(files);
      return {
        ...index,
        rendered: (manifest: Parameters<typeof index.rendered>[0]) => {
          if (manifest.name === "cursed") throw new Error("cannot render");
          return index.rendered(manifest);
        },
      };
    },
  };
});

const seen: PolicyRule = {
  meta: { id: "test-seen", defaultSeverity: "info", description: "", fixable: false },
  scope: "policy",
  check: ({ policy, report }) => report({ at: policy.manifest.node, message: `seen ${policy.id}` }),
};

const policy = (name: string) =>
  `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ${name}, namespace: ns}\nspec: {}\n`;

describe("scan when the parser or the index throws", () => {
  it("reports a file whose parsing throws as an internal error and scans the others", async () => {
    const result = await analyse(
      sources({ "a.yaml": policy("a"), "explode.yaml": policy("e"), "z.yaml": policy("z") }),
      {
        config: DEFAULT_CONFIG,
        rules: [seen],
      },
    );
    expect(result.findings.map((f) => [f.file, f.ruleId, f.message.split(";")[0]])).toEqual([
      ["a.yaml", "test-seen", "seen ns/a"],
      ["explode.yaml", "internal-error", "internal error while reading this file: parser exploded"],
      ["z.yaml", "test-seen", "seen ns/z"],
    ]);
    expect(result.filesScanned).toBe(3);
    expect(result.policies).toBe(2);
  });

  it("leaves a file that breaks the index out of it, with an internal error for that file only", async () => {
    const result = await analyse(sources({ "a.yaml": policy("a"), "poison.yaml": policy("p") }), {
      config: DEFAULT_CONFIG,
      rules: [seen],
    });
    expect(result.findings.map((f) => [f.file, f.ruleId])).toEqual([
      ["a.yaml", "test-seen"],
      ["poison.yaml", "internal-error"],
    ]);
    expect(result.findings[1]?.message).toContain("index poisoned");
  });

  it("falls back to an index without cross-file information when no single file is to blame", async () => {
    const result = await analyse(sources({ "pair-1.yaml": policy("one"), "pair-2.yaml": policy("two"), "x.md": "" }), {
      config: DEFAULT_CONFIG,
      rules: [seen],
    });
    expect(result.findings.map((f) => [f.file, f.ruleId])).toEqual([
      ["pair-1.yaml", "internal-error"],
      ["pair-1.yaml", "test-seen"],
      ["pair-2.yaml", "internal-error"],
      ["pair-2.yaml", "test-seen"],
    ]);
    expect(result.findings[0]?.message).toContain("only together");
    expect(result.index.services).toEqual([]);
  });

  it("loses only the policy whose rendering throws, not the others in its file", async () => {
    const text = `${policy("first")}---\n${policy("cursed")}---\n${policy("last")}`;
    const result = await analyse(sources({ "p.yaml": text }), { config: DEFAULT_CONFIG, rules: [seen] });
    expect(result.findings.map((f) => [f.ruleId, f.line, f.message.split(";")[0]])).toEqual([
      ["test-seen", 1, "seen ns/first"],
      ["internal-error", 6, "internal error while reading the policies of this file: cannot render"],
      ["test-seen", 11, "seen ns/last"],
    ]);
    expect(result.policies).toBe(2);
  });
});
