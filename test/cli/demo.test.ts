// `npm run demo` after its build step: the scan table and the fix diff of the example repository, exit code 0.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/external.js";

describe("scripts/demo.mjs", () => {
  beforeAll(() => {
    if (!existsSync(join(PROJECT_ROOT, "dist/cli/main.js"))) {
      spawnSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
    }
  });

  it("shows the findings and the rewrite, and succeeds although the scan finds errors", () => {
    const run = spawnSync(process.execPath, ["scripts/demo.mjs"], { cwd: PROJECT_ROOT, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stderr).not.toMatch(/error:|^\s+at /m);
    expect(run.stdout).toContain("$ cilium-policy-bot scan examples/gitops-repo");
    expect(run.stdout).toMatch(/^error +to-services-with-to-ports +apps\/minio\/network-policy\.yaml:26:7 /m);
    expect(run.stdout).toMatch(/^\d+ errors and \d+ warnings in 23 files \(4 policies\)\.$/m);
    expect(run.stdout).toContain("$ cilium-policy-bot fix examples/gitops-repo --dry-run");
    // The vault rule becomes toEndpoints selecting the StatefulSet's pods in namespace vault, toPorts kept.
    expect(run.stdout).toContain(
      [
        "-    - toServices:",
        "-        - k8sService:",
        "-            serviceName: cluster-vault",
        "-            namespace: vault",
        "+    - toEndpoints:",
        "+        - matchLabels:",
        "+            app.kubernetes.io/name: vault",
        "+            app.kubernetes.io/instance: cluster-vault",
        "+            component: server",
        "+            k8s:io.kubernetes.pod.namespace: vault",
        "       toPorts:",
      ].join("\n"),
    );
  });
});
