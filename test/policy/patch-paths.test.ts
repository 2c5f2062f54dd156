// What a kustomize patch's content says it changes (render/patch-paths.ts).
import { describe, expect, it } from "vitest";
import { changedPaths, overlaps } from "../../src/policy/render/patch-paths.js";

describe("changedPaths", () => {
  it("reads JSON patch operations: replaced, removed and added-into-a-map paths; insertions change nothing", () => {
    expect(
      changedPaths([
        { op: "test", path: "/spec", value: {} },
        { op: "replace", path: "/spec/egress/0/toPorts", value: [] },
        { op: "add", path: "/metadata/labels/a~1b", value: "c" },
      ]),
    ).toEqual([
      ["spec", "egress", 0, "toPorts"],
      ["metadata", "labels", "a/b"],
    ]);
    expect(changedPaths([{ op: "add", path: "/spec/egress/-", value: {} }])).toEqual([]);
    expect(changedPaths([{ op: "remove", path: "/spec/egress/1" }])).toEqual([["spec", "egress", 1]]);
  });

  it("does not follow operations that address a list an earlier one shifted, nor unknown operations", () => {
    expect(
      changedPaths([
        { op: "remove", path: "/spec/egress/0" },
        { op: "replace", path: "/spec/egress/0", value: {} },
      ]),
    ).toBeUndefined();
    expect(changedPaths([{ op: "frobnicate", path: "/spec" }])).toBeUndefined();
    expect(changedPaths([{ op: "replace", path: "spec" }])).toBeUndefined();
  });

  it("reads a custom resource's strategic merge patch: every list or value it writes, $ directives not followed", () => {
    expect(
      changedPaths({
        apiVersion: "cilium.io/v2",
        kind: "X",
        metadata: { name: "n" },
        spec: { egress: [], description: "d" },
      }),
    ).toEqual([
      ["spec", "egress"],
      ["spec", "description"],
    ]);
    expect(changedPaths({ spec: { $patch: "replace" } })).toBeUndefined();
  });

  it("gives up on a patch nested deeper than any policy, rather than recursing without bound", () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 10_000; i++) deep = deep.a = {};
    expect(changedPaths({ spec: root })).toBeUndefined();
  });
});

describe("overlaps", () => {
  it("is true for a path, its ancestors and its descendants only", () => {
    const rule = ["spec", "egress", 0];
    expect(overlaps(["spec", "egress"], rule)).toBe(true);
    expect(overlaps(["spec", "egress", 0, "toPorts"], rule)).toBe(true);
    expect(overlaps(["spec", "egress", 1], rule)).toBe(false);
    expect(overlaps(["metadata"], rule)).toBe(false);
  });
});
