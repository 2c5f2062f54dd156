// joinPath answers a reference without a slash at once: the same as resolving it segment by segment.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { joinPath } from "../../src/policy/render/kustomize.js";

const segment = fc.stringMatching(/^[a-z.-]{1,4}$/);
const dir = fc
  .array(
    segment.filter((s) => s !== "." && s !== ".."),
    { maxLength: 4 },
  )
  .map((s) => s.join("/"));

describe("joinPath", () => {
  it("resolves a plain name as it resolves the same name behind ./", () => {
    fc.assert(
      fc.property(dir, segment, (at, name) => {
        expect(joinPath(at, name)).toBe(joinPath(at, `./${name}`));
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps its answers for the names that are not plain", () => {
    expect(joinPath("apps/web", ".")).toBe("apps/web");
    expect(joinPath("apps/web", "..")).toBe("apps");
    expect(joinPath("", "..")).toBeUndefined();
    expect(joinPath("apps", "")).toBe("apps");
    expect(joinPath("apps", "service.yaml")).toBe("apps/service.yaml");
    expect(joinPath("", "service.yaml")).toBe("service.yaml");
    expect(joinPath("apps/web", "../base/x.yaml")).toBe("apps/base/x.yaml");
  });
});
