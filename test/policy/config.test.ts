// The configuration file: one schema for the engine's configuration and the app's settings, unknown keys named.
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_CONFIG, parseConfig, parseConfigFile, resolveConfig } from "../../src/policy/config.js";
import { RULES } from "../../src/policy/rules/index.js";

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`accepted: ${text}`);
}

describe("configuration", () => {
  it("rejects an unknown rule id in rules:, naming the key", () => {
    const error = errorOf("rules:\n  to-services-with-toports: off\n");
    expect(error.key).toBe("rules.to-services-with-toports");
    expect(error.message).toBe("invalid configuration: `rules.to-services-with-toports` is not a known rule id");
  });

  it("accepts every rule id of the registry", () => {
    const rules = Object.fromEntries(RULES.map((rule) => [rule.meta.id, "info"]));
    expect(resolveConfig({ rules }).rules).toEqual(rules);
  });

  it("keeps the app's settings out of the engine's configuration, in the same file", () => {
    const file = parseConfigFile("followUp: false\nfailOnError: false\nunresolved: skip\n");
    expect(file.app).toEqual({ followUp: false, failOnError: false });
    expect(file.config).toEqual({ ...DEFAULT_CONFIG, unresolved: "skip" });
    expect(Object.keys(file.config)).not.toContain("followUp");
    expect(errorOf("followUp: sometimes\n").key).toBe("followUp");
  });

  it("reads an empty value as an absent key", () => {
    expect(parseConfig("rules:\npaths:\n  exclude:\nciliumVersion:\n")).toEqual(DEFAULT_CONFIG);
  });

  it("still names the key of other invalid settings", () => {
    expect(errorOf("services:\n  Bad_Key: {selector: {a: b}}\n").message).toBe(
      "invalid configuration: `services.Bad_Key` is not a valid key here",
    );
    expect(errorOf("rules:\n  requires-deprecated: loud\n").message).toBe(
      'invalid configuration: `rules.requires-deprecated` must be one of "error", "warning", "info", "off"',
    );
    expect(errorOf("colour: blue\n").key).toBe("colour");
  });
});
