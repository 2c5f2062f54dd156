// YAML the parser could not read: the documents it hits are not checked at all, so say so at the line.
import type { FileRule } from "./rule.js";

export const invalidYaml: FileRule = {
  meta: {
    id: "invalid-yaml",
    defaultSeverity: "error",
    description: "The file is not valid YAML (or expands too many aliases); the documents it affects were not checked.",
    fixable: false,
  },
  scope: "file",
  check(context) {
    for (const problem of context.file.problems) {
      context.report({
        at: problem.position,
        message: `Invalid YAML: ${problem.message.replace(/\.$/, "")}; this document was not checked, fix it so kubectl and this scan can read it.`,
      });
    }
  },
};
