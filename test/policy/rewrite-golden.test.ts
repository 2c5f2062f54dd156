// Golden files: test/fixtures/rewrite/<case>/input.yaml → expected.yaml, byte for byte, with the Services the case
// resolves to given in services.yaml (the resolver is a test double here: resolution itself is tested elsewhere).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/policy/config.js";
import { analyse } from "../../src/policy/api.js";
import { fixOf } from "../helpers/analysis.js";
import type { ServiceResolver } from "../../src/policy/plan/fix.js";
import type { ResolvedService } from "../../src/policy/resolve/resolve.js";
import { PROJECT_ROOT, hasShared } from "../helpers/external.js";
import { schemaErrors } from "../helpers/schema.js";
import { source } from "../helpers/sources.js";

const CASES_DIR = join(PROJECT_ROOT, "test/fixtures/rewrite");
const decode = (bytes: Uint8Array) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);

interface CaseSpec {
  config?: Record<string, unknown>;
  services?: Record<string, Array<Omit<ResolvedService, "service" | "name" | "namespace"> & { namespace?: string }>>;
  /** Expected status of every rule the fix looked at, in order. */
  statuses: string[];
  /** Expected resolution of every service, in order. */
  resolutions?: string[];
}

function loadCase(name: string) {
  const dir = join(CASES_DIR, name);
  const spec = parse(readFileSync(join(dir, "services.yaml"), "utf8")) as CaseSpec;
  return {
    input: readFileSync(join(dir, "input.yaml")),
    expected: readFileSync(join(dir, "expected.yaml")),
    spec,
  };
}

/** Looks entries up in the case's services.yaml: k8sService by "namespace/name", k8sServiceSelector by "selector:k=v". */
export function tableResolver(table: CaseSpec["services"] = {}): ServiceResolver {
  return (entry, { policy }) => {
    const e = entry as {
      k8sService?: { serviceName: string; namespace?: string };
      k8sServiceSelector?: { selector: { matchLabels?: Record<string, string> }; namespace?: string };
    };
    let key: string;
    if (e.k8sService) key = `${e.k8sService.namespace ?? policy.namespace ?? ""}/${e.k8sService.serviceName}`;
    else {
      const labels = e.k8sServiceSelector?.selector.matchLabels ?? {};
      key = `selector:${Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")}`;
    }
    const found = table[key];
    const [namespace, name] = key.includes("/") ? (key.split("/") as [string, string]) : [undefined, key];
    if (!found) {
      return [{ service: key, name: name, namespace, resolution: "manual", ports: [], note: "not in services.yaml" }];
    }
    return found.map((s) => ({
      service: s.namespace ? `${s.namespace}/${name}` : key,
      name,
      ...s,
      namespace: s.namespace ?? namespace,
    }));
  };
}

// Cases with a services.yaml; repo-* cases (a whole repository, the real resolver) are rewrite-repo.test.ts's.
const cases = readdirSync(CASES_DIR)
  .filter((name) => existsSync(join(CASES_DIR, name, "services.yaml")))
  .sort();
const sharedPresent = hasShared();

describe("rewrite golden files", () => {
  it("has the case classes the issue lists", () => {
    expect(cases.length).toBeGreaterThanOrEqual(18);
  });

  describe.each(cases)("%s", (name) => {
    const { input, expected, spec } = loadCase(name);
    const config = resolveConfig(spec.config ?? {});
    const resolve = tableResolver(spec.services);

    it("rewrites input.yaml into expected.yaml byte for byte", async () => {
      const result = await fixOf([source("input.yaml", input)], { config, resolve });
      const after = result.changes[0]?.after ?? decode(input);
      expect(after).toBe(decode(expected));
      expect(result.rewrites.map((r) => r.status)).toEqual(spec.statuses);
      if (spec.resolutions) {
        expect(result.rewrites.flatMap((r) => r.services.map((s) => s.resolution))).toEqual(spec.resolutions);
      }
    });

    it("is idempotent: fixing expected.yaml changes nothing", async () => {
      const result = await fixOf([source("input.yaml", expected)], { config, resolve });
      expect(result.changes).toEqual([]);
      const manual = spec.statuses.filter((s) => s === "manual").length;
      expect(result.rewrites.filter((r) => r.status === "manual")).toHaveLength(manual);
      expect(result.rewrites.filter((r) => r.status !== "manual")).toEqual([]);
    });

    it("leaves nothing for scan's to-services-with-to-ports but the manual rules", async () => {
      const findings = (await analyse([source("input.yaml", expected)], { config })).findings.filter(
        (finding) => finding.ruleId === "to-services-with-to-ports",
      );
      const before = (await analyse([source("input.yaml", input)], { config })).findings.filter(
        (finding) => finding.ruleId === "to-services-with-to-ports",
      );
      const manualWithPorts = (await fixOf([source("input.yaml", input)], { config, resolve })).rewrites.filter(
        (r) => r.status === "manual",
      ).length;
      expect(findings).toHaveLength(manualWithPorts);
      if (name !== "no-toports-below-1.17" && name !== "no-toports-1.17") expect(before.length).toBeGreaterThan(0);
    });

    it.skipIf(!sharedPresent)("expected.yaml validates against Cilium's CRD schema", () => {
      const text = decode(expected).replace(/^\uFEFF/, "");
      for (const document of parseAllDocuments(text)) {
        const value = document.toJS() as Record<string, unknown> | null;
        if (!value || !String(value.kind).startsWith("Cilium")) continue;
        expect(schemaErrors(value)).toEqual([]);
      }
    });
  });
});
