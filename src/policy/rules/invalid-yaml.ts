// YAML the parser could not read: the documents it hits are not checked at all, so say so at the line. Only files
// holding, or meant to hold, Kubernetes manifests: other YAML (Helm values, CI or linter configurations, whose own
// tools may accept duplicate keys) is not this tool's to judge, and the scan only counts it.
import { holdsKubernetesManifests } from "../read/manifests.js";
import type { FileRule } from "./rule.js";

export const invalidYaml: FileRule = {
  meta: {
    id: "invalid-yaml",
    defaultSeverity: "error",
    description:
      "A file holding (or meant to hold) Kubernetes manifests is not valid YAML (or expands too many aliases); the documents it affects were not checked.",
    fixable: false,
  },
  scope: "file",
  check(context) {
    const { file, index } = context;
    if (file.problems.length === 0 || !holdsKubernetesManifests(file, index.kustomizeFiles)) return;
    // One finding per problem: the parser may report one mistake several times on its line.
    const lines = new Set<number>();
    for (const problem of file.problems) {
      if (lines.has(problem.position.line)) continue;
      lines.add(problem.position.line);
      context.report({
        at: problem.position,
        message: `Invalid YAML: ${problem.message.replace(/\.$/, "")}; this document was not checked, fix it so kubectl and this scan can read it.`,
      });
    }
  },
};
