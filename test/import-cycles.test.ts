// No import cycle in src/: the modules' static imports, read with the TypeScript parser, form a graph without cycles.
// Type-only imports (`import type`, `export type`) are left out: the compiler erases them, so they cannot make two
// modules wait for each other at run time. Dynamic `import()` is left out too: it runs after both modules loaded.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "./helpers/external.js";

const SRC = join(PROJECT_ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Each module's runtime imports of other modules of src/. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
    const imports: string[] = [];
    for (const statement of source.statements) {
      const declaration = ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement) ? statement : null;
      const specifier = declaration?.moduleSpecifier;
      if (!declaration || !specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith(".")) continue;
      const typeOnly = ts.isImportDeclaration(declaration)
        ? declaration.importClause?.isTypeOnly === true
        : declaration.isTypeOnly;
      if (!typeOnly) imports.push(resolve(dirname(file), specifier.text.replace(/\.js$/, ".ts")));
    }
    graph.set(file, imports);
  }
  return graph;
}

/** The cycles of a graph, one per strongly connected component of more than one module (or a module importing itself). */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (module: string): void => {
    index.set(module, next);
    low.set(module, next);
    next++;
    stack.push(module);
    onStack.add(module);
    for (const imported of graph.get(module) ?? []) {
      if (!graph.has(imported)) continue;
      if (!index.has(imported)) {
        visit(imported);
        low.set(module, Math.min(low.get(module)!, low.get(imported)!));
      } else if (onStack.has(imported)) {
        low.set(module, Math.min(low.get(module)!, index.get(imported)!));
      }
    }
    if (low.get(module) !== index.get(module)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== module);
    if (component.length > 1 || (graph.get(module) ?? []).includes(module)) cycles.push(component.sort());
  };
  for (const module of graph.keys()) if (!index.has(module)) visit(module);
  return cycles;
}

describe("imports of src/", () => {
  it("finds a cycle where there is one (the check can fail)", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]],
    ]);
    expect(cyclesOf(graph)).toEqual([["a.ts", "b.ts", "c.ts"]]);
    expect(cyclesOf(new Map([["a.ts", ["a.ts"]]]))).toEqual([["a.ts"]]);
  });

  it("form no cycle", () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const graph = importGraph(files);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
    const cycles = cyclesOf(graph).map((cycle) => cycle.map((file) => relative(SRC, file)).join(" ↔ "));
    expect(cycles).toEqual([]);
  });
});
