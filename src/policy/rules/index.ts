// The rule registry: the only place that lists rules.
import type { Rule } from "./rule.js";

export const RULES: readonly Rule[] = [];
