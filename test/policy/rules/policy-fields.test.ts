// The field tree unknown-field judges by is Cilium's CRD schema (../shared/cilium/schemas), field for field.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { POLICY } from "../../../src/policy/rules/policy-fields.js";
import type { FieldShape } from "../../../src/policy/rules/policy-fields.js";
import { CILIUM_SCHEMAS_DIR, hasShared } from "../../helpers/external.js";

interface JsonSchema {
  readonly properties?: Record<string, JsonSchema>;
  readonly items?: JsonSchema;
  readonly additionalProperties?: boolean | JsonSchema;
}

/** The schema's shape as the tree spells it: fields, lists, maps of free keys, scalars. */
function shapeOf(schema: JsonSchema): FieldShape {
  if (schema.items) return { kind: "list", items: shapeOf(schema.items) };
  if (schema.properties) {
    return {
      kind: "object",
      fields: Object.fromEntries(Object.entries(schema.properties).map(([name, field]) => [name, shapeOf(field)])),
    };
  }
  if (typeof schema.additionalProperties === "object") return { kind: "labels" };
  return { kind: "scalar" };
}

describe.skipIf(!hasShared())("the policy field tree", () => {
  for (const file of ["ciliumnetworkpolicy_v2.json", "ciliumclusterwidenetworkpolicy_v2.json"]) {
    it(`is the field tree of ${file}`, () => {
      const schema = JSON.parse(readFileSync(join(CILIUM_SCHEMAS_DIR, file), "utf8")) as JsonSchema;
      const expected = shapeOf(schema);
      if (expected.kind !== "object" || POLICY.kind !== "object") throw new Error("a policy is an object");
      expect(Object.keys(POLICY.fields).sort()).toEqual(Object.keys(expected.fields).sort());
      // metadata and status are not looked into; everything else is, field for field.
      for (const name of ["spec", "specs", "apiVersion", "kind"])
        expect(POLICY.fields[name]).toEqual(expected.fields[name]);
    });
  }
});
