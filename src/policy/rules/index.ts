// The rule registry: the only place that lists rules.
import type { Rule } from "./rule.js";
import { toServicesWithToPorts } from "./to-services-with-to-ports.js";

export const RULES: readonly Rule[] = [toServicesWithToPorts];
