// The V8 flags the command line sets must be flags this Node's V8 knows: an unknown one would be ignored (with a
// line on stderr), and the CLI would silently lose its tuning.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ONE_SHOT_V8_FLAGS } from "../../src/cli/v8-tuning.js";
import { PROJECT_ROOT } from "../helpers/external.js";
import { hasDist } from "../helpers/memory.js";

describe("the command line's V8 flags", () => {
  it("are known to this Node's V8", () => {
    const run = spawnSync(process.execPath, [...ONE_SHOT_V8_FLAGS.split(" "), "-e", ""], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it.runIf(hasDist())("are set by the built CLI without a complaint", () => {
    const run = spawnSync(process.execPath, [join(PROJECT_ROOT, "dist/cli/main.js"), "--version"], {
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
