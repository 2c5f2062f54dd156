// The rule registry: the only place that lists rules.
import { chartNotRendered } from "./chart-not-rendered.js";
import { combinedPeerTypes } from "./combined-peer-types.js";
import { endpointsMissingNamespace } from "./endpoints-missing-namespace.js";
import { icmpsWithToPorts } from "./icmps-with-to-ports.js";
import { invalidL7Rules } from "./invalid-l7-rules.js";
import { invalidPort } from "./invalid-port.js";
import { invalidSelector } from "./invalid-selector.js";
import { invalidSubjectSelector } from "./invalid-subject-selector.js";
import { invalidYaml } from "./invalid-yaml.js";
import { requiresDeprecated } from "./requires-deprecated.js";
import type { Rule } from "./rule.js";
import { skippedFile } from "./skipped-file.js";
import { templatedFile } from "./templated-file.js";
import { toFqdnsWithoutDnsRule } from "./to-fqdns-without-dns-rule.js";
import { toServicesSelectorBacked } from "./to-services-selector-backed.js";
import { toServicesWithToPorts } from "./to-services-with-to-ports.js";
import { uncheckedVariables } from "./unchecked-variables.js";

export const RULES: readonly Rule[] = [
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
  uncheckedVariables,
  invalidYaml,
  templatedFile,
  skippedFile,
  chartNotRendered,
];
