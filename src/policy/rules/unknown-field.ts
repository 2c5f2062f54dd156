// A field Cilium's CRD schema does not have at its place (`toPort`, `matchLabel`, `rules` in a deny rule). The API
// server refuses the policy for it under strict field validation (kubectl's default, server-side apply) and drops
// the field otherwise: then Cilium loads the policy without what the field said, a restriction or a selection gone.
import { isMap, isScalar, isSeq } from "yaml";
import type { Pair } from "yaml";
import { EGRESS_DENY_RULE, EGRESS_RULE, INGRESS_DENY_RULE, INGRESS_RULE, POLICY } from "./policy-fields.js";
import type { FieldShape } from "./policy-fields.js";
import type { PolicyRule, Report } from "./rule.js";

type ObjectShape = Extract<FieldShape, { kind: "object" }>;

/** Where a deny rule's shape differs from the allow rule's: a field only allow rules have explains itself. */
function allowCounterpart(shape: FieldShape): FieldShape | undefined {
  if (shape === EGRESS_DENY_RULE) return EGRESS_RULE;
  if (shape === INGRESS_DENY_RULE) return INGRESS_RULE;
  return undefined;
}

/** Whether two names are one edit apart (a character added, dropped, changed or two swapped). */
function oneEditApart(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1 || a === b) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  const [longer, shorter] = a.length > b.length ? [a, b] : [b, a];
  return longer.slice(i + 1) === shorter.slice(i);
}

/** The known field a name looks like a slip of: another case, one edit, or a singular for a plural ("toEntity"). */
function lookalike(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const plural = lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : undefined;
  return known.find((field) => {
    const candidate = field.toLowerCase();
    return candidate === lower || candidate === plural || oneEditApart(candidate, lower);
  });
}

/** Where a node is, as a chain to the root: spelt out only for a report (most policies have none). */
interface Place {
  readonly parent: Place | undefined;
  readonly step: string | number;
}

/** A place as people write it: spec.egress[0].toPorts[1]. */
function pathText(place: Place): string {
  const steps: (string | number)[] = [];
  for (let at: Place | undefined = place; at !== undefined; at = at.parent) steps.unshift(at.step);
  return steps.map((step, i) => (typeof step === "number" ? `[${step}]` : i === 0 ? step : `.${step}`)).join("");
}

function reportFor(pair: Pair, name: string, shape: ObjectShape, allowOnly: boolean, place: Place | undefined): Report {
  const where = place === undefined ? "the policy" : `\`${pathText(place)}\``;
  const consequence =
    "the API server refuses the policy for it under strict field validation (kubectl's default, server-side apply) and drops it otherwise, so Cilium never applies what it says";
  if (allowOnly) {
    return {
      at: pair,
      severity: "warning",
      message: `\`${name}\` is a field of allow rules, not of deny rules like ${where}: ${consequence}; deny by peers and ports only, or move it to an allow rule.`,
    };
  }
  const meant = lookalike(name, Object.keys(shape.fields));
  if (meant !== undefined) {
    return {
      at: pair,
      message: `\`${name}\` is not a field of ${where}; did you mean \`${meant}\`? ${capitalised(consequence)}.`,
    };
  }
  return {
    at: pair,
    severity: "warning",
    message: `\`${name}\` is not a field of ${where} in the Cilium schema this tool knows (a newer Cilium may have it): ${consequence}. Its fields: ${Object.keys(shape.fields).join(", ")}.`,
  };
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The field `name` of a shape, if it has one. */
function fieldOf(shape: FieldShape | undefined, name: string): FieldShape | undefined {
  return shape?.kind === "object" && Object.hasOwn(shape.fields, name) ? shape.fields[name] : undefined;
}

/**
 * Reports the unknown fields of `node`, read as `shape`, at `place`. Inside a deny rule, `allow` is the same place in
 * an allow rule: a field only allow rules have is said to be one.
 */
function check(
  node: unknown,
  shape: FieldShape,
  allow: FieldShape | undefined,
  place: Place | undefined,
  report: (report: Report) => void,
): void {
  if (shape.kind === "scalar" || shape.kind === "labels") return;
  const counterpart = allowCounterpart(shape) ?? allow;
  if (shape.kind === "list") {
    if (!isSeq(node)) return;
    const items = counterpart?.kind === "list" ? counterpart.items : undefined;
    for (let i = 0; i < node.items.length; i++) {
      check(node.items[i], shape.items, items, { parent: place, step: i }, report);
    }
    return;
  }
  if (!isMap(node)) return;
  for (const pair of node.items) {
    if (!isScalar(pair.key) || typeof pair.key.value !== "string") continue;
    const name = pair.key.value;
    // A key holding a Flux variable is whatever the cluster substitutes, and `$patch`, `$retainKeys`, … are
    // kustomize's strategic-merge directives in a patch file: neither is this tool's to name.
    if (name.includes("${") || name.startsWith("$")) continue;
    const field = fieldOf(shape, name);
    if (field === undefined) report(reportFor(pair, name, shape, fieldOf(counterpart, name) !== undefined, place));
    else if (field.kind !== "scalar" && field.kind !== "labels") {
      check(pair.value, field, fieldOf(counterpart, name), { parent: place, step: name }, report);
    }
  }
}

export const unknownField: PolicyRule = {
  meta: {
    id: "unknown-field",
    defaultSeverity: "error",
    description:
      "A policy has a field Cilium's schema does not have there (a misspelt toPorts, matchLabels, …): the API server refuses the policy or drops the field.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    check(context.policy.node, POLICY, undefined, undefined, (report) => context.report(report));
  },
};
