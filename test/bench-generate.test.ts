import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { Ajv } from "ajv";
import { appName, hasToServicesWithToPorts, repositoryFiles, writeRepository } from "../bench/generate.mjs";
import { CILIUM_SCHEMAS_DIR, hasShared } from "./helpers/external.js";

const APPS = 12;
const files = [...repositoryFiles(APPS)];

function objectsOf(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((document) => {
    expect(document.errors).toEqual([]);
    return document.toJS() as Record<string, unknown>;
  });
}

interface Rule {
  toServices?: unknown[];
  toEndpoints?: unknown[];
  toPorts?: unknown[];
}

describe("bench repository generator", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("writes one kustomize folder per app: kustomization, Deployment, Service, CiliumNetworkPolicy", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-gen-test-"));
    dirs.push(dir);
    const written = writeRepository(dir, APPS);
    expect(written.files).toBe(APPS * 4);
    expect(readdirSync(join(dir, "apps")).sort()).toEqual(Array.from({ length: APPS }, (_, i) => appName(i)));
    for (let i = 0; i < APPS; i++) {
      const folder = join(dir, "apps", appName(i));
      expect(readdirSync(folder).sort()).toEqual([
        "deployment.yaml",
        "kustomization.yaml",
        "networkpolicy.yaml",
        "service.yaml",
      ]);
      const kinds = ["kustomization", "deployment", "service", "networkpolicy"].map(
        (name) => objectsOf(readFileSync(join(folder, `${name}.yaml`), "utf8"))[0]?.kind,
      );
      expect(kinds).toEqual(["Kustomization", "Deployment", "Service", "CiliumNetworkPolicy"]);
    }
  });

  it("is deterministic", () => {
    expect([...repositoryFiles(APPS)]).toEqual(files);
  });

  it("gives a quarter of the policies toServices+toPorts to another app's existing Service", () => {
    const services = new Map<string, string>();
    const namespaces = new Map<string, string>();
    for (const file of files) {
      const [object] = objectsOf(file.text);
      const folder = file.path.split("/")[1] as string;
      if (object?.kind === "Kustomization") namespaces.set(folder, object.namespace as string);
      if (object?.kind === "Service") services.set(folder, (object.metadata as { name: string }).name);
    }
    let combined = 0;
    files
      .filter((file) => file.path.endsWith("networkpolicy.yaml"))
      .forEach((file, index) => {
        const [policy] = objectsOf(file.text);
        const egress = (policy?.spec as { egress: Rule[] }).egress;
        const withServices = egress.filter((rule) => rule.toServices && rule.toPorts);
        expect(withServices.length).toBe(hasToServicesWithToPorts(index) ? 1 : 0);
        for (const rule of withServices) {
          combined += 1;
          const target = (rule.toServices?.[0] as { k8sService: { serviceName: string; namespace: string } })
            .k8sService;
          expect(target.serviceName).not.toBe(appName(index));
          expect(services.get(target.serviceName)).toBe(target.serviceName);
          expect(namespaces.get(target.serviceName)).toBe(target.namespace);
        }
      });
    expect(combined).toBe(APPS / 4);
  });

  describe.skipIf(!hasShared())("against Cilium's CRD schema", () => {
    it("every generated policy validates", () => {
      const schema = JSON.parse(readFileSync(join(CILIUM_SCHEMAS_DIR, "ciliumnetworkpolicy_v2.json"), "utf8"));
      // Go RE2 `\PC` is `\P{C}` in JavaScript, with the u flag (see ../shared/cilium/schemas/SOURCE.md).
      const regExp = Object.assign(
        (pattern: string, flags: string) =>
          new RegExp(pattern.replaceAll("\\PC", "\\P{C}"), flags.includes("u") ? flags : `${flags}u`),
        { code: "new RegExp" },
      );
      const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp } });
      const validate = ajv.compile(schema);
      for (const file of files.filter((f) => f.path.endsWith("networkpolicy.yaml"))) {
        const [policy] = objectsOf(file.text);
        expect(validate(policy), JSON.stringify(validate.errors)).toBe(true);
      }
    });
  });
});
