// The CLI's chart directories come from a checkout a pull request may have written: a symbolic link on the chart
// path must not make the renderer read a directory elsewhere on the machine.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { diskRepositoryCharts } from "../../src/charts/repository-charts.js";

describe("chart directories of a checkout", () => {
  const temp = mkdtempSync(join(tmpdir(), "cpb-repo-charts-"));
  const root = join(temp, "repo");
  const outside = join(temp, "outside");
  mkdirSync(join(root, "charts", "app"), { recursive: true });
  writeFileSync(join(root, "charts", "app", "Chart.yaml"), "name: app\nversion: 1.0.0\n");
  mkdirSync(join(outside, "secret-chart"), { recursive: true });
  writeFileSync(join(outside, "secret-chart", "Chart.yaml"), "name: secret\nversion: 1.0.0\n");
  symlinkSync(outside, join(root, "elsewhere"));
  symlinkSync(join(root, "charts"), join(root, "linked-charts"));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  test("a chart directory is read", async () => {
    const files = await diskRepositoryCharts(root).files("charts/app");
    expect("error" in files ? files.error : [...files.keys()]).toEqual(["Chart.yaml"]);
  });

  test("a path through a link that leaves the repository is refused", async () => {
    const files = await diskRepositoryCharts(root).files("elsewhere/secret-chart");
    expect(files).toEqual({ error: "elsewhere/secret-chart: no such directory in the repository" });
  });

  test("a link that stays inside the repository is followed", async () => {
    const files = await diskRepositoryCharts(root).files("linked-charts/app");
    expect("error" in files ? files.error : [...files.keys()]).toEqual(["Chart.yaml"]);
  });

  test("a directory that is not there says so", async () => {
    expect(await diskRepositoryCharts(root).files("charts/none")).toEqual({
      error: "charts/none: no such directory in the repository",
    });
  });
});
