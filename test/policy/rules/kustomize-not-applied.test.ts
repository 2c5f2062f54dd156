import { describe, expect, it } from "vitest";
import { findings } from "./scan.js";

const RULE = "kustomize-not-applied";

describe(RULE, () => {
  it("says at the kustomization what rendering did not apply or follow", async () => {
    const found = await findings(RULE, {
      "apps/web/kustomization.yaml": [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "namespace: web",
        "resources:",
        "  - service.yaml",
        "  - https://example.org/remote.yaml",
        "patches:",
        "  - path: patch.yaml",
        "",
      ].join("\n"),
      "apps/web/service.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}\n",
      "apps/web/patch.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: NodePort}\n",
    });
    expect(found.map((f) => [f.file, f.line, f.severity])).toEqual([
      ["apps/web/kustomization.yaml", 1, "info"],
      ["apps/web/kustomization.yaml", 1, "info"],
    ]);
    const messages = found.map((f) => f.message).join("\n");
    expect(messages).toContain("remote resource https://example.org/remote.yaml not fetched");
    expect(messages).toContain("not applied here: ");
    expect(messages).toContain("patches");
  });

  it("says nothing about a kustomization rendered whole", async () => {
    const found = await findings(RULE, {
      "kustomization.yaml": "resources:\n  - service.yaml\nnamespace: web\n",
      "service.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}\n",
    });
    expect(found).toEqual([]);
  });
});
