// The project's own TypeScript sources, for tests that read the code itself (import cycles, module state, wording).
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** Every `.ts` file under `dir`, recursively. */
export function typeScriptFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typeScriptFilesUnder(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}
