import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, resolveConfig } from "../../src/policy/config.js";
import { INTERNAL_ERROR } from "../../src/policy/rules/index.js";
import { analyse } from "../../src/policy/api.js";
import { MAX_FILE_BYTES } from "../../src/policy/read/manifests.js";
import type { FileRule, PolicyRule, Rule } from "../../src/policy/rules/rule.js";
import { source, sources } from "../helpers/sources.js";

/** Reports what the parser saw, so the tests can tell how each bad input was classified. */
const parseReport: FileRule = {
  meta: { id: "test-parse", defaultSeverity: "info", description: "parse outcome", fixable: false },
  scope: "file",
  check({ file, report }) {
    if (file.skipped) report({ at: { line: 1, column: 1 }, message: `skipped: ${file.skipped}` });
    if (file.templated) report({ at: { line: 1, column: 1 }, message: "templated" });
    for (const problem of file.problems) report({ at: problem.position, message: `problem: ${problem.message}` });
  },
};

/** Reports every egress rule's toServices key, like the real rule will. */
const egressToServices: PolicyRule = {
  meta: { id: "test-to-services", defaultSeverity: "error", description: "toServices", fixable: true },
  scope: "policy",
  check({ policy, report }) {
    for (const spec of policy.specs) {
      const egress = spec.node.get("egress", true) as { items?: unknown[] } | undefined;
      for (const item of egress?.items ?? []) {
        const pair = (item as { items?: Array<{ key: { value?: unknown } }> }).items?.find(
          (p) => p.key?.value === "toServices",
        );
        if (pair) report({ at: pair as never, message: "toServices here" });
      }
    }
  },
};

const throwingOn = (path: string): PolicyRule => ({
  meta: { id: "test-throws", defaultSeverity: "error", description: "throws", fixable: false },
  scope: "policy",
  check({ file, policy, report }) {
    if (file.path === path) throw new Error("boom\nsecond line");
    report({ at: policy.manifest.node, message: `seen ${policy.id}` });
  },
});

const policy = (name: string, namespace: string, extra = "") =>
  [
    "apiVersion: cilium.io/v2",
    "kind: CiliumNetworkPolicy",
    "metadata:",
    `  name: ${name}`,
    `  namespace: ${namespace}`,
    "spec:",
    "  endpointSelector: {}",
    "  egress:",
    "    - toServices:",
    "        - k8sService: {serviceName: db, namespace: data}",
    "      toPorts:",
    "        - ports: [{port: '5432', protocol: TCP}]",
    extra,
  ].join("\n");

const run = (files: Parameters<typeof analyse>[0], rules: readonly Rule[] = [parseReport], config = DEFAULT_CONFIG) =>
  analyse(files, { config, rules });

