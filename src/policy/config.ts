// The configuration file (.github/cilium-policy-bot.yml): schema, defaults and validation.
import { Ajv } from "ajv";
import type { ErrorObject } from "ajv";
import semver from "semver";
import { parse as parseYaml } from "yaml";
import type { Labels, Severity } from "./types.js";

export const CONFIG_PATH = ".github/cilium-policy-bot.yml";

export interface ServiceOverride {
  readonly selector: Labels;
  /** The Service's own labels: what `k8sServiceSelector` entries match. */
  readonly labels?: Labels;
  /** service port → target port (number or container port name) */
  readonly ports?: Readonly<Record<string, number | string>>;
}

export interface Config {
  /** A semver range of the Cilium versions the clusters run or will run. */
  readonly ciliumVersion: string;
  /** true when the configuration (file or override) sets ciliumVersion: it then wins over what the repository installs. */
  readonly ciliumVersionConfigured?: boolean;
  /** Services created outside the repository (Helm charts, operators), keyed "namespace/name". */
  readonly services: Readonly<Record<string, ServiceOverride>>;
  /** What to do with a Service that nothing resolves: guess a selector (marked for review) or leave the rule alone. */
  readonly unresolved: "guess" | "skip";
  /** false: the check run concludes `neutral` instead of `failure` on error findings. */
  readonly failOnError: boolean;
  readonly paths: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  /** Open follow-up pull requests with the rewrite. */
  readonly followUp: boolean;
  /** Per-rule severity overrides, or "off". */
  readonly rules: Readonly<Record<string, Severity | "off">>;
}

export const DEFAULT_CONFIG: Config = Object.freeze({
  ciliumVersion: ">=1.13",
  services: {},
  unresolved: "guess",
  failOnError: true,
  paths: { include: ["**"], exclude: [] },
  followUp: true,
  rules: {},
});

const labelsSchema = {
  type: "object",
  additionalProperties: { type: "string" },
  minProperties: 1,
} as const;

export const CONFIG_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    ciliumVersion: { type: "string", minLength: 1 },
    services: {
      type: "object",
      propertyNames: { pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        required: ["selector"],
        properties: {
          selector: labelsSchema,
          labels: { type: "object", additionalProperties: { type: "string" } },
          ports: {
            type: "object",
            propertyNames: { pattern: "^[0-9]+$" },
            additionalProperties: { anyOf: [{ type: "integer", minimum: 1, maximum: 65535 }, { type: "string" }] },
          },
        },
      },
    },
    unresolved: { enum: ["guess", "skip"] },
    failOnError: { type: "boolean" },
    paths: {
      type: "object",
      additionalProperties: false,
      properties: {
        include: { type: "array", items: { type: "string" } },
        exclude: { type: "array", items: { type: "string" } },
      },
    },
    followUp: { type: "boolean" },
    rules: {
      type: "object",
      additionalProperties: { enum: ["error", "warning", "info", "off"] },
    },
  },
} as const;

export class ConfigError extends Error {
  constructor(
    message: string,
    /** The dotted key the problem is at, e.g. "services.vault/cluster-vault.selector". */
    readonly key: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

const ajv = new Ajv({ allErrors: false, strict: true });
const validateSchema = ajv.compile(CONFIG_SCHEMA);

function keyOf(error: ErrorObject): string {
  const segments = error.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (error.keyword === "additionalProperties") segments.push(String(error.params.additionalProperty));
  if (error.keyword === "required") segments.push(String(error.params.missingProperty));
  if (error.keyword === "propertyNames") segments.push(String(error.params.propertyName));
  return segments.join(".") || "(root)";
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case "additionalProperties":
      return "is not a known setting";
    case "required":
      return "is required";
    case "propertyNames":
      return "is not a valid key here";
    case "enum":
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return error.message ?? "is invalid";
  }
}

/** Validates a parsed configuration object and merges it over the defaults. Throws ConfigError naming the key. */
export function resolveConfig(raw: unknown, overrides: Partial<Config> = {}): Config {
  const input = raw ?? {};
  if (!validateSchema(input)) {
    const error = validateSchema.errors?.[0];
    if (!error) throw new ConfigError("invalid configuration", "(root)");
    const key = keyOf(error);
    throw new ConfigError(`invalid configuration: \`${key}\` ${describe(error)}`, key);
  }
  const partial = input as Partial<Config>;
  const merged: Config = {
    ...DEFAULT_CONFIG,
    ...partial,
    ...overrides,
    paths: { ...DEFAULT_CONFIG.paths, ...partial.paths, ...overrides.paths },
    ...(partial.ciliumVersion !== undefined || overrides.ciliumVersion !== undefined
      ? { ciliumVersionConfigured: true }
      : {}),
  };
  if (semver.validRange(merged.ciliumVersion) === null) {
    throw new ConfigError(
      `invalid configuration: \`ciliumVersion\` must be a semver range, got ${JSON.stringify(merged.ciliumVersion)}`,
      "ciliumVersion",
    );
  }
  return merged;
}

/** Parses the text of a configuration file. Throws ConfigError for YAML errors as well as schema errors. */
export function parseConfig(text: string, overrides: Partial<Config> = {}): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 50 });
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message.split("\n")[0]}`, "(root)");
  }
  return resolveConfig(raw, overrides);
}
