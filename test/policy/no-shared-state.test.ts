// The engine holds no state between analyses: nothing mutable at module scope in src/policy (read with the
// TypeScript parser), and two analyses of different repositories, run interleaved, each see only their own
// Services, workloads and kustomize notes. Per-repository lookups live with the analysis (index/lookups.ts) and the
// views of a document with its reader (read/policy.ts), not in module-level caches.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { analyse, resolveConfig } from "../../src/policy/api.js";
import type { Analysis, ChartRelease, ChartRender, ChartRenderer } from "../../src/policy/api.js";
import { typeScriptFilesUnder } from "../helpers/source-tree.js";
import { PROJECT_ROOT } from "../helpers/external.js";
import { sources } from "../helpers/sources.js";

const POLICY_SRC = join(PROJECT_ROOT, "src/policy");

const MUTABLE_CONSTRUCTORS = new Set(["Map", "Set", "WeakMap", "WeakSet", "Array"]);

/** A declared type that forbids mutation: ReadonlyMap, ReadonlySet, ReadonlyArray, `readonly T[]`, Readonly<…>. */
function isReadonlyType(type: ts.TypeNode | undefined): boolean {
  if (!type) return false;
  if (ts.isTypeOperatorNode(type)) return type.operator === ts.SyntaxKind.ReadonlyKeyword;
  if (ts.isTypeReferenceNode(type)) return /^Readonly/.test(type.typeName.getText());
  return false;
}

function isAsConst(expression: ts.Expression): boolean {
  return (
    ts.isAsExpression(expression) &&
    ts.isTypeReferenceNode(expression.type) &&
    expression.type.typeName.getText() === "const"
  );
}

/** The module-level declarations of a file whose value can change: `let`/`var`, and mutable collections. */
function moduleStateOf(file: string, text = readFileSync(file, "utf8")): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const list = statement.declarationList;
    const constant = (list.flags & ts.NodeFlags.Const) !== 0;
    for (const declaration of list.declarations) {
      const name = declaration.name.getText(source);
      const init = declaration.initializer;
      const line = source.getLineAndCharacterOfPosition(declaration.getStart(source)).line + 1;
      const where = `${relative(POLICY_SRC, file)}:${line} ${name}`;
      if (!constant) found.push(`${where} (let/var)`);
      else if (!init || isReadonlyType(declaration.type) || isAsConst(init)) continue;
      else if (ts.isNewExpression(init) && MUTABLE_CONSTRUCTORS.has(init.expression.getText(source))) {
        found.push(`${where} (new ${init.expression.getText(source)})`);
      } else if (ts.isArrayLiteralExpression(init)) found.push(`${where} (array)`);
    }
  }
  return found;
}

describe("module-level state in src/policy", () => {
  it("is found where there is some (the check can fail)", () => {
    const text = [
      "let counter = 0;",
      "const cache = new WeakMap<object, string>();",
      "const seen = new Set<string>();",
      'const names = ["a"];',
      'const kinds: ReadonlySet<string> = new Set(["b"]);',
      'const keys = ["c"] as const;',
      'const list: readonly string[] = ["d"];',
      "function inner() { const local = new Map(); return local; }",
    ].join("\n");
    expect(moduleStateOf(join(POLICY_SRC, "example.ts"), text)).toEqual([
      "example.ts:1 counter (let/var)",
      "example.ts:2 cache (new WeakMap)",
      "example.ts:3 seen (new Set)",
      "example.ts:4 names (array)",
    ]);
  });

  it("is none: no let, no mutable collection at module scope", () => {
    const files = typeScriptFilesUnder(POLICY_SRC);
    expect(files.length).toBeGreaterThan(40);
    expect(files.flatMap((file) => moduleStateOf(file))).toEqual([]);
  });
});

// ---- two repositories, the same paths and names, different answers ----

const policy = [
  "apiVersion: cilium.io/v2",
  "kind: CiliumNetworkPolicy",
  "metadata: {name: client, namespace: client}",
  "spec:",
  "  endpointSelector: {matchLabels: {app: client}}",
  "  egress:",
  "    - toEndpoints: [{matchLabels: {app: web}}]",
  "    - toServices: [{k8sService: {serviceName: web, namespace: shop}}]",
  "      toPorts: [{ports: [{port: '80', protocol: TCP}]}]",
  "",
].join("\n");

