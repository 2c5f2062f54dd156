// Validates policies against Cilium's CRD schemas from ../shared/cilium/schemas (see SOURCE.md there).
// Callers guard with hasShared() from external.ts: the schemas are not part of the repository.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { Ajv } from "ajv";
import type { ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { CILIUM_SCHEMAS_DIR } from "./external.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const SCHEMA_FILES: Record<string, string> = {
  CiliumNetworkPolicy: "ciliumnetworkpolicy_v2.json",
  CiliumClusterwideNetworkPolicy: "ciliumclusterwidenetworkpolicy_v2.json",
};

/** Go RE2's `\PC` ("not a control/other character") is `\P{C}` in JavaScript, with the u flag. */
function goRegExp(pattern: string, flags?: string): RegExp {
  const translated = pattern.replace(/\\PC/g, "\\P{C}");
  const withUnicode = flags?.includes("u") ? flags : `${flags ?? ""}u`;
  return new RegExp(translated, withUnicode);
}
goRegExp.code = 'new RegExp(p.replace(/\\\\PC/g, "\\\\P{C}"), "u")';

function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0 || address === undefined || prefix === undefined || !/^[0-9]{1,3}$/.test(prefix)) return false;
  const family = isIP(address);
  return family !== 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}

let validators: Map<string, ValidateFunction> | undefined;

function load(): Map<string, ValidateFunction> {
  if (validators) return validators;
  const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp: goRegExp as never } });
  addFormats(ajv);
  ajv.addFormat("cidr", { type: "string", validate: isCidr });
  ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addFormat("idn-hostname", true);
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
  validators = new Map();
  for (const [kind, file] of Object.entries(SCHEMA_FILES)) {
    const schema = JSON.parse(readFileSync(resolve(CILIUM_SCHEMAS_DIR, file), "utf8")) as object;
    validators.set(kind, ajv.compile(schema));
  }
  return validators;
}

/** Schema errors of one policy object (empty when valid); throws for a kind without a schema. */
export function schemaErrors(policy: { kind?: unknown } & Record<string, unknown>): string[] {
  const validate = load().get(String(policy.kind));
  if (!validate) throw new Error(`no schema for kind ${String(policy.kind)}`);
  if (validate(policy)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
}
