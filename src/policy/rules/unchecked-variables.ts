// `${VAR}` a policy holds that no Flux Kustomization of the repository is known to define: the values are left
// unchecked (the rules that judge values skip them), and said once per policy so they are not silently accepted.
import { uncheckedIn } from "../render/view.js";
import { mayDefine } from "../render/flux-substitution.js";
import type { Substitution } from "../render/flux-substitution.js";
import type { PolicyRule } from "./rule.js";

function why(substitution: Substitution, variables: readonly string[]): string {
  if (substitution.from.length === 0) {
    return "no Flux Kustomization of this repository applies this file with a postBuild substitution";
  }
  const reasons: string[] = [];
  const conflicting = variables.filter((name) => substitution.conflicting?.has(name));
  if (conflicting.length > 0) {
    reasons.push(`the Flux Kustomizations applying it (${substitution.from.join(", ")}) give different values`);
  }
  if (variables.some((name) => mayDefine(substitution, name))) {
    reasons.push(`they may come from what this scan cannot read (${substitution.unknownSources.join("; ")})`);
  }
  if (reasons.length === 0) {
    reasons.push(
      `${substitution.from.join(", ")} defines none of them (Flux then substitutes an empty value, or fails in strict mode)`,
    );
  }
  return reasons.join(", and ");
}

export const uncheckedVariables: PolicyRule = {
  meta: {
    id: "unchecked-variables",
    defaultSeverity: "info",
    description:
      "The policy uses ${VAR} substitutions no Flux Kustomization of the repository is known to define: those values are not checked.",
    fixable: false,
  },
  scope: "policy",
  check(context) {
    // Only a view built with a substitution marks scalars unchecked (render/view.ts): without one, nothing to walk.
    const { substitution } = context.policy;
    if (substitution === undefined) return;
    const found = uncheckedIn(context.policy.node);
    const [first] = found;
    if (!first) return;
    const variables = [...new Set(found.flatMap((entry) => entry.variables))];
    const names = variables.map((name) => `\${${name}}`).join(", ");
    context.report({
      at: first.node,
      message: `Values using ${names} are not checked: ${why(substitution, variables)}; check them once rendered (e.g. \`flux build kustomization\`).`,
    });
  },
};
