import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../src/policy/config.js";
import { analyse } from "../../src/policy/api.js";
import { renderJson } from "../../src/policy/report/json.js";
import { escapeCell, GITHUB_COMMENT_LIMIT, renderMarkdown } from "../../src/policy/report/markdown.js";
import { ruleMeta, summaryLine } from "../../src/policy/report/rule-docs.js";
import { renderSarif } from "../../src/policy/report/sarif.js";
import { renderTable, wrap } from "../../src/policy/report/table.js";
import { source } from "../helpers/sources.js";
import { FIXTURE_RULES, scanFixtures, toServicesToPorts } from "./fixture-scan.js";

const result = await scanFixtures();
const rules = FIXTURE_RULES.map((rule) => rule.meta);

/** Splits a Markdown table row on the pipes that are not escaped. */
const cellsOf = (row: string) =>
  row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());

describe("reports of a real scan", () => {
  it("the scan found what the fixtures hold", () => {
    expect([result.filesScanned, result.policies, result.findings.length]).toEqual([3, 2, 4]);
  });

  it("Markdown", async () => {
    await expect(renderMarkdown(result, { rules })).toMatchFileSnapshot("./__snapshots__/fixtures.md");
  });

  it("SARIF", async () => {
    await expect(renderSarif(result, { rules, toolVersion: "0.0.0-test" })).toMatchFileSnapshot(
      "./__snapshots__/fixtures.sarif",
    );
  });

  it("terminal table", async () => {
    await expect(renderTable(result)).toMatchFileSnapshot("./__snapshots__/fixtures.table.txt");
  });
});

