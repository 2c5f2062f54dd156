import { describe, expect, it } from "vitest";
import { toServicesWithToPortsConsequence } from "../../src/policy/rules/to-services-with-to-ports.js";
import { CILIUM, CiliumVersions } from "../../src/policy/versions.js";

describe("CiliumVersions", () => {
  it("answers range questions for the default range >=1.13", () => {
    const versions = new CiliumVersions(">=1.13");
    expect(versions.includesBelow(CILIUM.rejectsToServicesWithToPorts)).toBe(true);
    expect(versions.includesBetween("1.14.0", "1.17.0")).toBe(true);
    expect(versions.allAtLeast("1.17.0")).toBe(false);
    expect(versions.includesAtLeast(CILIUM.requiresRemoved)).toBe(true);
  });

  it("handles closed, tilde and union ranges", () => {
    expect(new CiliumVersions("~1.15.0").includesBelow("1.14.0")).toBe(false);
    expect(new CiliumVersions("~1.15.0").includesBetween("1.14.0", "1.17.0")).toBe(true);
    expect(new CiliumVersions("~1.15.0").includesAtLeast("1.17.0")).toBe(false);
    expect(new CiliumVersions("1.13.x || >=1.18").includesBetween("1.14.0", "1.17.0")).toBe(false);
    expect(new CiliumVersions(">=1.17.0").allAtLeast("1.17.0")).toBe(true);
    expect(new CiliumVersions("1.18.2").includesAtLeast("1.19.0")).toBe(false);
    expect(String(new CiliumVersions("^1.16"))).toBe("^1.16");
  });
});

describe("toServicesWithToPortsConsequence", () => {
  const consequence = (range: string) => toServicesWithToPortsConsequence(new CiliumVersions(range));

  it("names both consequences when the range spans them", () => {
    const { severity, consequence: text } = consequence(">=1.12");
    expect(severity).toBe("error");
    expect(text).toContain("≤1.13 any destination on those ports is allowed");
    expect(text).toContain("1.14–1.16 the whole policy is rejected");
  });

  it("names only what applies", () => {
    expect(consequence("<1.14").consequence).not.toContain("rejected");
    expect(consequence("1.14 - 1.16").consequence).not.toContain("any destination");
    expect(consequence("1.13.x || >=1.17").consequence).not.toContain("rejected");
  });

  it("is info when every version is 1.17 or later", () => {
    expect(consequence(">=1.17")).toEqual({
      severity: "info",
      consequence: "accepted since Cilium 1.17; rewrite optional",
    });
  });
});