describe("scan", () => {
  it("reports rule findings at the node they name, with the policy id", async () => {
    const result = await run(sources({ "a/p.yaml": policy("p", "ns") }), [egressToServices]);
    expect(result.findings).toEqual([
      {
        ruleId: "test-to-services",
        severity: "error",
        file: "a/p.yaml",
        line: 9,
        column: 7,
        policy: "ns/p",
        message: "toServices here",
        // The report carries no plan: a fixable rule's fix kind comes from its plan, never from its metadata.
        fix: "none",
      },
    ]);
    expect(result.policies).toBe(1);
    expect(result.filesScanned).toBe(1);
  });

  it("turns an exception inside one rule on one file into an internal-error for that file only", async () => {
    const files = sources({ "a.yaml": policy("a", "x"), "b.yaml": policy("b", "x"), "c.yaml": policy("c", "x") });
    const result = await run(files, [throwingOn("b.yaml"), egressToServices]);
    const internal = result.findings.filter((f) => f.ruleId === INTERNAL_ERROR.id);
    expect(internal).toHaveLength(1);
    expect(internal[0]).toMatchObject({ file: "b.yaml", line: 1, column: 1, policy: "x/b", severity: "error" });
    expect(internal[0]?.message).toContain("test-throws: boom");
    expect(internal[0]?.message).not.toContain("second line");
    // The other files are still checked by every rule, and the failing file by the other rules.
    expect(result.findings.filter((f) => f.ruleId === "test-throws").map((f) => f.file)).toEqual(["a.yaml", "c.yaml"]);
    expect(result.findings.filter((f) => f.ruleId === "test-to-services").map((f) => f.file)).toEqual([
      "a.yaml",
      "b.yaml",
      "c.yaml",
    ]);
    expect(result.policies).toBe(3);
  });

  it("reports a throwing file rule once per file, whatever is thrown", async () => {
    const rule: FileRule = {
      meta: { id: "test-file-throws", defaultSeverity: "error", description: "", fixable: false },
      scope: "file",
      check({ file }) {
        if (file.path.startsWith("bad")) throw "a string, not an Error";
      },
    };
    const result = await run(sources({ "bad.yaml": "a: 1\n", "good.yaml": "a: 1\n" }), [rule]);
    expect(result.findings.map((f) => [f.ruleId, f.file, f.policy])).toEqual([["internal-error", "bad.yaml", null]]);
    expect(result.findings[0]?.message).toContain("a string, not an Error");
  });

  it("applies severity overrides and turns rules off", async () => {
    const files = sources({ "p.yaml": policy("p", "ns") });
    // The test's own rule is not in the registry, so its overrides cannot come through the file's schema.
    const warned = await run(files, [egressToServices], {
      ...DEFAULT_CONFIG,
      rules: { "test-to-services": "warning" },
    });
    expect(warned.findings.map((f) => f.severity)).toEqual(["warning"]);
    const off = await run(files, [egressToServices], { ...DEFAULT_CONFIG, rules: { "test-to-services": "off" } });
    expect(off.findings).toEqual([]);
  });

  it("reports only the `only` files and the included paths, but counts only those", async () => {
    const files = sources({
      "a.yaml": policy("a", "x"),
      "b.yaml": policy("b", "x"),
      "vendor/c.yaml": policy("c", "x"),
    });
    const onlyB = await analyse(files, {
      config: DEFAULT_CONFIG,
      rules: [egressToServices],
      only: new Set(["b.yaml"]),
    });
    expect(onlyB.findings.map((f) => f.file)).toEqual(["b.yaml"]);
    expect([onlyB.filesScanned, onlyB.policies, onlyB.files.length]).toEqual([1, 1, 3]);
    const config = resolveConfig({ paths: { exclude: ["vendor/**"] } });
    const excluded = await analyse(files, { config, rules: [egressToServices] });
    expect(excluded.findings.map((f) => f.file)).toEqual(["a.yaml", "b.yaml"]);
    expect(excluded.filesScanned).toBe(2);
  });

  it("counts every spec of `specs` and of List items, and ignores non-policy kinds", async () => {
    const text = [
      "apiVersion: v1",
      "kind: List",
      "items:",
      "  - apiVersion: cilium.io/v2",
      "    kind: CiliumClusterwideNetworkPolicy",
      "    metadata: {name: cw}",
      "    specs:",
      "      - endpointSelector: {}",
      "      - endpointSelector: {}",
      "  - apiVersion: v1",
      "    kind: Service",
      "    metadata: {name: svc}",
      "---",
      policy("p", "ns"),
    ].join("\n");
    const result = await run([source("l.yaml", text)], [throwingOn("none")]);
    expect(result.policies).toBe(3);
    expect(result.findings.map((f) => [f.policy, f.line])).toEqual([
      ["cw", 4],
      ["ns/p", 14],
    ]);
  });

  it("sorts findings by file, line, column and rule, independent of the input order", async () => {
    const files = sources({ "b.yaml": policy("b", "x"), "a/z.yaml": policy("z", "x"), "a.yaml": policy("a", "x") });
    const result = await run(files, [egressToServices, throwingOn("none")]);
    expect(result.findings.map((f) => `${f.file}:${f.line}:${f.ruleId}`)).toEqual([
      "a.yaml:1:test-throws",
      "a.yaml:9:test-to-services",
      "a/z.yaml:1:test-throws",
      "a/z.yaml:9:test-to-services",
      "b.yaml:1:test-throws",
      "b.yaml:9:test-to-services",
    ]);
  });

  it("ignores files that are not manifests", async () => {
    const result = await run(sources({ "README.md": "# x", "p.json": "{}", "chart/t.tpl": "{{ x }}" }));
    expect(result.filesScanned).toBe(1);
    expect(result.findings.map((f) => f.message)).toEqual(["templated"]);
  });
});

