// Rules judge what the API server receives: YAML aliases followed and merge keys expanded (render/view.ts), with
// findings on the text a person edits, and scan and fix agreeing on rules whose text is shared through anchors.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import type { YAMLMap } from "yaml";
import { resolveConfig } from "../../src/policy/config.js";
import { analyse } from "../../src/policy/api.js";
import { fixOf } from "../helpers/analysis.js";
import { DocumentView } from "../../src/policy/render/view.js";
import { DEPLOYMENT, SERVICE } from "../e2e/fixture-repo.js";
import { sources } from "../helpers/sources.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/real-shapes/${name}`, import.meta.url), "utf8");
const config = resolveConfig({});

async function scanned(files: Record<string, string>) {
  return await analyse(sources({ "shop/service.yaml": SERVICE, "shop/deployment.yaml": DEPLOYMENT, ...files }), {
    config,
  });
}

describe("the view of a document", () => {
  it("follows aliases and expands merge keys, local keys first, then the earlier source", () => {
    const text = ["a: &a {x: 1, y: 1}", "b: &b {y: 2, z: 2}", "c:", "  <<: [*a, *b]", "  x: 0", "d: *a"].join("\n");
    const document = parseDocument(text, { merge: true });
    const view = new DocumentView(document).of(document.contents as YAMLMap);
    expect(view.toJSON()).toEqual({
      a: { x: 1, y: 1 },
      b: { y: 2, z: 2 },
      c: { x: 0, y: 1, z: 2 },
      d: { x: 1, y: 1 },
    });
    // A merged pair points at the `<<` that brought it; an aliased node at the anchor's text.
    const c = view.get("c", true) as unknown as YAMLMap;
    const y = c.items.find((pair) => (pair.key as { value: unknown }).value === "y")!;
    expect((y.key as { range: number[] }).range[0]).toBe(text.indexOf("<<"));
    expect((view.get("d", true) as unknown as YAMLMap).range![0]).toBe(text.indexOf("{x: 1"));
  });

  it("reads an alias inside its own anchor (a cycle) as nothing, and ends", () => {
    const document = parseDocument("a: &a [1, *a]", { merge: true });
    const view = new DocumentView(document).of(document.contents as YAMLMap);
    expect(view.toJSON()).toEqual({ a: [1, null] });
  });
});

describe("rules on aliases and merge keys", () => {
  it("anchored selectors and ports are what they name: no invalid subject selector, no missing port", async () => {
    const result = await scanned({ "shop/anchors.yaml": fixture("anchors.yaml") });
    expect(result.findings.filter((f) => f.severity !== "info")).toEqual([]);
  });

  it("merged rules and expressions are read whole: no operator null, DNS rule seen in the merged rule", async () => {
    const result = await scanned({ "shop/merges.yaml": fixture("merges.yaml") });
    expect(result.findings).toEqual([]);
  });

  it("a value reached through an alias is judged, at the anchor's text", async () => {
    const text = fixture("anchors.yaml").replace('&http "8080"', "&http 8080");
    const result = await scanned({ "shop/anchors.yaml": text });
    const ports = result.findings.filter((f) => f.ruleId === "invalid-port");
    // Reported once per place a person edits: the anchor's own `port:` line and the alias's use.
    expect(ports.map((f) => f.line)).toEqual([17, 26]);
    expect(ports.every((f) => f.message.includes("written as a number"))).toBe(true);
  });

  it("a merged expression missing its operator is reported at the merge key", async () => {
    const text = fixture("merges.yaml").replace("          operator: In\n", "");
    const result = await scanned({ "shop/merges.yaml": text });
    const bad = result.findings.filter((f) => f.ruleId === "invalid-selector");
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((f) => f.message.includes("operator null"))).toBe(true);
  });

  it("scan finds toServices + toPorts whose toPorts is an alias, and fix rewrites that rule as scan says", async () => {
    const files = {
      "shop/service.yaml": SERVICE,
      "shop/deployment.yaml": DEPLOYMENT,
      "shop/shared-rule.yaml": fixture("shared-rule.yaml"),
    };
    const [finding, ...rest] = (await analyse(sources(files), { config })).findings.filter(
      (f) => f.ruleId === "to-services-with-to-ports",
    );
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ line: 20, fix: "auto" });
    const fixed = await fixOf(sources(files), { config });
    expect(fixed.rewrites).toMatchObject([{ status: "rewritten", line: 20 }]);
    // The rule's own bytes changed (its alias written out); the anchor the first rule carries is untouched.
    const after = fixed.changes[0]!.after;
    expect(after).toContain("toPorts: &api-ports");
    const again = await analyse(sources({ ...files, "shop/shared-rule.yaml": after }), { config });
    expect(again.findings.filter((f) => f.severity !== "info")).toEqual([]);
  });

  it("a rule reached through an alias, or carrying the anchor others read, is left to a person by scan and fix", async () => {
    const text =
      fixture("shared-rule.yaml").replace("    - toServices:", "    - &to-api\n      toServices:") +
      "  ingress: []\nspecs:\n  - endpointSelector: {}\n    egress:\n      - *to-api\n";
    const files = { "shop/service.yaml": SERVICE, "shop/deployment.yaml": DEPLOYMENT, "shop/shared-rule.yaml": text };
    const found = (await analyse(sources(files), { config })).findings.filter(
      (f) => f.ruleId === "to-services-with-to-ports",
    );
    // Both rules read the same text: one finding for it.
    expect(found.map((f) => [f.line, f.fix])).toEqual([[21, "manual"]]);
    expect(found[0]!.message).toContain("by hand");
    const fixed = await fixOf(sources(files), { config });
    expect(fixed.changes).toEqual([]);
    expect(fixed.rewrites.map((r) => r.status)).toEqual(["manual", "manual"]);
    expect(fixed.rewrites[0]!.message).toContain("anchor, alias or merge key");
  });

  it("a rule reached through a merge key is reported at its `<<` and left to a person", async () => {
    const text =
      fixture("shared-rule.yaml").replace("    - toServices:", "    - &to-api\n      toServices:") +
      '    - <<: *to-api\n      toPorts:\n        - ports:\n            - port: "8080"\n';
    const findings = (await scanned({ "shop/shared-rule.yaml": text })).findings.filter(
      (f) => f.ruleId === "to-services-with-to-ports",
    );
    expect(findings.map((f) => [f.line, f.fix])).toEqual([
      [21, "manual"],
      [26, "manual"],
    ]);
  });

  it("a rule whose own text is local is still rewritten when anchors sit elsewhere in the file", async () => {
    const files = {
      "shop/service.yaml": SERVICE,
      "shop/deployment.yaml": DEPLOYMENT,
      "shop/local-rule.yaml": fixture("local-rule.yaml"),
    };
    const [finding] = (await analyse(sources(files), { config })).findings.filter(
      (f) => f.ruleId === "to-services-with-to-ports",
    );
    expect(finding).toMatchObject({ line: 15, fix: "auto" });
    const fixed = await fixOf(sources(files), { config });
    expect(fixed.rewrites).toMatchObject([{ status: "rewritten" }]);
    const after = fixed.changes[0]!.after;
    expect(after).toContain("endpointSelector: &self");
    expect(after).toContain("- *self");
    expect(after).toContain("toEndpoints:");
    expect(after).not.toContain("toServices");
  });
});
