// The splice's own guarantees: style detection, and refusing (never half-applying) edits it cannot prove.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/policy/config.js";
import { analyse, applyFixes } from "../../src/policy/api.js";
import { fixOf } from "../helpers/analysis.js";
import type { PlannedRule } from "../../src/policy/plan/rewrite.js";
import { detectStyle, spliceRule } from "../../src/policy/splice/splice.js";
import type { SourceFile } from "../../src/policy/types.js";
import { CILIUM_EXAMPLES_DIR, hasShared } from "../helpers/external.js";
import { schemaErrors } from "../helpers/schema.js";
import { source } from "../helpers/sources.js";
import type { ServiceResolver } from "../../src/policy/plan/fix.js";

const config = resolveConfig({});
const REAL_SHAPES = fileURLToPath(new URL("../fixtures/real-shapes", import.meta.url));

function styleOf(text: string) {
  const documents = parseAllDocuments(text);
  return detectStyle(text, Array.isArray(documents) ? documents : []);
}

describe("detectStyle", () => {
  it("reads indentation, sequence indentation, line endings, quotes and flow padding", () => {
    expect(styleOf("a:\n  b:\n    - x\n")).toMatchObject({ indent: 2, indentSeq: true, eol: "\n" });
    expect(styleOf("a:\n    b:\n    - x\n")).toMatchObject({ indent: 4, indentSeq: false });
    expect(styleOf("a:\r\n  b: 'x'\r\n  c: 'y'\r\n  d: \"z\"\r\n")).toMatchObject({ eol: "\r\n", singleQuote: true });
    expect(styleOf("a: { b: 1 }\nc: [ 1 ]\n")).toMatchObject({ flowPadding: true });
    expect(styleOf("a: {b: 1}\n")).toMatchObject({ flowPadding: false });
  });
});

const POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: p
  namespace: shop
spec:
  endpointSelector: {}
  egress:
    - toServices:
        - k8sService:
            serviceName: api
            namespace: shop
      toPorts:
        - ports:
            - port: "80"
`;

/** Every entry is shop/api, selected by app=api. */
const api: ServiceResolver = () => [
  { service: "shop/api", name: "api", namespace: "shop", resolution: "repo", selector: { app: "api" }, ports: [] },
];

describe("spliceRule", () => {
  const planned = (value: Record<string, unknown>): PlannedRule => ({ value, peerKey: "toEndpoints", notes: [] });

  it("refuses a plan its edit cannot produce, and says so", () => {
    // The planned rule has a key the edit does not write: the re-parse shows it, and nothing is returned.
    const value = {
      toEndpoints: [{ matchLabels: { app: "api" } }],
      toPorts: [{ ports: [{ port: "80" }] }],
      extra: true,
    };
    const outcome = spliceRule(
      POLICY,
      { documentIndex: 0, path: ["spec", "egress", 0] },
      {
        inPlace: planned(value),
        appended: [],
      },
    );
    expect(outcome).toEqual({ ok: false, error: "the rewritten file does not read as the planned rules" });
  });

  it("refuses a rule that is not where the plan says", () => {
    const outcome = spliceRule(
      POLICY,
      { documentIndex: 0, path: ["spec", "egress", 3] },
      {
        inPlace: planned({}),
        appended: [],
      },
    );
    expect(outcome.ok).toBe(false);
  });

  it("refuses a rewrite that would remove an anchor an alias elsewhere needs, and writes nothing", async () => {
    // From 1.17 the second rule (no toPorts) needs no rewrite, but it aliases the first rule's toServices.
    const text = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: p
  namespace: shop
spec:
  endpointSelector: {}
  egress:
    - toServices: &api
        - k8sService:
            serviceName: api
            namespace: shop
      toPorts:
        - ports:
            - port: "80"
    - toServices: *api
`;
    const result = await fixOf([source("p.yaml", text)], {
      config: resolveConfig({ ciliumVersion: ">=1.17" }),
      resolve: api,
    });
    expect(result.rewrites.map((r) => [r.status, r.message])).toEqual([
      ["error", expect.stringContaining("the rewritten file does not parse")],
    ]);
    expect(result.changes).toEqual([]);
  });

  it("leaves to a person a rule whose anchor a deny rule reads, and says so in the finding and the fix", async () => {
    // The alias sits in egressDeny, which the rewrite never changes: removing the anchor would leave it naming nothing.
    const text = readFileSync(join(REAL_SHAPES, "anchor-read-by-deny.yaml"), "utf8");
    const options = { config, resolve: api };
    const analysis = await analyse([source("p.yaml", text)], options);
    expect(analysis.findings.map((f) => [f.ruleId, f.fix, f.message.includes("anchor &pg")])).toEqual([
      ["to-services-with-to-ports", "manual", true],
    ]);
    const result = applyFixes(analysis);
    expect(result.rewrites.map((r) => [r.status, r.message?.includes("alias (*pg)")])).toEqual([["manual", true]]);
    expect(result.changes).toEqual([]);
  });

  it("rewrites an anchored rule together with the rule aliasing it", async () => {
    const text = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: p
  namespace: shop
spec:
  endpointSelector: {}
  egress:
    - toServices: &api
        - k8sService:
            serviceName: api
            namespace: shop
      toPorts:
        - ports:
            - port: "80"
    - toServices: *api
      toPorts:
        - ports:
            - port: "81"
`;
    const result = await fixOf([source("p.yaml", text)], { config, resolve: api });
    expect(result.rewrites.map((r) => r.status)).toEqual(["rewritten", "rewritten"]);
    expect(result.changes[0]?.after).not.toContain("*api");
  });

  it("when one rule of a file cannot be proven, still rewrites the others", async () => {
    const text = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: p
  namespace: shop
spec:
  endpointSelector: {}
  egress:
    - toServices: &api
        - k8sService:
            serviceName: api
            namespace: shop
      toPorts:
        - ports:
            - port: "80"
    - toServices: *api
    - toServices:
        - k8sService:
            serviceName: api
            namespace: shop
      toPorts:
        - ports:
            - port: "82"
`;
    const result = await fixOf([source("p.yaml", text)], {
      config: resolveConfig({ ciliumVersion: ">=1.17" }),
      resolve: api,
    });
    expect(result.rewrites.map((r) => r.status)).toEqual(["error", "rewritten"]);
    const after = result.changes[0]?.after ?? "";
    expect(after.slice(0, after.indexOf("    - toServices: *api"))).toBe(
      text.slice(0, text.indexOf("    - toServices: *api")),
    );
    expect(after).toContain("    - toEndpoints:\n        - matchLabels:\n            app: api\n");
  });

  it("rewrites policies inside a kind: List", async () => {
    const text = `apiVersion: v1
kind: List
items:
  - apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: {name: p, namespace: shop}
    spec:
      endpointSelector: {}
      egress:
        - toServices:
            - k8sService: {serviceName: api, namespace: shop}
          toPorts: [{ports: [{port: "80"}]}]
`;
    const result = await fixOf([source("list.yaml", text)], { config, resolve: api });
    expect(result.changes[0]?.after).toBe(
      text.replace(
        "toServices:\n            - k8sService: {serviceName: api, namespace: shop}",
        "toEndpoints:\n            - matchLabels:\n                app: api\n                k8s:io.kubernetes.pod.namespace: shop",
      ),
    );
  });
});

