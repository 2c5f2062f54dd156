import { describe, expect, it } from "vitest";
import { cnp, findings } from "./scan.js";

const RULE = "requires-deprecated";

const text = cnp(
  "req",
  "app",
  [
    "  ingress:",
    "    - fromRequires: [{matchLabels: {env: prod}}]", // line 11, column 7
    "      fromEndpoints: [{matchLabels: {app: web}}]",
    "  egress:",
    "    - toRequires: [{matchLabels: {env: prod}}]", // line 14
    "      toEndpoints: [{matchLabels: {app: db}}]",
  ].join("\n"),
);

describe(RULE, () => {
  it("is an error when the range includes 1.19 (removed), at each key", async () => {
    const result = await findings(RULE, { "p.yaml": text }, { ciliumVersion: ">=1.13" });
    expect(result.map((f) => [f.severity, f.line, f.column])).toEqual([
      ["error", 11, 7],
      ["error", 14, 7],
    ]);
    expect(result[0]?.message).toContain("fromRequires is removed in Cilium 1.19");
    expect(result[0]?.message).toContain("fromEndpoints selector");
    expect(result[1]?.message).toContain("toEndpoints selector");
  });

  it("is a warning when the range reaches 1.17 or 1.18 but not 1.19", async () => {
    const result = await findings(RULE, { "p.yaml": text }, { ciliumVersion: ">=1.15 <1.19" });
    expect(result.map((f) => f.severity)).toEqual(["warning", "warning"]);
    expect(result[0]?.message).toContain("deprecated since Cilium 1.17");
  });

  it("says nothing for ranges entirely below 1.17, or without requires", async () => {
    expect(await findings(RULE, { "p.yaml": text }, { ciliumVersion: "<1.17" })).toEqual([]);
    const clean = cnp("c", "app", ["  ingress:", "    - fromRequires: []", "      fromEndpoints: [{}]"].join("\n"));
    expect(await findings(RULE, { "p.yaml": clean })).toEqual([]);
  });

  it("follows a severity override", async () => {
    const result = await findings(RULE, { "p.yaml": text }, { rules: { [RULE]: "info" } });
    expect(result.map((f) => f.severity)).toEqual(["info", "info"]);
  });
});
