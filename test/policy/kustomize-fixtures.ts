// Loads a fixture directory under test/fixtures/kustomize into parsed files, paths relative to the case directory.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseManifestFile } from "../../src/policy/read/manifests.js";
import type { ParsedFile } from "../../src/policy/read/manifests.js";
import { PROJECT_ROOT } from "../helpers/external.js";
import { source } from "../helpers/sources.js";

export const KUSTOMIZE_FIXTURES = resolve(PROJECT_ROOT, "test/fixtures/kustomize");

export const KUSTOMIZE_CASES = readdirSync(KUSTOMIZE_FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

export function loadCase(name: string): ParsedFile[] {
  const dir = join(KUSTOMIZE_FIXTURES, name);
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const full = join(entry.parentPath, entry.name);
      const path = full
        .slice(dir.length + 1)
        .split("\\")
        .join("/");
      return parseManifestFile(source(path, readFileSync(full)));
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}
