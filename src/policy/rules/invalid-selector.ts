// Label selectors Cilium rejects: it validates every endpoint selector with Kubernetes' ValidateLabelSelector
// (EndpointSelector.Sanitize, invalid label values not allowed), so a bad operator, values or key fails the policy.
import { isMap, isScalar } from "yaml";
import type { Node, Pair, YAMLMap } from "yaml";
import { rulesOf } from "../read/policy.js";
import { parseSelectorKey } from "../selectors.js";
import type { PolicyRule, PolicyRuleContext } from "./rule.js";
import { isUnchecked, mapAt, mapItems, scalarAt, seqItems, uncheckedAt } from "./yaml-access.js";

/** Every key holding label selectors, per place. */
const SPEC_SELECTORS = ["endpointSelector", "nodeSelector"] as const;
const RULE_SELECTOR_LISTS: readonly string[] = [
  "toEndpoints",
  "fromEndpoints",
  "toRequires",
  "fromRequires",
  "toNodes",
  "fromNodes",
];
const OPERATORS: readonly string[] = ["In", "NotIn", "Exists", "DoesNotExist"];

/** Kubernetes label value: empty, or up to 63 alphanumerics with '-', '_', '.' inside. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key (source prefix removed) is not a Kubernetes qualified name, or undefined when it is one. */
function labelKeyProblem(raw: string): string | undefined {
  const { key } = parseSelectorKey(raw);
  if (key === "") return "is empty";
  // Cilium-derived keys (namespace labels, service account…) follow Cilium's own syntax: not judged here.
  if (key.startsWith("io.cilium.")) return undefined;
  const slash = key.lastIndexOf("/");
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return "has a prefix that is not a DNS subdomain";
  }
  if (name.length > 63 || !NAME_PART.test(name)) {
    return "is not a label name (up to 63 letters, digits, '-', '_' and '.', starting and ending alphanumeric)";
  }
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  return value.length <= 63 && LABEL_VALUE.test(value)
    ? undefined
    : "is not a label value (up to 63 letters, digits, '-', '_' and '.', starting and ending alphanumeric)";
}

function keyText(pair: Pair): string | undefined {
  return isScalar(pair.key) && pair.key.value !== null && typeof pair.key.value !== "object"
    ? String(pair.key.value)
    : undefined;
}

function checkSelector(context: PolicyRuleContext, selector: YAMLMap, where: string): void {
  const report = (at: Node | Pair, problem: string) =>
    context.report({
      at,
      message: `In ${where}, ${problem}, and Cilium rejects the whole policy ("invalid label selector"); fix the selector.`,
    });
  const matchLabels = mapAt(selector, "matchLabels");
  for (const pair of matchLabels?.items ?? []) {
    const key = keyText(pair);
    // A `${VAR}` nothing defines: not judged (unchecked-variables says so).
    if (key === undefined || isUnchecked(pair.key)) continue;
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) {
      report(pair, `label key "${key}" ${keyProblem}`);
      continue;
    }
    const value = isScalar(pair.value) && !isUnchecked(pair.value) ? pair.value.value : undefined;
    if (value === null || value === undefined || typeof value === "object") continue;
    if (typeof value !== "string") {
      // The CRD types label values as strings: `version: 2` or `enabled: true` fail at apply time.
      context.report({
        at: pair,
        message: `In ${where}, the value of ${key} is written as a ${typeof value} (${String(value)}), and the API server rejects it (label values are strings); quote it: "${String(value)}".`,
      });
      continue;
    }
    const valueProblem = labelValueProblem(value);
    if (valueProblem) report(pair, `the value "${String(value)}" of ${key} ${valueProblem}`);
  }
  for (const expression of mapItems(selector, "matchExpressions")) {
    if (uncheckedAt(expression, "key") || uncheckedAt(expression, "operator")) continue;
    const key = scalarAt(expression, "key");
    const operator = scalarAt(expression, "operator");
    const values = seqItems(expression, "values") ?? [];
    const name = typeof key === "string" ? key : "?";
    if (typeof key === "string" && labelKeyProblem(key)) {
      report(expression, `label key "${key}" ${labelKeyProblem(key)}`);
    } else if (typeof operator !== "string" || !OPERATORS.includes(operator)) {
      const spelled = OPERATORS.find((known) => known.toLowerCase() === String(operator).toLowerCase());
      context.report({
        at: expression,
        message: spelled
          ? `In ${where}, the operator "${String(operator)}" of ${name} must be written ${spelled}: the CRD schema only accepts ${OPERATORS.join(", ")}, so the API server rejects the manifest.`
          : `In ${where}, the operator ${JSON.stringify(operator ?? null)} of ${name} is not one of ${OPERATORS.join(", ")}, and Cilium rejects the whole policy ("invalid label selector"); use one of them.`,
      });
    } else if ((operator === "In" || operator === "NotIn") && values.length === 0) {
      report(expression, `the ${operator} expression on ${name} has no values`);
    } else if ((operator === "Exists" || operator === "DoesNotExist") && values.length > 0) {
      report(expression, `the ${operator} expression on ${name} must not list values`);
    } else {
      for (const value of values) {
        const text = isScalar(value) && !isUnchecked(value) ? value.value : undefined;
        if (text === null || text === undefined || typeof text === "object") continue;
        const problem = labelValueProblem(String(text));
        if (problem) report(value, `the value "${String(text)}" of ${name} ${problem}`);
      }
    }
  }
}

export const invalidSelector: PolicyRule = {
  meta: {
    id: "invalid-selector",
    defaultSeverity: "error",
    description:
      "A label selector Cilium rejects: an unknown operator, In/NotIn without values, Exists with values, or a bad label key or value.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    for (const spec of context.policy.specs) {
      for (const key of SPEC_SELECTORS) {
        const selector = mapAt(spec.node, key);
        if (selector) checkSelector(context, selector, key);
      }
    }
    for (const rule of rulesOf(context.policy)) {
      for (const key of RULE_SELECTOR_LISTS) {
        for (const selector of seqItems(rule.node, key) ?? []) {
          if (isMap(selector)) checkSelector(context, selector, `${rule.direction} ${key}`);
        }
      }
    }
  },
};
