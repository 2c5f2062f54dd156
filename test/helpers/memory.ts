// A child process under a memory limit like the deployment's (768 MiB container: V8's heap capped below it), and
// its measured peak resident set size (Linux: VmHWM in /proc/<pid>/status).
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { available, PROJECT_ROOT } from "./external.js";

/** The deployment's container limit (deploy/), and the V8 heap cap the tests run the app with inside it. */
export const CONTAINER_LIMIT_MIB = 768;
export const MAX_OLD_SPACE_MIB = 512;

export function hasProcStatus(): boolean {
  return available("/proc/<pid>/status (peak RSS)", existsSync("/proc/self/status"));
}

export function hasDist(): boolean {
  return available("dist/ (run `npm run build`)", existsSync(join(PROJECT_ROOT, "dist/index.js")));
}

/** Peak RSS of a running process in MiB, or null once it is gone. */
export function peakRssMib(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}

export interface LimitedProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when `pattern` shows up in the output. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `node --max-old-space-size=<MAX_OLD_SPACE_MIB> <args>` in the project root. */
export function spawnLimited(args: readonly string[], env: NodeJS.ProcessEnv): LimitedProcess {
  const child = spawn(process.execPath, [`--max-old-space-size=${MAX_OLD_SPACE_MIB}`, ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`never printed ${pattern} (exit ${child.exitCode}):\n${output.slice(-2000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Samples a process's peak RSS until stopped, so the figure survives the process being killed. */
export function trackPeakRss(pid: number, everyMs = 50): { readonly peakMib: () => number } {
  let peak = 0;
  const timer = setInterval(() => {
    const now = peakRssMib(pid);
    if (now === null) clearInterval(timer);
    else peak = Math.max(peak, now);
  }, everyMs);
  timer.unref();
  return {
    peakMib: () => {
      const now = peakRssMib(pid);
      if (now !== null) peak = Math.max(peak, now);
      return peak;
    },
  };
}
