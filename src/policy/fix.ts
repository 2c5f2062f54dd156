// The repository-wide fix: source files in, rewritten texts and what was rewritten out. Pure, like the scan.
// Contract only for now; the implementation lands with the rewrite engine.
import type { Config } from "./config.js";
import type { Resolution } from "./resolve.js";
import type { Labels, SourceFile } from "./types.js";

export interface ServiceRewrite {
  readonly service: string;
  readonly resolution: Resolution;
  readonly selector: Labels | null;
}

export interface RuleRewrite {
  readonly file: string;
  /** 1-based line of the rewritten rule's `toServices` key in the original text. */
  readonly line: number;
  readonly policy: string | null;
  readonly services: readonly ServiceRewrite[];
}

export interface FileChange {
  readonly path: string;
  /** Full texts, a byte-order mark included when the file has one. */
  readonly before: string;
  readonly after: string;
}

export interface FixResult {
  readonly changes: readonly FileChange[];
  readonly rewrites: readonly RuleRewrite[];
}

export interface FixOptions {
  readonly config: Config;
}

export function fix(_sources: readonly SourceFile[], _options: FixOptions): FixResult {
  throw new Error("fix: not implemented yet");
}