const deployment = (namespace: string, port: number) =>
  [
    "apiVersion: apps/v1",
    "kind: Deployment",
    `metadata: {name: web, namespace: ${namespace}}`,
    "spec:",
    "  selector: {matchLabels: {app: web}}",
    "  template:",
    "    metadata: {labels: {app: web}}",
    `    spec: {containers: [{name: web, image: web, ports: [{name: http, containerPort: ${port}}]}]}`,
    "",
  ].join("\n");

const release = [
  "apiVersion: source.toolkit.fluxcd.io/v1",
  "kind: HelmRepository",
  "metadata: {name: charts, namespace: shop}",
  "spec: {url: https://charts.example.org}",
  "---",
  "apiVersion: helm.toolkit.fluxcd.io/v2",
  "kind: HelmRelease",
  "metadata: {name: cache, namespace: shop}",
  "spec: {chart: {spec: {chart: cache, version: 1.0.0, sourceRef: {kind: HelmRepository, name: charts}}}}",
  "",
].join("\n");

/** Repository A: the web pods in namespace shop on 8080, and a kustomization with a patch it cannot apply. */
const REPO_A = {
  "client/policy.yaml": policy,
  "shop/deployment.yaml": deployment("shop", 8080),
  "shop/service.yaml":
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}\n",
  "shop/kustomization.yaml":
    "resources: [deployment.yaml, service.yaml]\npatches: [{path: patch.yaml}]\nnamespace: shop\n",
  "shop/patch.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: NodePort}\n",
  "shop/release.yaml": release,
};

/** Repository B: the same names, the web pods in namespace store on 9090, the Service selecting other pods. */
const REPO_B = {
  "client/policy.yaml": policy,
  "shop/deployment.yaml": deployment("store", 9090),
  "shop/service.yaml":
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web-b}, ports: [{port: 80, targetPort: 9090}]}\n",
  "shop/kustomization.yaml": "resources: [deployment.yaml, service.yaml]\n",
  "shop/release.yaml": release,
};

const config = resolveConfig({ ciliumVersion: "1.15" });

/** A chart renderer that answers only when told: the analysis waits inside it, between indexing and the rules. */
function gatedRenderer(): { renderer: ChartRenderer; open: () => void; asked: Promise<void> } {
  let open = () => {};
  let asked = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const askedPromise = new Promise<void>((resolve) => (asked = resolve));
  const renderer: ChartRenderer = {
    async render(releases: readonly ChartRelease[]): Promise<readonly ChartRender[]> {
      asked();
      await gate;
      return releases.map((r) => ({ key: r.key, ok: false, reason: "not rendered in this test" }));
    },
  };
  return { renderer, open, asked: askedPromise };
}

/** What an analysis says: findings and the fix plans, as data. */
const outcome = (analysis: Analysis) => JSON.parse(JSON.stringify({ f: analysis.findings, x: analysis.fixes }));

async function alone(files: Record<string, string>) {
  const { renderer, open } = gatedRenderer();
  open();
  return outcome(await analyse(sources(files), { config, charts: renderer }));
}

describe("two analyses at once", () => {
  it("each sees only its own repository's Services, workloads and kustomize notes", async () => {
    const soloA = await alone(REPO_A);
    const soloB = await alone(REPO_B);
    // The repositories answer differently: otherwise sharing could not show.
    const textA = JSON.stringify(soloA);
    const textB = JSON.stringify(soloB);
    expect(textA).toContain("defined in namespace shop");
    expect(textB).toContain("defined in namespace store");
    expect(textA).toContain('"targetPort":8080');
    expect(textB).toContain('"targetPort":9090');
    expect(textA).toContain("kustomize:");
    expect(textB).not.toContain("kustomize:");

    // A starts and waits in its renderer (index built, rules not run); B runs whole; then A goes on.
    const a = gatedRenderer();
    const b = gatedRenderer();
    const first = analyse(sources(REPO_A), { config, charts: a.renderer });
    await a.asked;
    b.open();
    const second = await analyse(sources(REPO_B), { config, charts: b.renderer });
    a.open();
    expect(outcome(await first)).toEqual(soloA);
    expect(outcome(second)).toEqual(soloB);

    // And the other way round, after both ran once.
    const c = gatedRenderer();
    const later = analyse(sources(REPO_B), { config, charts: c.renderer });
    await c.asked;
    expect(await alone(REPO_A)).toEqual(soloA);
    c.open();
    expect(outcome(await later)).toEqual(soloB);
  });
});
