import { describe, expect, it } from "vitest";
import { Progress } from "../../src/cli/progress.js";

function stream(isTTY: boolean) {
  const written: string[] = [];
  const fake = { isTTY, columns: 40, write: (text: string) => written.push(text) > 0 };
  return { fake: fake as unknown as NodeJS.WriteStream, written };
}

describe("Progress", () => {
  it("writes nothing when stderr is not a terminal", () => {
    const { fake, written } = stream(false);
    const progress = new Progress(fake, 0);
    progress.update("reading files: 1");
    progress.done();
    expect(written).toEqual([]);
  });

  it("writes nothing during a short run, even on a terminal", () => {
    const { fake, written } = stream(true);
    const progress = new Progress(fake, 60_000);
    progress.update("reading files: 1");
    progress.done();
    expect(written).toEqual([]);
  });

  it("overwrites one line on a terminal once the run is long, and clears it at the end", () => {
    const { fake, written } = stream(true);
    const progress = new Progress(fake, 0);
    progress.update(`reading files: ${"9".repeat(100)}`);
    progress.update("throttled: not shown");
    progress.done();
    expect(written).toHaveLength(2);
    const clearToEnd = "\x1b[K";
    expect(written[0]!.startsWith("\rreading files: 999")).toBe(true);
    expect(written[0]!.endsWith(clearToEnd)).toBe(true);
    expect(written[0]!.length).toBeLessThanOrEqual("\r".length + 39 + "\x1b[K".length);
    expect(written[1]).toBe("\r\x1b[K");
  });
});
