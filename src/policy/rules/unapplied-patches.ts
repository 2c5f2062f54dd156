// A policy the cluster may not receive as written: a kustomize field this engine does not apply (patches,
// replacements, transformers) may change it in every rendering of it, or no kustomization includes it though one
// beside it lists its directory's resources. Such a finding is not an error this scan can vouch for: it says so and
// is a warning, pointing at the kustomization to check. A policy that is a patch's content is judged on the rules it
// writes only: the rest of its target is not in it.
import { isNode, isPair } from "yaml";
import { rulesOf } from "../read/policy.js";
import type { Policy } from "../read/policy.js";
import type { KustomizeNote } from "../render/kustomize.js";
import { overlaps } from "../render/patch-paths.js";
import type { ObjectPath } from "../render/patch-paths.js";
import type { PolicyRule, Report } from "./rule.js";

/** The path of the policy rule a report points into; undefined when it points at none (or at a position). */
function rulePathOf(policy: Policy, at: Report["at"]): ObjectPath | undefined {
  const node = isPair(at) ? at.key : at;
  const range = isNode(node) ? node.range : undefined;
  if (!range) return undefined;
  const rule = rulesOf(policy).find(
    (candidate) =>
      candidate.node.range !== undefined &&
      candidate.node.range !== null &&
      candidate.node.range[0] <= range[0] &&
      range[1] <= candidate.node.range[2],
  );
  return rule?.path;
}

/** Whether some rendering deploys the rule as written: none of its patches changes anything at or under it. */
function deployedAsWritten(note: KustomizeNote, path: ObjectPath | undefined): boolean {
  if (path === undefined || note.changedPaths === undefined) return false;
  return note.changedPaths.some((changed) => changed !== undefined && !changed.some((c) => overlaps(c, path)));
}

/** `rule`, whose error reports on a policy that unapplied kustomize fields may change become caveated warnings. */
export function caveatedByUnappliedPatches(rule: PolicyRule): PolicyRule {
  return {
    ...rule,
    check(context) {
      const unapplied = context.lookups.unappliedOn(context.policy.manifest);
      if (unapplied.length === 0) return rule.check(context);
      const why = unapplied.map((note) => note.message).join("; ");
      const report = (original: Report): void => {
        const path = rulePathOf(context.policy, original.at);
        // A patch's spec as a whole (what it lacks, its selectors) is its target's business: nothing to say on it.
        if (path === undefined && unapplied.some((note) => note.partial)) return;
        const severity = original.severity ?? rule.meta.defaultSeverity;
        if (severity !== "error") return context.report(original);
        if (unapplied.every((note) => deployedAsWritten(note, path))) return context.report(original);
        context.report({
          ...original,
          severity: "warning",
          message:
            `${original.message} Not checked as the cluster receives it: ${why}, so this may not reach the ` +
            "cluster as written; check the rendered output (`kubectl kustomize`, `flux build kustomization`).",
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
