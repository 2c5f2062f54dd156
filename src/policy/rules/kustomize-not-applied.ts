// What kustomize rendering met and did not follow or apply (patches, remote resources, cycles, unreadable
// kustomizations): said at the kustomization, since what the cluster receives may then differ from what was checked.
import type { FileRule } from "./rule.js";

export const kustomizeNotApplied: FileRule = {
  meta: {
    id: "kustomize-not-applied",
    defaultSeverity: "info",
    description:
      "Kustomize rendering did not apply or follow part of a kustomization (patches, replacements, remote resources, cycles, an unreadable kustomization): what it renders is checked as far as it was followed.",
    fixable: false,
  },
  scope: "file",
  check(context) {
    for (const note of new Set(context.lookups.notesOf(context.file.path).map((n) => n.message))) {
      context.report({
        at: { line: 1, column: 1 },
        message: `kustomize: ${note}; Services and workloads it renders are checked as far as it was followed: verify.`,
      });
    }
  },
};
