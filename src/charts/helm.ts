// Running the real helm: `helm template` only, bounded in time, memory and output, with a clean environment (no
// plugins, no repository config, no credentials of the app, no proxy) in a temporary directory of its own.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, realpathSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface HelmLimits {
  readonly timeoutMs: number;
  /** Address-space limit (prlimit --as) where prlimit exists; helm 3 needs about 1 GiB of address space to start. */
  readonly memoryBytes: number;
  readonly outputBytes: number;
}

export interface Helm {
  readonly bin: string;
  /** Which helm this is, for render cache keys: its real path, size and modification time (no process started). */
  readonly identity: string;
}

/**
 * HELM_BIN (a path, or a name looked up on PATH), else `helm` on PATH; or the reason there is none. Found by looking,
 * not by running it: a warm render cache then starts no process at all (a helm that does not run fails its render).
 */
export function findHelm(env: NodeJS.ProcessEnv = process.env): Helm | { readonly missing: string } {
  const wanted = env.HELM_BIN || "helm";
  const candidates = wanted.includes("/")
    ? [wanted]
    : (env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, wanted));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      const real = realpathSync(candidate);
      const stat = statSync(real);
      if (stat.isFile()) return { bin: candidate, identity: `${real}:${stat.size}:${stat.mtimeMs}` };
    } catch {
      // not here: the next PATH entry
    }
  }
  return {
    missing: env.HELM_BIN
      ? `HELM_BIN=${env.HELM_BIN} is not an executable file`
      : "helm is not installed (not on PATH, HELM_BIN unset)",
  };
}

const PRLIMIT = ["/usr/bin/prlimit", "/bin/prlimit"].find((path) => existsSync(path));

export interface TemplateRequest {
  readonly chartPath: string;
  readonly releaseName: string;
  readonly namespace: string;
  readonly valuesFile: string;
  readonly apiVersions: readonly string[];
  /** A private temporary directory: helm's HOME, config, cache and (empty) plugin directories go there. */
  readonly workDir: string;
}

export type TemplateResult =
  { readonly ok: true; readonly manifests: string } | { readonly ok: false; readonly reason: string };

function helmEnvironment(workDir: string, limits: HelmLimits): NodeJS.ProcessEnv {
  const dirs = Object.fromEntries(
    ["home", "config", "cache", "data", "plugins"].map((name) => {
      const dir = join(workDir, name);
      mkdirSync(dir, { recursive: true });
      return [name, dir];
    }),
  );
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.config,
    XDG_CACHE_HOME: dirs.cache,
    XDG_DATA_HOME: dirs.data,
    HELM_CONFIG_HOME: dirs.config,
    HELM_CACHE_HOME: dirs.cache,
    HELM_DATA_HOME: dirs.data,
    HELM_PLUGINS: dirs.plugins,
    HELM_REPOSITORY_CONFIG: join(dirs.config!, "repositories.yaml"),
    HELM_REGISTRY_CONFIG: join(dirs.config!, "registry.json"),
    KUBECONFIG: join(dirs.config!, "kubeconfig"),
    // The Go runtime collects harder as it nears this, well under the hard limit.
    GOMEMLIMIT: `${Math.floor(limits.memoryBytes / 2 / 1024 / 1024)}MiB`,
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * API versions helm is given at most. A repository vendoring every CRD of a large operator shows a few thousand; a
 * pull request applying tens of thousands of made-up kinds would otherwise make the spawn fail (E2BIG) for a reason
 * nobody could read.
 */
export const MAX_API_VERSIONS = 4_096;

/** Why helm must not be given these arguments (each comes from a pull request), or null. */
export function invalidTemplateArguments(
  request: Pick<TemplateRequest, "releaseName" | "namespace" | "apiVersions">,
): string | null {
  if (request.releaseName.length > 53 || !DNS_LABEL.test(request.releaseName)) {
    return `release name "${request.releaseName.slice(0, 60)}" is not a valid Helm release name`;
  }
  if (request.namespace.length > 63 || !DNS_LABEL.test(request.namespace)) {
    return `namespace "${request.namespace.slice(0, 70)}" is not a valid namespace`;
  }
  if (request.apiVersions.length > MAX_API_VERSIONS) {
    return `the repository shows ${request.apiVersions.length} custom API versions, more than the ${MAX_API_VERSIONS} helm is given`;
  }
  const bad = request.apiVersions.find(
    (version) => !/^[A-Za-z0-9][A-Za-z0-9.\-/]*$/.test(version) || version.length > 253,
  );
  return bad === undefined ? null : `API version "${bad.slice(0, 60)}" is not valid`;
}

function firstLine(text: string): string {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "" && !/^WARNING/.test(l));
  return (line ?? "no output").replace(/^Error:\s*/, "").slice(0, 300);
}

/** `helm template` of one chart: never hooks (--no-hooks), tests, plugins or post-renderers; killed on the limits. */
export function helmTemplate(helm: Helm, request: TemplateRequest, limits: HelmLimits): Promise<TemplateResult> {
  const invalid = invalidTemplateArguments(request);
  if (invalid) return Promise.resolve({ ok: false, reason: invalid });
  const args = [
    "template",
    `--namespace=${request.namespace}`,
    `--values=${request.valuesFile}`,
    "--no-hooks",
    "--skip-tests",
    ...request.apiVersions.map((version) => `--api-versions=${version}`),
    // Whatever the names hold, they are positional from here on.
    "--",
    request.releaseName,
    request.chartPath,
  ];
  const [command, argv] = PRLIMIT
    ? [PRLIMIT, [`--as=${limits.memoryBytes}`, "--", helm.bin, ...args]]
    : [helm.bin, args];
  return new Promise((resolve) => {
    const child = spawn(command, argv, {
      cwd: request.workDir,
      env: helmEnvironment(request.workDir, limits),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = "";
    let failure: string | null = null;
    const stop = (reason: string) => {
      failure ??= reason;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(
      () => stop(`helm template did not finish within ${limits.timeoutMs} ms`),
      limits.timeoutMs,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > limits.outputBytes) stop(`helm template printed more than ${limits.outputBytes} bytes`);
      else out.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (err.length < 16 * 1024) err += chunk.toString("utf8");
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `helm could not be run: ${error.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (failure) resolve({ ok: false, reason: failure });
      else if (code === 0) resolve({ ok: true, manifests: Buffer.concat(out).toString("utf8") });
      else if (signal)
        resolve({
          ok: false,
          reason: `helm template was killed (${signal}; memory limit ${limits.memoryBytes} bytes)`,
        });
      else if (/^fatal error: .*(memory|reserve)/m.test(err)) {
        resolve({
          ok: false,
          reason: `helm template ran out of memory (limit: ${limits.memoryBytes} bytes of address space)`,
        });
      } else resolve({ ok: false, reason: `helm template failed: ${firstLine(err)}` });
    });
  });
}
