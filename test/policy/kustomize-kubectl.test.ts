// Oracle test: the repository index's kustomize rendering against `kubectl kustomize` on every fixture's top-level
// kustomizations. kubectl is optional (never required, not even under CI): without it this suite is skipped with a
// notice, and the exact-value tests in kustomize.test.ts still run.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderKustomizations } from "../../src/policy/render/kustomize.js";
import { parseManifestFile, isPolicyManifest } from "../../src/policy/read/manifests.js";
import { buildRepoIndex, indexViews } from "../../src/policy/index/repo-index.js";
import type { EndpointsInfo, ServiceInfo, WorkloadInfo } from "../../src/policy/types.js";
import { hasCommand } from "../helpers/external.js";
import { source } from "../helpers/sources.js";
import { KUSTOMIZE_CASES, KUSTOMIZE_FIXTURES, loadCase } from "./kustomize-fixtures.js";

const hasKubectl = hasCommand("kubectl", ["version", "--client"]);
if (!hasKubectl) {
  process.stderr.write("\n[notice] kubectl is not installed: skipping the kubectl kustomize comparison\n");
}

const serviceKey = (s: ServiceInfo) => ({
  name: s.name,
  namespace: s.namespace,
  labels: s.labels,
  selector: s.selector,
});
const workloadKey = (w: WorkloadInfo) => ({
  kind: w.kind,
  name: w.name,
  namespace: w.namespace,
  podLabels: w.podLabels,
});
const byJson = <T>(items: T[]): T[] => items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

function kubectlKustomize(dir: string): string {
  return execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

describe.skipIf(!hasKubectl)("kustomize rendering agrees with kubectl kustomize", () => {
  for (const name of KUSTOMIZE_CASES) {
    it(`renders ${name} as kubectl does`, () => {
      const files = loadCase(name);
      const view = renderKustomizations(files);
      const index = buildRepoIndex(files);
      const roots = [...new Set(index.services.map((s) => s.kustomization).filter((k) => k !== undefined))];
      expect(roots.length).toBeGreaterThan(0);
      for (const root of roots) {
        const output = parseManifestFile(
          source("kubectl-output.yaml", kubectlKustomize(join(KUSTOMIZE_FIXTURES, name, dirname(root)))),
        );
        expect(output.problems).toEqual([]);
        const expected = indexViews(output.manifests.map((manifest) => ({ manifest, value: manifest.value })));
        expect(byJson(index.services.filter((s) => s.kustomization === root).map(serviceKey)), root).toEqual(
          byJson(expected.services.map(serviceKey)),
        );
        expect(byJson(index.workloads.filter((w) => w.kustomization === root).map(workloadKey)), root).toEqual(
          byJson(expected.workloads.map(workloadKey)),
        );
        const endpointsKey = (e: EndpointsInfo) => ({
          service: e.serviceName,
          namespace: e.namespace,
          addresses: e.addresses,
        });
        expect(byJson(index.endpoints.filter((e) => e.kustomization === root).map(endpointsKey)), root).toEqual(
          byJson(expected.endpoints.map(endpointsKey)),
        );
        expect(byJson(index.services.filter((s) => s.kustomization === root).map((s) => s.type ?? null))).toEqual(
          byJson(expected.services.map((s) => s.type ?? null)),
        );
        const policies = files.flatMap((file) =>
          file.manifests
            .filter(isPolicyManifest)
            .flatMap((manifest) => view.renderingsOf(manifest).filter((r) => r.root === root)),
        );
        expect(byJson(policies.map((r) => ({ name: r.name, namespace: r.namespace }))), root).toEqual(
          byJson(output.manifests.filter(isPolicyManifest).map((m) => ({ name: m.name, namespace: m.namespace }))),
        );
      }
    });
  }
});
