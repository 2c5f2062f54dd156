// The rule registry: the only place that lists rules (and the engine's own report, which is not a rule).
import { chartNotRendered } from "./chart-not-rendered.js";
import { combinedPeerTypes } from "./combined-peer-types.js";
import { endpointsMissingNamespace } from "./endpoints-missing-namespace.js";
import { icmpsWithToPorts } from "./icmps-with-to-ports.js";
import { invalidL7Rules } from "./invalid-l7-rules.js";
import { invalidPort } from "./invalid-port.js";
import { invalidSelector } from "./invalid-selector.js";
import { invalidSubjectSelector } from "./invalid-subject-selector.js";
import { invalidYaml } from "./invalid-yaml.js";
import { kustomizeNotApplied } from "./kustomize-not-applied.js";
import { requiresDeprecated } from "./requires-deprecated.js";
import type { Rule, RuleMeta } from "./rule.js";
import { skippedFile } from "./skipped-file.js";
import { templatedFile } from "./templated-file.js";
import { toFqdnsWithoutDnsRule } from "./to-fqdns-without-dns-rule.js";
import { toServicesSelectorBacked } from "./to-services-selector-backed.js";
import { toServicesWithToPorts } from "./to-services-with-to-ports.js";
import { caveatedByUnappliedPatches } from "./unapplied-patches.js";
import { uncheckedVariables } from "./unchecked-variables.js";
import { unknownField } from "./unknown-field.js";

const POLICY_AND_FILE_RULES: readonly Rule[] = [
  toServicesWithToPorts,
  toServicesSelectorBacked,
  combinedPeerTypes,
  endpointsMissingNamespace,
  toFqdnsWithoutDnsRule,
  requiresDeprecated,
  invalidPort,
  invalidL7Rules,
  icmpsWithToPorts,
  invalidSubjectSelector,
  invalidSelector,
  unknownField,
  uncheckedVariables,
  invalidYaml,
  kustomizeNotApplied,
  templatedFile,
  skippedFile,
  chartNotRendered,
];

export const RULES: readonly Rule[] = POLICY_AND_FILE_RULES.map((rule) =>
  rule.scope === "policy" ? caveatedByUnappliedPatches(rule) : rule,
);

/** Not a rule: the engine's own report that something went wrong inside it for one file. */
export const INTERNAL_ERROR: RuleMeta = {
  id: "internal-error",
  defaultSeverity: "error",
  description: "The analysis of this file failed unexpectedly; the rest of the repository was still scanned.",
  fixable: false,
};

/** Every id a finding can carry: the rules' and the engine's own. */
export const RULE_IDS: readonly string[] = [...RULES.map((rule) => rule.meta.id), INTERNAL_ERROR.id];
