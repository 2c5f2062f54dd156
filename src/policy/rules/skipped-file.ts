// Manifest-named files the engine declined to read: say why, so a policy hidden in one is not silently missed.
import { MAX_FILE_BYTES } from "../read/manifests.js";
import type { SkipReason } from "../read/manifests.js";
import type { FileRule } from "./rule.js";

const WHY: Record<SkipReason, (size: number) => string> = {
  "too-large": (size) =>
    `File not read: it is ${size} bytes, over the ${MAX_FILE_BYTES / (1024 * 1024)} MiB limit; split it if it holds Cilium policies.`,
  binary: () => "File not read: it looks binary (it contains NUL bytes); remove it or give it a non-YAML extension.",
  "not-utf8": () => "File not read: it is not valid UTF-8; re-encode it as UTF-8 so its policies can be checked.",
};

export const skippedFile: FileRule = {
  meta: {
    id: "skipped-file",
    defaultSeverity: "info",
    description: "A YAML file was not read: larger than 1 MiB, binary, or not UTF-8.",
    fixable: false,
  },
  scope: "file",
  check(context) {
    const { skipped, size } = context.file;
    if (skipped) context.report({ at: { line: 1, column: 1 }, message: WHY[skipped](size) });
  },
};