function readTree(root: string, dir = root): SourceFile[] {
  const out: SourceFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...readTree(root, full));
    else if (entry.isFile()) out.push(source(relative(root, full), readFileSync(full)));
  }
  return out;
}

describe.skipIf(!hasShared())("on Cilium's example policies (real resolver)", () => {
  it("never fails, writes schema-valid policies, and is a fixed point", async () => {
    const sources = readTree(CILIUM_EXAMPLES_DIR);
    const result = await fixOf(sources, { config });
    expect(result.rewrites.filter((r) => r.status === "error")).toEqual([]);
    for (const change of result.changes) {
      for (const document of parseAllDocuments(change.after.replace(/^\uFEFF/, ""))) {
        const value = document.toJS() as Record<string, unknown> | null;
        if (value && String(value.kind).startsWith("Cilium")) expect(schemaErrors(value)).toEqual([]);
      }
    }
    const fixed = sources.map((s) => {
      const change = result.changes.find((c) => c.path === s.path);
      return change ? source(s.path, change.after) : s;
    });
    expect((await fixOf(fixed, { config })).changes).toEqual([]);
  });
});

describe("fix on hostile input", () => {
  it("reports a resolver that throws as an error for that rule, and goes on", async () => {
    const throwing: ServiceResolver = () => {
      throw new Error("boom");
    };
    const result = await fixOf([source("p.yaml", POLICY)], { config, resolve: throwing });
    expect(result.changes).toEqual([]);
    expect(result.rewrites.map((r) => [r.status, r.message])).toEqual([
      ["error", "the rewrite could not be planned: boom"],
    ]);
  });

  it("never writes a templated, binary or malformed file", async () => {
    const result = await fixOf(
      [
        source("helm.yaml", POLICY.replace("namespace: shop", "namespace: {{ .Release.Namespace }}")),
        source("bin.yaml", new Uint8Array([0, 1, 2, 3])),
        source("broken.yaml", `${POLICY}  egress: [\n`),
        source(
          "bomb.yaml",
          `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
        ),
      ],
      { config, resolve: api },
    );
    expect(result).toEqual({ changes: [], rewrites: [] });
  });
});