describe("Markdown", () => {
  const markdown = renderMarkdown(result, { rules });
  const rows = markdown.split("\n").filter((line) => line.startsWith("| "));

  it("keeps every row at six cells whatever the messages and names hold", () => {
    expect(rows).toHaveLength(1 + result.findings.length);
    for (const row of rows) expect(cellsOf(row)).toHaveLength(6);
    expect(markdown).not.toMatch(/(?<!\\)<(?!!--)[a-z]/i);
    expect(markdown).not.toMatch(/(?<!\\)`/);
  });

  it("lists errors first and links each rule to its anchor under docsBaseUrl", () => {
    const severities = rows.slice(1).map((row) => cellsOf(row)[0]);
    expect(severities).toEqual(["❌ error", "❌ error", "❌ error", "ℹ️ info"]);
    const linked = renderMarkdown(result, { docsBaseUrl: "https://example.com/o/r/blob/main/README.md" });
    expect(linked).toContain("[fixture-to-services](https://example.com/o/r/blob/main/README.md#fixture-to-services)");
    expect(markdown).toContain("[fixture-parse](README.md#fixture-parse)");
  });

  it("shows rule ids without links when there is no documentation address", () => {
    const unlinked = renderMarkdown(result, { docsBaseUrl: null });
    expect(unlinked).toContain("| `fixture-parse` |");
    expect(unlinked).not.toContain("README.md#");
  });

  it("links locations when asked to", () => {
    const text = renderMarkdown(result, { fileUrl: (file, line) => `https://x.test/blob/abc/${file}#L${line}` });
    expect(text).toContain("[apps/shop/policy.yaml:12](https://x.test/blob/abc/apps/shop/policy.yaml#L12)");
  });

  it("escapes pipes, backticks, HTML and line breaks", () => {
    expect(escapeCell("a|b `c` <script>&\nnext")).toBe("a\\|b \\`c\\` \\<script\\>\\& next");
  });

  it("says so when there is nothing to report", () => {
    expect(renderMarkdown({ filesScanned: 2, policies: 1, findings: [] })).toBe(
      "**cilium-policy-bot**: No findings in 2 files (1 policy).\n",
    );
  });

  describe("over the budget", async () => {
    const policy = [
      "apiVersion: cilium.io/v2",
      "kind: CiliumNetworkPolicy",
      "metadata: {name: p, namespace: n}",
      "spec:",
      "  endpointSelector: {}",
      "  egress:",
      ...Array.from(
        { length: 20 },
        () => "    - {toServices: [{k8sService: {serviceName: s}}], toPorts: [{ports: []}]}",
      ),
    ].join("\n");
    const big = await analyse(
      Array.from({ length: 100 }, (_, i) => source(`apps/team-${i}/policy.yaml`, policy)),
      { config: DEFAULT_CONFIG, rules: [toServicesToPorts] },
    );

    it("stays under GitHub's limit and says how many findings it left out", () => {
      expect(big.findings).toHaveLength(2000);
      const text = renderMarkdown(big);
      expect(text.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
      const shown = text.split("\n").filter((line) => line.startsWith("| ")).length - 1;
      expect(shown).toBeGreaterThan(100);
      expect(shown).toBeLessThan(2000);
      expect(text).toContain(`…and ${2000 - shown} more findings not shown here.`);
      // The budget is used, not wasted: one more row would not have fit.
      expect(text.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT - 400);
    });

    it("honours a smaller budget", () => {
      for (const maxLength of [200, 1_000, 5_000, 20_000]) {
        const text = renderMarkdown(big, { maxLength });
        expect(text.length).toBeLessThanOrEqual(maxLength);
        expect(text).toMatch(/and \d+ more findings/);
      }
    });

    it("shows everything when it fits", () => {
      const small = { ...big, findings: big.findings.slice(0, 10) };
      const text = renderMarkdown(small);
      expect(text).not.toContain("more finding");
      expect(text.split("\n").filter((line) => line.startsWith("| "))).toHaveLength(11);
    });
  });
});

describe("JSON", () => {
  it("follows the contract, key order included", () => {
    const parsed = JSON.parse(renderJson(result)) as Record<string, unknown> & { findings: object[] };
    expect(Object.keys(parsed)).toEqual(["version", "filesScanned", "policies", "findings", "ciliumVersion"]);
    expect(parsed.ciliumVersion).toEqual({ range: ">=1.13", source: "default" });
    expect(parsed.version).toBe(1);
    expect([parsed.filesScanned, parsed.policies]).toEqual([3, 2]);
    expect(parsed.findings).toHaveLength(result.findings.length);
    for (const finding of parsed.findings) {
      expect(Object.keys(finding)).toEqual([
        "ruleId",
        "severity",
        "file",
        "line",
        "column",
        "policy",
        "message",
        "fix",
      ]);
    }
    expect(parsed.findings[0]).toEqual({
      ruleId: "fixture-to-services",
      severity: "error",
      file: "apps/shop/more.yaml",
      line: 20,
      column: 9,
      policy: "weird|name_with`ticks`<b>",
      message: "`toServices` with `toPorts` in egress[0] | rejected by <Cilium> 1.14",
      // The fixture's rule reports the engine's plan: this policy's Service is defined next to it.
      fix: "auto",
    });
  });
});

describe("SARIF", () => {
  type Json = Record<string, unknown>;
  const log = JSON.parse(renderSarif(result, { rules, docsBaseUrl: "https://example.com/README.md" })) as Json;

  it("has the properties SARIF 2.1.0 requires, with valid values", () => {
    // sarifLog: version (const "2.1.0") and runs; run: tool; tool: driver; toolComponent: name.
    expect(log.version).toBe("2.1.0");
    const runs = log.runs as Json[];
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    const driver = (run.tool as Json).driver as Json;
    expect(typeof driver.name).toBe("string");
    const driverRules = driver.rules as Json[];
    // reportingDescriptor: id required; ids unique; defaultConfiguration.level in the enum.
    expect(new Set(driverRules.map((r) => r.id)).size).toBe(driverRules.length);
    for (const rule of driverRules) {
      expect(typeof rule.id).toBe("string");
      expect(typeof (rule.shortDescription as Json).text).toBe("string");
      expect(["none", "note", "warning", "error"]).toContain((rule.defaultConfiguration as Json).level);
      expect(rule.helpUri).toBe(`https://example.com/README.md#${String(rule.id)}`);
    }
    const results = run.results as Json[];
    expect(results).toHaveLength(result.findings.length);
    results.forEach((r, i) => {
      const finding = result.findings[i]!;
      // result: message (with text) required; ruleIndex, when present, points at the rule with that id.
      expect(typeof (r.message as Json).text).toBe("string");
      expect(driverRules[r.ruleIndex as number]?.id).toBe(r.ruleId);
      expect(r.ruleId).toBe(finding.ruleId);
      expect(r.level).toBe({ error: "error", warning: "warning", info: "note" }[finding.severity]);
      const location = ((r.locations as Json[])[0] as Json).physicalLocation as Json;
      const uri = (location.artifactLocation as Json).uri as string;
      expect(uri).toBe(finding.file);
      expect(uri).not.toMatch(/^\/|^[a-z]+:/i);
      expect(location.region).toEqual({ startLine: finding.line, startColumn: finding.column });
      expect(finding.line).toBeGreaterThanOrEqual(1);
    });
  });

  it("keeps relative documentation links out of helpUri, which must be absolute", () => {
    const relative = JSON.parse(renderSarif(result, { rules })) as Json;
    const driver = ((relative.runs as Json[])[0]!.tool as Json).driver as Json;
    for (const rule of driver.rules as Json[]) {
      expect(rule.helpUri).toBeUndefined();
      expect((rule.help as Json).text).toContain(`README.md#${String(rule.id)}`);
    }
  });
});

describe("terminal table", () => {
  it("fits in 120 columns and ends with the summary line", () => {
    const text = renderTable(result);
    const lines = text.trimEnd().split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    expect(lines.at(-1)).toBe(summaryLine(result));
    // At 120 columns the other columns leave too little room: messages go under their rows.
    expect(lines[0]).toMatch(/^SEVERITY +RULE +LOCATION +POLICY$/);
    expect(lines[1]).toMatch(/^error +fixture-to-services +apps\/shop\/more\.yaml:20:9 +weird/);
    expect(lines[2]).toBe("          `toServices` with `toPorts` in egress[0] | rejected by <Cilium> 1.14");
  });

  it("keeps messages in their own column when there is room", () => {
    const lines = renderTable(result, { width: 200 }).trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SEVERITY +RULE +LOCATION +POLICY +MESSAGE$/);
    const messageColumn = lines[0]!.indexOf("MESSAGE");
    expect(lines[1]!.slice(messageColumn)).toBe("`toServices` with `toPorts` in egress[0] | rejected by <Cilium> 1.14");
    // Header, findings, a blank line, the Cilium range, the summary.
    expect(lines).toHaveLength(1 + result.findings.length + 3);
    expect(lines.at(-2)).toBe("Cilium versions judged: >=1.13 (default).");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(200);
  });

  it("wraps long words and paths", () => {
    expect(wrap("a/very/long/path/name.yaml", 10)).toEqual(["a/very/", "long/path/", "name.yaml"]);
    expect(wrap("x".repeat(25), 10)).toEqual(["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    expect(wrap("one two three", 7)).toEqual(["one two", "three"]);
  });
});

describe("rule metadata", () => {
  it("comes from the options, the registry, the engine, or a stand-in", () => {
    expect(ruleMeta("fixture-parse", rules).description).toBe("Parse outcome of a file.");
    expect(ruleMeta("internal-error").defaultSeverity).toBe("error");
    expect(ruleMeta("no-such-rule")).toEqual({
      id: "no-such-rule",
      defaultSeverity: "warning",
      description: "no-such-rule",
      fixable: false,
    });
  });
});
