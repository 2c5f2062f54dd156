// Cilium version ranges, and what each version does with the constructs the rules look at.
import semver from "semver";

/** The Cilium versions a repository's clusters run or will run, as a semver range ("config.ciliumVersion"). */
export class CiliumVersions {
  private readonly range: semver.Range;
  /** Answers by question: rules ask the same few for every policy, and semver's range algebra is not cheap. */
  private readonly answers = new Map<string, boolean>();

  constructor(readonly expression: string) {
    this.range = new semver.Range(expression, { loose: true });
  }

  private intersects(other: string): boolean {
    let answer = this.answers.get(other);
    if (answer === undefined) {
      answer = semver.intersects(this.range, new semver.Range(other));
      this.answers.set(other, answer);
    }
    return answer;
  }

  /** Whether any version in the range is below `version` (e.g. "1.14.0"). */
  includesBelow(version: string): boolean {
    return this.intersects(`<${version}`);
  }

  /** Whether any version in the range is in [from, to). */
  includesBetween(from: string, to: string): boolean {
    return this.intersects(`>=${from} <${to}`);
  }

  /** Whether any version in the range is at least `version`. */
  includesAtLeast(version: string): boolean {
    return this.intersects(`>=${version}`);
  }

  /** Whether every version in the range is at least `version`. */
  allAtLeast(version: string): boolean {
    const key = `subset >=${version}`;
    let answer = this.answers.get(key);
    if (answer === undefined) {
      answer = semver.subset(this.range, new semver.Range(`>=${version}`));
      this.answers.set(key, answer);
    }
    return answer;
  }

  toString(): string {
    return this.expression;
  }
}

/** The Cilium releases whose behaviour differs for the constructs this tool checks. */
export const CILIUM = {
  /**
   * From 1.14.0, toServices + toPorts in one egress rule rejects the whole policy at load time ("Combining
   * ToServices and ToPorts is not supported yet"): cilium/cilium commit 7959bf5b3ca1428481391b6ee001aff931b2753e set
   * `ToServices: false` in rule_validation.go's l3DependentL4Support (see cilium/cilium#20067). It came after PR
   * #25796 (merged 2023-05-31), whose text still says Cilium "accepts such a configuration", and users upgrading
   * from 1.13 in October 2023 report the policies loading there: no 1.13.x patch release is known to reject it (no
   * backport found in Cilium's sources or release notes available to us), so every 1.13.x counts as accepting it.
   */
  rejectsToServicesWithToPorts: "1.14.0",
  /** From 1.17, toServices works for Services with a selector (translated to endpoint selectors). */
  translatesSelectorServices: "1.17.0",
  /**
   * From 1.17.0, ingressDeny and egressDeny rules are validated at load time like allow rules (one peer kind, no icmps
   * with toPorts): cilium/cilium#36598 ("Add CNP IngressDeny and EgressDeny rules validation", merged December 2024),
   * which its author backported to a 1.16 patch release whose number we could not confirm. Before it, Rule.Sanitize
   * checked the ingress and egress rules only (pkg/policy/api/rule_validation.go), so older agents load such deny rules
   * unchecked.
   */
  validatesDenyRules: "1.17.0",
  /** The release line in which some patch releases already validate deny rules (the backport above). */
  validatesDenyRulesInPatches: "1.16.0",
  /** fromRequires/toRequires: deprecated in 1.17, removed in 1.19. */
  requiresDeprecated: "1.17.0",
  requiresRemoved: "1.19.0",
} as const;
