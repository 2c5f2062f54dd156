// A policy an unapplied kustomize patch may change in every rendering: its errors are caveated warnings.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readSourceFiles } from "../../../src/cli/files.js";
import { textOf } from "../../helpers/sources.js";
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
