// Manifest-named files the engine declined to read: say why, so a policy hidden in one is not silently missed. A
// file that holds a policy, or might, and was not checked is never a quiet success: an error when it is known to hold
// one, a warning when its content was not read at all.
import { MAX_FILE_BYTES, MAX_POLICY_FILE_BYTES } from "../read/manifests.js";
import type { SkipReason } from "../read/manifests.js";
import type { Severity } from "../types.js";
import type { FileRule } from "./rule.js";

const MIB = 1024 * 1024;

const WHY: Record<SkipReason, { readonly severity: Severity; readonly message: (size: number) => string }> = {
  "too-large": {
    severity: "info",
    message: (size) =>
      size > MAX_FILE_BYTES
        ? `File not read: it is ${size} bytes, over the ${MAX_FILE_BYTES / MIB} MiB limit, and holds no Cilium policy.`
        : `File not read: it is past the memory budget of the run, which read other files first; it holds no Cilium policy.`,
  },
  "too-large-policy": {
    severity: "error",
    message: (size) =>
      size > MAX_POLICY_FILE_BYTES
        ? `Cilium policy could not be checked: the file is ${size} bytes, over the ${MAX_POLICY_FILE_BYTES / MIB} MiB read for policy files; split it.`
        : `Cilium policy could not be checked: the file (${size} bytes) is past the memory budget of the run, which read other files first; check it with \`cilium-policy-bot scan\` on a checkout.`,
  },
  "not-read": {
    severity: "warning",
    message: (size) =>
      `File could not be checked: its ${size} bytes were not read (over the ${MAX_POLICY_FILE_BYTES / MIB} MiB read per file, or past the memory budget of the run); any Cilium policy in it is unchecked.`,
  },
  binary: {
    severity: "info",
    message: () => "File not read: it looks binary (it contains NUL bytes); remove it or give it a non-YAML extension.",
  },
  "not-utf8": {
    severity: "info",
    message: () => "File not read: it is not valid UTF-8; re-encode it as UTF-8 so its policies can be checked.",
  },
};

export const skippedFile: FileRule = {
  meta: {
    id: "skipped-file",
    defaultSeverity: "info",
    description:
      "A YAML file was not read: larger than 1 MiB without a policy, binary, not UTF-8, or (warning, error) a file that holds or may hold a Cilium policy and could not be checked.",
    fixable: false,
  },
  scope: "file",
  check(context) {
    const { skipped, size } = context.file;
    if (!skipped) return;
    const why = WHY[skipped];
    context.report({ at: { line: 1, column: 1 }, severity: why.severity, message: why.message(size) });
  },
};
