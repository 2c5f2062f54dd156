// `scan` and `fix` run once over a repository and exit, so most of a run is V8 warming up rather than running
// optimised code. TurboFan's inlining of larger functions makes each optimising compile several times costlier; on a
// machine of few cores its compiler thread then falls behind and the hot functions run unoptimised for longer.
// Inlining only the smallest functions (at most 40 bytes of bytecode: the reader's character tests) keeps what
// inlining is most worth and cuts a scan of the 4,000-file bench repository by about a fifth; one of 40,000 files is
// no slower (README, "Bench"). The app, a server that runs for days, keeps V8's defaults: this is for the command line.
import { setFlagsFromString } from "node:v8";

/** The V8 flags the command line runs with (a flag V8 does not know is ignored, with a line on stderr). */
export const ONE_SHOT_V8_FLAGS = "--max-inlined-bytecode-size=40";

/** Applies ONE_SHOT_V8_FLAGS to this process: call it before the first analysis (flags are read per compilation). */
export function tuneV8ForOneShotRun(): void {
  setFlagsFromString(ONE_SHOT_V8_FLAGS);
}
