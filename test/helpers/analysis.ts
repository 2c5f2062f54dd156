// The CLI's `fix` in one call, for tests: one analysis, its plans applied.
import { analyse, applyFixes } from "../../src/policy/api.js";
import type { AnalyseOptions, FixResult, SourceFile } from "../../src/policy/api.js";

export async function fixOf(sources: readonly SourceFile[], options: AnalyseOptions): Promise<FixResult> {
  return applyFixes(await analyse(sources, options));
}
