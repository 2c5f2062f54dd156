// The configuration file (.github/cilium-policy-bot.yml): the engine's configuration and the app's settings, one
// schema typed against both, defaults and validation.
import { Ajv } from "ajv";
import type { ErrorObject, JSONSchemaType } from "ajv";
import semver from "semver";
import { parse as parseYaml } from "yaml";
import { RULE_IDS } from "./rules/index.js";
import type { Config } from "./types.js";

// The engine's configuration types are its vocabulary (types.ts), so that rules can read them without importing
// this module, which imports the rule registry for the schema's rule ids.
export type { Config, ServiceOverride } from "./types.js";

export const CONFIG_PATH = ".github/cilium-policy-bot.yml";

/**
 * Settings of the same file that only the GitHub App reads. The engine never sees them; the file's schema knows them
 * so that one file serves both shells (the CLI accepts and ignores them).
 */
export interface AppSettings {
  /** false: the check run concludes `neutral` instead of `failure` on error findings. */
  readonly failOnError: boolean;
  /** Open follow-up pull requests with the rewrite. */
  readonly followUp: boolean;
}

/** The whole file, read: the engine's configuration and the app's settings. */
export interface ConfigFile {
  readonly config: Config;
  readonly app: AppSettings;
}

export const DEFAULT_CONFIG: Config = Object.freeze({
  ciliumVersion: ">=1.13",
  services: {},
  unresolved: "guess",
  paths: { include: ["**"], exclude: [] },
  rules: {},
});

export const DEFAULT_APP_SETTINGS: AppSettings = Object.freeze({ failOnError: true, followUp: true });

/** A type as a parsed file holds it: mutable, every key of the top and of `paths` optional. */
type Plain<T> = T extends readonly (infer U)[]
  ? Plain<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Plain<T[K]> }
    : T;
type Optional<T> = { [K in keyof T]?: Plain<T[K]> };

/** The file as written, derived from Config and AppSettings: the schema below is typed against it, so they agree. */
export type ConfigInput = Optional<Omit<Config, "ciliumVersionConfigured" | "paths"> & AppSettings> & {
  paths?: Optional<Config["paths"]>;
};

const labelsSchema = {
  type: "object",
  additionalProperties: { type: "string" },
  required: [],
  minProperties: 1,
} as const;

const strings = { type: "array", items: { type: "string" }, nullable: true } as const;

/** The configuration file's schema. Unknown keys are errors, rule ids included (the registry's ids). */
export const CONFIG_SCHEMA: JSONSchemaType<ConfigInput> = {
  type: "object",
  additionalProperties: false,
  required: [],
  properties: {
    ciliumVersion: { type: "string", minLength: 1, nullable: true },
    services: {
      type: "object",
      nullable: true,
      required: [],
      propertyNames: { pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        required: ["selector"],
        properties: {
          selector: labelsSchema,
          labels: { type: "object", additionalProperties: { type: "string" }, required: [], nullable: true },
          ports: {
            type: "object",
            nullable: true,
            required: [],
            propertyNames: { pattern: "^[0-9]+$" },
            additionalProperties: {
              anyOf: [{ type: "integer", minimum: 1, maximum: 65535 }, { type: "string" }],
            },
          },
        },
      },
    },
    unresolved: { type: "string", enum: ["guess", "skip"], nullable: true },
    failOnError: { type: "boolean", nullable: true },
    paths: {
      type: "object",
      nullable: true,
      additionalProperties: false,
      required: [],
      properties: { include: strings, exclude: strings },
    },
    followUp: { type: "boolean", nullable: true },
    rules: {
      type: "object",
      nullable: true,
      required: [],
      propertyNames: { type: "string", enum: [...RULE_IDS] },
      additionalProperties: { type: "string", enum: ["error", "warning", "info", "off"] },
    },
  },
};

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
  // A key that fails its propertyNames schema: ajv names it on the inner error.
  else if (error.propertyName !== undefined) segments.push(error.propertyName);
  return segments.join(".") || "(root)";
}

function describe(error: ErrorObject): string {
  if (error.propertyName !== undefined) {
    return error.instancePath === "/rules" ? "is not a known rule id" : "is not a valid key here";
  }
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

/** YAML's empty value (`key:`) means the key is absent; the schema lets null through only where a key is optional. */
function withoutNulls(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== null)
      .map(([key, item]) => [key, withoutNulls(item)]),
  );
}

/**
 * Validates a parsed configuration file and merges it over the defaults: the engine's configuration and the app's
 * settings. Throws ConfigError naming the key.
 */
export function resolveConfigFile(raw: unknown, overrides: Partial<Config> = {}): ConfigFile {
  const input = raw ?? {};
  if (!validateSchema(input)) {
    const error = validateSchema.errors?.[0];
    if (!error) throw new ConfigError("invalid configuration", "(root)");
    const key = keyOf(error);
    throw new ConfigError(`invalid configuration: \`${key}\` ${describe(error)}`, key);
  }
  const { failOnError, followUp, paths, ...engine } = withoutNulls(input) as ConfigInput;
  const config: Config = {
    ...DEFAULT_CONFIG,
    ...engine,
    ...overrides,
    paths: { ...DEFAULT_CONFIG.paths, ...paths, ...overrides.paths },
    ...(engine.ciliumVersion !== undefined || overrides.ciliumVersion !== undefined
      ? { ciliumVersionConfigured: true }
      : {}),
  };
  if (semver.validRange(config.ciliumVersion) === null) {
    throw new ConfigError(
      `invalid configuration: \`ciliumVersion\` must be a semver range, got ${JSON.stringify(config.ciliumVersion)}`,
      "ciliumVersion",
    );
  }
  const app: AppSettings = {
    failOnError: failOnError ?? DEFAULT_APP_SETTINGS.failOnError,
    followUp: followUp ?? DEFAULT_APP_SETTINGS.followUp,
  };
  return { config, app };
}

/** The engine's configuration of a parsed file (the app's settings validated, then left out). */
export function resolveConfig(raw: unknown, overrides: Partial<Config> = {}): Config {
  return resolveConfigFile(raw, overrides).config;
}

/** Parses the text of a configuration file. Throws ConfigError for YAML errors as well as schema errors. */
export function parseConfigFile(text: string, overrides: Partial<Config> = {}): ConfigFile {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 50 });
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message.split("\n")[0]}`, "(root)");
  }
  return resolveConfigFile(raw, overrides);
}

/** The engine's configuration of a file's text. */
export function parseConfig(text: string, overrides: Partial<Config> = {}): Config {
  return parseConfigFile(text, overrides).config;
}
