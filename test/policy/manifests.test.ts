import { describe, expect, it } from "vitest";
import { isMap, parseAllDocuments } from "yaml";
import { MAX_FILE_BYTES, MAX_NESTING_DEPTH, parseManifestFile, positionOf } from "../../src/policy/read/manifests.js";
import { source } from "../helpers/sources.js";

describe("parseManifestFile", () => {
  it("reads every document and List item with its position", () => {
    const file = parseManifestFile(
      source(
        "a.yaml",
        [
          "apiVersion: v1",
          "kind: Service",
          "metadata: {name: db, namespace: data}",
          "---",
          "apiVersion: v1",
          "kind: List",
          "items:",
          "  - apiVersion: cilium.io/v2",
          "    kind: CiliumNetworkPolicy",
          "    metadata:",
          "      name: p",
          "",
        ].join("\n"),
      ),
    );
    expect(file.problems).toEqual([]);
    expect(file.manifests.map((m) => [m.kind, m.name, m.namespace, m.location.line, m.location.column])).toEqual([
      ["Service", "db", "data", 1, 1],
      ["CiliumNetworkPolicy", "p", undefined, 8, 5],
    ]);
    expect(positionOf(file, file.manifests[1]!.node.get("metadata", true) as never)).toEqual({ line: 11, column: 7 });
  });

  it("keeps positions right after a byte-order mark", () => {
    const file = parseManifestFile(source("bom.yaml", "\uFEFFapiVersion: v1\nkind: Service\nmetadata: {name: x}\n"));
    expect(file.bom).toBe(true);
    expect(file.manifests[0]?.location).toMatchObject({ line: 1, column: 1 });
  });

  it("reports invalid YAML with its line and keeps the valid documents", () => {
    const file = parseManifestFile(
      source("bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n---\nkey: [unclosed\n"),
    );
    expect(file.manifests).toHaveLength(1);
    expect(file.problems[0]?.position.line).toBeGreaterThanOrEqual(5);
  });

  it("bounds alias bombs", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      ...Array.from({ length: 9 }, (_, i) => {
        const prev = i === 0 ? "a" : `l${i - 1}`;
        return `l${i}: &l${i} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
      }),
      "apiVersion: v1",
      "kind: ConfigMap",
    ].join("\n");
    const file = parseManifestFile(source("bomb.yaml", bomb));
    expect(file.manifests).toEqual([]);
    expect(file.problems[0]?.message).toMatch(/alias/i);
  });

  it("points an unresolved alias's problem at the alias, not at its document", () => {
    const text = [
      "---",
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata:",
      "  name: app",
      "data:",
      "  a: *app",
      "",
    ].join("\n");
    const file = parseManifestFile(source("alias.yaml", text));
    expect(file.problems).toEqual([
      {
        message: "document not read: Unresolved alias (the anchor must be set before the alias): app",
        position: { line: 7, column: 6 },
      },
    ]);
  });

  it("skips binary, non-UTF-8 and oversized files", () => {
    expect(parseManifestFile(source("b.yaml", new Uint8Array([0x61, 0, 0x62]))).skipped).toBe("binary");
    expect(parseManifestFile(source("l.yaml", new Uint8Array([0x61, 0xff, 0xfe, 0x62]))).skipped).toBe("not-utf8");
    expect(parseManifestFile({ path: "h.yaml", size: MAX_FILE_BYTES + 1, content: null }).skipped).toBe("not-read");
    expect(parseManifestFile(source("p.yaml", new Uint8Array(MAX_FILE_BYTES + 1).fill(0x61))).skipped).toBe(
      "too-large",
    );
  });

  it("reads a text the shell decoded as it reads the bytes (one copy held, not two)", () => {
    const texts = [
      "\uFEFFapiVersion: v1\nkind: Service\nmetadata: {name: x}\n",
      "a\u0000b",
      "kind: {{ .Values.kind }}\n",
    ];
    for (const text of texts) {
      const bytes = parseManifestFile(source("f.yaml", text));
      const decoded = parseManifestFile({ path: "f.yaml", size: Buffer.byteLength(text), content: text });
      for (const key of ["text", "bom", "skipped", "templated"] as const) expect(decoded[key]).toEqual(bytes[key]);
      expect(decoded.manifests.map((m) => [m.kind, m.name, m.location])).toEqual(
        bytes.manifests.map((m) => [m.kind, m.name, m.location]),
      );
    }
    expect(parseManifestFile({ path: "b.yaml", size: 3, content: "a\u0000b" }).skipped).toBe("binary");
    const large = "a".repeat(MAX_FILE_BYTES + 1);
    expect(parseManifestFile({ path: "p.yaml", size: large.length, content: large }).skipped).toBe("too-large");
  });

  it("recognises Go templates without parsing them", () => {
    const file = parseManifestFile(source("t.yaml", "kind: {{ .Values.kind }}\n"));
    expect(file.templated).toBe(true);
    expect(file.manifests).toEqual([]);
  });

  it("refuses nesting deep enough to overflow the stack, whatever the syntax", () => {
    const deep = 20_000;
    for (const text of [
      "[".repeat(deep),
      "- ".repeat(deep) + "x",
      "{a: ".repeat(deep),
      "a:\n" + "[".repeat(deep) + "]".repeat(deep),
    ]) {
      const file = parseManifestFile(source("deep.yaml", `apiVersion: v1\nkind: ConfigMap\n---\n${text}\n`));
      expect(file.problems).toHaveLength(1);
      expect(file.problems[0]?.message).toBe(`nesting deeper than ${MAX_NESTING_DEPTH} levels: the file was not read`);
      // At the start of the offending document, its `---` marker.
      expect(file.problems[0]?.position.line).toBe(3);
      expect(file.manifests).toEqual([]);
    }
  });

  it("reads nesting up to the limit", () => {
    const depth = MAX_NESTING_DEPTH - 1;
    const text = `apiVersion: v1\nkind: ConfigMap\ndata: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
    const file = parseManifestFile(source("nested.yaml", text));
    expect(file.problems).toEqual([]);
    expect(file.manifests.map((m) => m.kind)).toEqual(["ConfigMap"]);
  });

  it("composes the documents of a file without policies again on demand, the same as the first parse", () => {
    const text = [
      "apiVersion: v1",
      "kind: Service",
      "metadata: {name: db, namespace: data}",
      "---",
      "apiVersion: v1",
      "kind: List",
      "metadata: &meta {name: web}",
      "items:",
      "  - apiVersion: apps/v1",
      "    kind: Deployment",
      "    metadata: *meta",
      "",
    ].join("\n");
    const file = parseManifestFile(source("a.yaml", text));
    const expected = parseAllDocuments(text);
    expect(file.manifests.map((m) => m.kind)).toEqual(["Service", "Deployment"]);
    expect(file.documents.map((d) => d.toJS())).toEqual(expected.map((d) => d.toJS()));
    expect(file.documents.map((d) => d.contents?.range)).toEqual(expected.map((d) => d.contents?.range));
    for (const manifest of file.manifests) {
      // Alias resolution inside a node needs the node to belong to the document handed with it.
      const document = file.documents[manifest.documentIndex]!;
      expect(manifest.node).toBe(document.getIn(manifest.path, true));
      expect(isMap(manifest.node)).toBe(true);
      expect(manifest.node.toJS(document)).toEqual(manifest.value);
    }
    expect(positionOf(file, file.manifests[1]!.node)).toEqual({ line: 9, column: 5 });
  });

  it("composes documents on demand, keeps them until released, then composes equal ones again", () => {
    const text = [
      "# a comment",
      "apiVersion: v1",
      "kind: Service",
      "metadata:",
      "  name: db",
      "---",
      "apiVersion: cilium.io/v2",
      "kind: CiliumNetworkPolicy",
      "metadata:",
      "  name: p",
      "spec:",
      "  egress:",
      "    - toPorts:",
      "        - ports:",
      '            - port: "80"',
      "",
    ].join("\n");
    const file = parseManifestFile(source("p.yaml", text));
    const expected = parseAllDocuments(text);
    const observe = () => ({
      values: file.manifests.map((m) => m.value),
      nodes: file.manifests.map((m) => m.node.toJS(file.documents[m.documentIndex]!)),
      ranges: file.documents.map((d) => d.contents?.range),
      positions: file.manifests.map((m) => positionOf(file, m.node)),
    });
    const before = observe();
    expect(before.values).toEqual(expected.map((d) => d.toJS()));
    expect(before.ranges).toEqual(expected.map((d) => d.contents?.range));
    expect(before.positions).toEqual([
      { line: 2, column: 1 },
      { line: 7, column: 1 },
    ]);
    const node = file.manifests[1]!.node;
    expect(file.manifests[1]!.node).toBe(node);
    expect(node).toBe(file.documents[1]!.contents);

    file.release?.();
    expect(file.manifests[1]!.node).not.toBe(node);
    expect(observe()).toEqual(before);
  });
});
