// Cilium version ranges, and what each version does with the constructs the rules look at.
import semver from "semver";

/** The Cilium versions a repository's clusters run or will run, as a semver range ("config.ciliumVersion"). */
export class CiliumVersions {
  private readonly range: semver.Range;

  constructor(readonly expression: string) {
    this.range = new semver.Range(expression, { loose: true });
  }

  /** Whether any version in the range is below `version` (e.g. "1.14.0"). */
  includesBelow(version: string): boolean {
    return semver.intersects(this.range, new semver.Range(`<${version}`));
  }

  /** Whether any version in the range is in [from, to). */
  includesBetween(from: string, to: string): boolean {
    return semver.intersects(this.range, new semver.Range(`>=${from} <${to}`));
  }

  /** Whether any version in the range is at least `version`. */
  includesAtLeast(version: string): boolean {
    return semver.intersects(this.range, new semver.Range(`>=${version}`));
  }

  /** Whether every version in the range is at least `version`. */
  allAtLeast(version: string): boolean {
    return semver.subset(this.range, new semver.Range(`>=${version}`));
  }

  toString(): string {
    return this.expression;
  }
}

/** The Cilium releases whose behaviour differs for the constructs this tool checks. */
export const CILIUM = {
  /** From 1.14, toServices + toPorts in one rule rejects the whole policy at load time. */
  rejectsToServicesWithToPorts: "1.14.0",
  /** From 1.17, toServices works for Services with a selector (translated to endpoint selectors). */
  translatesSelectorServices: "1.17.0",
  /** fromRequires/toRequires: deprecated in 1.17, removed in 1.19. */
  requiresDeprecated: "1.17.0",
  requiresRemoved: "1.19.0",
} as const;
