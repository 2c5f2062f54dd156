// A policy the cluster may not receive as written: a kustomize field this engine does not apply (patches,
// replacements, transformers) may change it in every rendering of it, or no kustomization includes it though one
// beside it lists its directory's resources. Such a finding is not an error this scan can vouch for: it says so and
// is a warning, pointing at the kustomization to check.
import type { PolicyRule, Report } from "./rule.js";

/** `rule`, whose error reports on a policy that unapplied kustomize fields may change become caveated warnings. */
export function caveatedByUnappliedPatches(rule: PolicyRule): PolicyRule {
  return {
    ...rule,
    check(context) {
      const unapplied = context.lookups.unappliedOn(context.policy.manifest);
      if (unapplied.length === 0) return rule.check(context);
      const why = unapplied.map((note) => note.message).join("; ");
      const report = (original: Report): void => {
        const severity = original.severity ?? rule.meta.defaultSeverity;
        if (severity !== "error") return context.report(original);
        context.report({
          ...original,
          severity: "warning",
          message:
            `${original.message} Not checked as the cluster receives it: ${why}, so this may not reach the ` +
            "cluster as written; check what `kubectl kustomize` renders.",
        });
      };
      // Everything else is the engine's context itself, its methods called on it.
      const caveated = new Proxy(context, {
        get(target, key) {
          if (key === "report") return report;
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      return rule.check(caveated);
    },
  };
}