describe("scan on bad input", async () => {
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    ...Array.from({ length: 9 }, (_, i) => {
      const prev = i === 0 ? "a" : `l${i - 1}`;
      return `l${i}: &l${i} [${Array.from({ length: 10 }, () => `*${prev}`).join(", ")}]`;
    }),
    "apiVersion: cilium.io/v2",
    "kind: CiliumNetworkPolicy",
    "metadata: {name: bomb}",
  ].join("\n");
  const inputs = [
    source("invalid.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n---\nspec: [unclosed\n"),
    source(
      "templated.yaml",
      "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: {{ .Release }}\n",
    ),
    source("bomb.yaml", bomb),
    source("deep.yaml", "- ".repeat(50_000) + "x\n"),
    { path: "huge.yaml", size: MAX_FILE_BYTES + 1, content: null },
    source("huge-read.yaml", new Uint8Array(MAX_FILE_BYTES + 10).fill(0x61)),
    source("binary.yaml", new Uint8Array([0x6b, 0x3a, 0x00, 0x01, 0x02])),
    source("latin1.yaml", new Uint8Array([0x6b, 0x3a, 0x20, 0xe9, 0x0a])),
    source("unknown-kind.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {egress: 1}\n"),
    source("no-kind.yaml", "apiVersion: cilium.io/v2\nmetadata: {name: x}\nspec: {}\n"),
    source("no-metadata.yaml", "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nspec:\n  egress: 3\n"),
    source("spec-scalar.yaml", "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: s}\nspec: 1\n"),
    source("empty.yaml", ""),
    source("comments.yaml", "# nothing here\n---\n---\n"),
    source("scalar.yaml", "just a string\n"),
    source("list.yaml", "- apiVersion: cilium.io/v2\n  kind: CiliumNetworkPolicy\n"),
  ];

  const result = await run(inputs, [parseReport, egressToServices, throwingOn("none")]);
  const messagesOf = (path: string) => result.findings.filter((f) => f.file === path).map((f) => f.message);

  it("reads every file, skipped ones included, without an internal error", () => {
    expect(result.filesScanned).toBe(inputs.length);
    expect(result.findings.filter((f) => f.ruleId === INTERNAL_ERROR.id)).toEqual([]);
  });

  it("classifies each bad input", () => {
    expect(messagesOf("invalid.yaml")[0]).toMatch(/^problem: /);
    // The unclosed flow sequence opens on line 5 and is reported where the parser gives up: the end of the file.
    expect(result.findings.find((f) => f.file === "invalid.yaml")?.line).toBeGreaterThanOrEqual(5);
    expect(messagesOf("templated.yaml")).toEqual(["templated"]);
    expect(messagesOf("bomb.yaml")).toHaveLength(1);
    expect(messagesOf("bomb.yaml")[0]).toMatch(/alias/i);
    expect(messagesOf("deep.yaml")).toEqual(["problem: nesting deeper than 256 levels: the file was not read"]);
    expect(messagesOf("huge.yaml")).toEqual(["skipped: not-read"]);
    expect(messagesOf("huge-read.yaml")).toEqual(["skipped: too-large"]);
    expect(messagesOf("binary.yaml")).toEqual(["skipped: binary"]);
    expect(messagesOf("latin1.yaml")).toEqual(["skipped: not-utf8"]);
  });

  it("ignores unknown kinds, empty files and documents that are not mappings", () => {
    for (const path of [
      "unknown-kind.yaml",
      "no-kind.yaml",
      "empty.yaml",
      "comments.yaml",
      "scalar.yaml",
      "list.yaml",
    ]) {
      expect(messagesOf(path)).toEqual([]);
    }
  });

  it("takes policies with missing or malformed fields as they are", () => {
    // No metadata: a policy without an id; `spec: 1`: a policy without specs.
    expect(result.findings.filter((f) => f.file === "no-metadata.yaml").map((f) => [f.policy, f.line])).toEqual([
      [null, 1],
    ]);
    expect(messagesOf("spec-scalar.yaml")).toEqual(["seen s"]);
    expect(result.policies).toBe(1);
  });
});
