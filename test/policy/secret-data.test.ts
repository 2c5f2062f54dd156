// A Secret's `data` read as the API server reads it: Go's base64.StdEncoding (what encoding/json uses for []byte)
// ignores '\r' and '\n' and refuses any other character, spaces included, and missing padding.
import { describe, expect, it } from "vitest";
import { secretDataOf, secretValueBytes, utf8Text } from "../../src/policy/render/secret-data.js";

const text = (value: unknown) => {
  const bytes = secretValueBytes(value);
  return bytes === undefined ? "refused" : utf8Text(bytes);
};

describe("a Secret's data value", () => {
  it.each([
    ["cGF5bWVudHM=", "payments"],
    ["cGF5bW\nVudHM=", "payments"],
    ["cGF5bW\r\nVudHM=\n", "payments"],
    ["\ncGF5\nbWVu\ndHM\n=", "payments"],
    ["aGk=", "hi"],
    ["aA==", "h"],
    ["", ""],
    // StdEncoding is not Strict: bits left over in the last character need not be zero ("aB==" is "h" too).
    ["aB==", "h"],
  ])("%j decodes to %j", (value, expected) => {
    expect(text(value)).toBe(expected);
  });

  it.each([
    ["cGF5bW VudHM="],
    ["cGF5bW\tVudHM="],
    [" cGF5bWVudHM="],
    ["cGF5bWVudHM=\u00a0"],
    ["cGF5bWVudHM"],
    ["aGk"],
    ["aA="],
    ["a==="],
    ["cGF5bWVudHM=cGF5"],
    ["cGF5*WVudHM="],
    ["cGF5-WVudHM="],
    [1234],
    [{ a: "b" }],
  ])("%j is refused", (value) => {
    expect(text(value)).toBe("refused");
  });

  it("one refused value refuses the Secret; null values are left out; binary values are bytes, not text", () => {
    expect(secretDataOf({ a: "aGk=", b: "aG k=", c: "x" })).toEqual({ refusedKey: "b" });
    const data = secretDataOf({ a: "aGk=", empty: null, binary: "//79" });
    expect("values" in data && [...data.values.keys()]).toEqual(["a", "binary"]);
    const binary = "values" in data ? data.values.get("binary") : undefined;
    expect(binary && [...binary]).toEqual([0xff, 0xfe, 0xfd]);
    expect(binary && utf8Text(binary)).toBeUndefined();
  });
});
