// The configuration a command runs with: DIR/.github/cilium-policy-bot.yml or --config, then command-line overrides.
import { join } from "node:path";
import { CONFIG_PATH, ConfigError, parseConfig } from "../policy/api.js";
import type { Config } from "../policy/api.js";
import { CliError, ioError } from "./errors.js";
import { readRegularFile } from "./safe-fs.js";

const MAX_CONFIG_BYTES = 1024 * 1024;

export interface ConfigOptions {
  /** An explicit configuration file: must exist. */
  readonly config?: string;
  /** --cilium-version: replaces the file's ciliumVersion. */
  readonly ciliumVersion?: string;
}

/** Loads the configuration for a scan or fix of `dir`. A missing default file means the defaults. */
export function loadConfig(dir: string, options: ConfigOptions = {}): Config {
  const path = options.config ?? join(dir, CONFIG_PATH);
  let text: string;
  try {
    // The directory's own configuration must be a regular file inside it: a link to a file elsewhere would print
    // that file's content in the error. An explicit --config is the user's choice of file, but never a FIFO.
    const limits =
      options.config === undefined ? { maxBytes: MAX_CONFIG_BYTES, root: dir } : { maxBytes: MAX_CONFIG_BYTES };
    text = readRegularFile(path, limits).toString("utf8");
  } catch (error) {
    if (error instanceof CliError) throw error;
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    if (!missing || options.config !== undefined) throw ioError(error, path);
    text = "";
  }
  const overrides: Partial<Config> =
    options.ciliumVersion === undefined ? {} : { ciliumVersion: options.ciliumVersion };
  try {
    return parseConfig(text, overrides);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (options.ciliumVersion !== undefined && error.key === "ciliumVersion") {
      throw new CliError(`--cilium-version: not a semver range: ${JSON.stringify(options.ciliumVersion)}`);
    }
    throw new CliError(`${path}: ${error.message}`);
  }
}
