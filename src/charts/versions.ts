// Which chart version a release gets: an exact version, or the highest that satisfies a range (Helm's rules: a
// leading "v" is accepted; prereleases only when the range names one).
import semver from "semver";

/** The exact version `wanted` names (semver equal, "v" prefix or not), or null when it is a range or absent. */
export function exactVersion(wanted: string | undefined): string | null {
  if (wanted === undefined) return null;
  const trimmed = wanted.trim();
  return semver.valid(trimmed) ? trimmed : null;
}

/** The highest of `offered` that `wanted` (a version, a range, or undefined for "newest") admits, as offered. */
export function pickVersion(offered: readonly string[], wanted: string | undefined): string | null {
  const exact = exactVersion(wanted);
  if (exact !== null) return offered.find((version) => semver.valid(version) && semver.eq(version, exact)) ?? null;
  const range = wanted === undefined || wanted.trim() === "" ? "*" : wanted;
  if (semver.validRange(range) === null) return null;
  let best: string | null = null;
  for (const version of offered) {
    if (!semver.valid(version) || !semver.satisfies(version, range)) continue;
    if (best === null || semver.gt(version, best)) best = version;
  }
  return best;
}

export function isValidVersionOrRange(wanted: string | undefined): boolean {
  return (
    wanted === undefined || wanted.trim() === "" || exactVersion(wanted) !== null || semver.validRange(wanted) !== null
  );
}
