// No import cycle in src/: every module-to-module import, read with the TypeScript parser, forms a graph without
// cycles. Type-only imports (`import type`, `export type`) count: the compiler erases them, but two modules that need
// each other's types are still one concept split in two, and the shared type belongs in one place both import.
// Dynamic `import()` counts too: loading a module lazily does not make the dependency go away.
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { typeScriptFilesUnder } from "./helpers/source-tree.js";
import { PROJECT_ROOT } from "./helpers/external.js";

const SRC = join(PROJECT_ROOT, "src");

/** The relative module specifiers `source` imports, statically (type-only included) or with `import()`. */
function specifiersOf(source: ts.SourceFile): string[] {
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) specifiers.push(argument.text);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal))
        specifiers.push(argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.filter((specifier) => specifier.startsWith("."));
}

/** Each module's imports of other modules of src/. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
    graph.set(
      file,
      specifiersOf(source).map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, ".ts"))),
    );
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

  it("counts type-only imports, re-exports and import() as edges (the check can fail on each)", () => {
    const source = ts.createSourceFile(
      "a.ts",
      [
        'import type { B } from "./b.js";',
        'export type { C } from "./c.js";',
        'import { d } from "./d.js";',
        'const e = () => import("./e.js");',
        'type F = typeof import("./f.js");',
        'import { g } from "node:g";',
      ].join("\n"),
      ts.ScriptTarget.Latest,
    );
    expect(specifiersOf(source)).toEqual(["./b.js", "./c.js", "./d.js", "./e.js", "./f.js"]);
  });

  it("form no cycle", () => {
    const files = typeScriptFilesUnder(SRC);
    expect(files.length).toBeGreaterThan(50);
    const graph = importGraph(files);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
    const cycles = cyclesOf(graph).map((cycle) => cycle.map((file) => relative(SRC, file)).join(" ↔ "));
    expect(cycles).toEqual([]);
  });
});
