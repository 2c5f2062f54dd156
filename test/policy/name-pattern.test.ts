// Kustomize patch target names (render/name-pattern.ts): Go RE2 expressions matched in full, in linear time.
import { describe, expect, it } from "vitest";
import { patchNameMatches } from "../../src/policy/render/flux-substitution.js";
import { namePatternMatches } from "../../src/policy/render/name-pattern.js";

describe("patch target name patterns", () => {
  it.each([
    ["web", "web", true],
    ["web", "web-2", false],
    ["web-.*", "web-2", true],
    ["a|b", "b", true],
    ["app\\.v1", "app.v1", true],
    ["app\\.v1", "appxv1", false],
  ])("%s selects %s: %s", (pattern, name, expected) => {
    expect(namePatternMatches(pattern, name)).toBe(expected);
  });

  it("an invalid expression is said to be invalid (each caller chooses its honest fallback)", () => {
    expect(namePatternMatches("web-(", "web-")).toBeUndefined();
    expect(patchNameMatches("web-(", "web-")).toBe(false);
  });

  it("a pattern that makes a backtracking engine take exponential time is answered (RE2 is linear)", () => {
    expect(patchNameMatches("(a+)+b", "a".repeat(64))).toBe(false);
    expect(patchNameMatches("(a|aa)+$", "a".repeat(64) + "!")).toBe(false);
  });
});
