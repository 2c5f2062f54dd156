// A policy an unapplied kustomize patch may change in every rendering: its errors are caveated warnings.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readSourceFiles } from "../../../src/cli/files.js";
import { textOf } from "../../helpers/sources.js";
import { resolveConfig } from "../../../src/policy/config.js";
import { analyse } from "../../../src/policy/api.js";
import { sources } from "../../helpers/sources.js";
import { findings } from "./scan.js";

const SHAPE = fileURLToPath(new URL("../../fixtures/real-shapes/overlay-patch", import.meta.url));
const RULE = "to-services-with-to-ports";

const filesUnder = (dir: string): Record<string, string> =>
  Object.fromEntries(readSourceFiles(dir).map((file) => [file.path, textOf(file)]));

describe("findings on a policy that kustomize patches this scan does not apply may change", () => {
  it("are warnings naming the kustomization to check, for the patched policy only", async () => {
    const found = await findings(RULE, filesUnder(SHAPE));
    expect(found.map((f) => [f.policy, f.line, f.severity])).toEqual([
      ["shop/web-egress", 10, "warning"],
      ["shop/worker-egress", 27, "error"],
    ]);
    expect(found[0]?.message).toContain(
      "overlays/prod/kustomization.yaml: patches, not applied by this scan, may change CiliumNetworkPolicy web-egress",
    );
    expect(found[0]?.message).toContain("kubectl kustomize");
    expect(found[1]?.message).not.toContain("not applied by this scan");
  });

  it("stay errors when another rendering deploys the policy unpatched", async () => {
    const files = {
      ...filesUnder(SHAPE),
      "overlays/dev/kustomization.yaml": "resources:\n  - ../../base\nnamespace: dev\n",
    };
    const found = await findings(RULE, files);
    expect(found.filter((f) => f.policy?.endsWith("/web-egress")).map((f) => f.severity)).toEqual(["error"]);
  });

  const withPatch = (patch: string) => {
    const files = filesUnder(SHAPE);
    const kustomization = files["overlays/prod/kustomization.yaml"]!;
    files["overlays/prod/kustomization.yaml"] = kustomization.slice(0, kustomization.indexOf("patches:")) + patch;
    return files;
  };
  const webSeverity = async (patch: string) =>
    (await findings(RULE, withPatch(patch))).filter((f) => f.policy === "shop/web-egress").map((f) => f.severity);

  const target = "  - target: {kind: CiliumNetworkPolicy, name: web-egress}\n";
  /** A JSON patch of web-egress, its operations as JSON. */
  const json = (operations: string) => `patches:\n${target}    patch: '${operations}'\n`;
  /** A strategic merge patch of web-egress, its lines below the object's name (indented by 2). */
  const merge = (...lines: string[]) =>
    [
      "patches:",
      target.trimEnd(),
      "    patch: |-",
      "      apiVersion: cilium.io/v2",
      "      kind: CiliumNetworkPolicy",
      "      metadata: {name: web-egress}",
      ...lines.map((line) => `      ${line}`),
      "",
    ].join("\n");

  it("stay errors when what the patch says it changes is elsewhere than the rule", async () => {
    expect(await webSeverity(json('[{"op": "add", "path": "/metadata/labels", "value": {"tier": "web"}}]'))).toEqual([
      "error",
    ]);
    expect(await webSeverity(merge("spec: {description: patched}"))).toEqual(["error"]);
    // Inserting a rule before it moves it along, unchanged.
    expect(
      await webSeverity(json('[{"op": "add", "path": "/spec/egress/0", "value": {"toEntities": ["host"]}}]')),
    ).toEqual(["error"]);
  });

  it("are warnings when the patch replaces the rule's list, or its content cannot be followed", async () => {
    expect(await webSeverity(merge("spec:", "  egress:", "    - toEntities: [kube-apiserver]"))).toEqual(["warning"]);
    const shifting =
      '[{"op": "add", "path": "/spec/egress/0", "value": {}}, {"op": "remove", "path": "/spec/egress/1"}]';
    expect(await webSeverity(json(shifting))).toEqual(["warning"]);
    expect(await webSeverity(merge("$patch: delete"))).toEqual(["warning"]);
  });

  it("a patch file's partial policy: nothing on what its target provides, caveated warnings on the rules it writes", async () => {
    const files = withPatch("patches:\n  - path: policy-patch.yaml\n");
    files["overlays/prod/policy-patch.yaml"] = [
      "apiVersion: cilium.io/v2",
      "kind: CiliumNetworkPolicy",
      "metadata: {name: web-egress}",
      "spec:",
      "  egress:",
      "    - toServices: [{k8sService: {serviceName: api, namespace: shop}}]",
      '      toPorts: [{ports: [{port: "8080", protocol: TCP}]}]',
      "",
    ].join("\n");
    const analysis = await analyse(sources(files), { config: resolveConfig({}) });
    const onPatch = analysis.findings.filter((f) => f.file === "overlays/prod/policy-patch.yaml");
    expect(onPatch.map((f) => [f.ruleId, f.line, f.severity])).toEqual([["to-services-with-to-ports", 6, "warning"]]);
    expect(onPatch[0]?.message).toContain("this file is a patch or input of overlays/prod/kustomization.yaml");
  });

  it("leave the kustomization's own note as it was", async () => {
    const notes = await findings("kustomize-not-applied", filesUnder(SHAPE));
    expect(notes.map((f) => [f.file, f.message])).toEqual([
      [
        "overlays/prod/kustomization.yaml",
        "kustomize: not applied here: patches; Services and workloads it renders are checked as far as it was followed: verify.",
      ],
    ]);
  });
});

describe("findings on a policy file that the kustomization beside it does not list", () => {
  const UNLISTED = fileURLToPath(new URL("../../fixtures/real-shapes/unlisted", import.meta.url));

  it("are warnings saying that kustomize never applies it", async () => {
    const found = await findings(RULE, filesUnder(UNLISTED));
    expect(found.map((f) => [f.file, f.line, f.severity])).toEqual([
      ["network/traefik/networkpolicy.yaml", 11, "warning"],
    ]);
    expect(found[0]?.message).toContain(
      "no kustomization includes this file, though network/traefik/kustomization.yaml lists the resources of its directory",
    );
  });

  it("are errors again once the kustomization lists it", async () => {
    const files = filesUnder(UNLISTED);
    files["network/traefik/kustomization.yaml"] += "  - ./networkpolicy.yaml\n";
    expect((await findings(RULE, files)).map((f) => f.severity)).toEqual(["error"]);
  });
});
