// What a load-time problem in a deny rule means: Cilium validates deny rules only from 1.17 (and some 1.16 patches).
import type { Direction } from "../read/policy.js";
import type { Severity } from "../types.js";
import { CILIUM } from "../versions.js";
import type { CiliumVersions } from "../versions.js";

export function isDenyRule(direction: Direction): boolean {
  return direction === "egressDeny" || direction === "ingressDeny";
}

/** The consequence of a problem Cilium's validation rejects, in a deny rule, for a configured range. */
export function denyRuleRejection(versions: CiliumVersions): { severity: Severity; consequence: string } {
  const rejecting =
    "Cilium 1.17 and later (and 1.16 patch releases carrying cilium/cilium#36598) reject the whole policy";
  if (versions.includesAtLeast(CILIUM.validatesDenyRulesInPatches)) {
    const older = versions.includesBelow(CILIUM.validatesDenyRulesInPatches)
      ? ", while older releases load deny rules without checking them"
      : "";
    return { severity: "error", consequence: `${rejecting}${older}` };
  }
  return {
    severity: "warning",
    consequence: `Cilium before 1.16 loads deny rules without checking them, but ${rejecting}, so it breaks on upgrade`,
  };
}
