// A kustomize patch target's name is a regular expression (Go's RE2, matched in full). It is repository text, and a
// backtracking engine can take exponential time on it (`(a+)+b`), so it is matched in linear time by RE2's port.
import { RE2JS } from "re2js";

const METACHARACTERS = /[.*+?^${}()|[\]\\]/;

/** Whether a target name pattern selects a name in full; undefined when the pattern is not a valid expression. */
export function namePatternMatches(pattern: string, name: string): boolean | undefined {
  if (!METACHARACTERS.test(pattern)) return pattern === name;
  try {
    return RE2JS.compile(`^(?:${pattern})$`).matches(name);
  } catch {
    return undefined;
  }
}
