// A Secret's `data` as the API server reads it: the one reader of base64 Secret values (Helm valuesFrom, Flux
// substituteFrom).
//
// The API server decodes a Secret into Go's map[string][]byte, and encoding/json reads a []byte from a JSON string
// with base64.StdEncoding.Decode. So a value decodes when, once every '\r' and '\n' is dropped (Go ignores line
// breaks wherever they are, so a value wrapped in a YAML literal block `|` decodes), it is the standard alphabet
// A–Z a–z 0–9 + / in groups of four, the last group of 2 or 3 characters padded with "==" or "=", nothing after the
// padding. Any other character is refused: spaces and tabs too (a plain or folded YAML scalar wrapped over lines
// reaches JSON with spaces in it, and is refused), and so is missing padding. Bits left over in the last character
// need not be zero (StdEncoding is not Strict). A value that is not a string (a YAML number, a map) does not
// unmarshal into []byte; null decodes to no value. One refused value makes the API server refuse the whole Secret.

/** A value base64.StdEncoding decodes, line breaks removed. Linear: fixed-size groups, one optional tail. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of one `data` value, or undefined when the API server would refuse it. */
export function secretValueBytes(value: unknown): Uint8Array | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.replace(/[\r\n]/g, "");
  if (!STD_BASE64.test(text)) return undefined;
  // The text is checked to be what Go accepts; atob accepts all of it and decodes it alike.
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The decoded values by key, or the first key whose value the API server refuses (and with it the Secret). */
export type SecretData = { readonly values: ReadonlyMap<string, Uint8Array> } | { readonly refusedKey: string };

/** Every value of a Secret's `data`, decoded; null values are left out, as the API server keeps none. */
export function secretDataOf(data: Readonly<Record<string, unknown>>): SecretData {
  const values = new Map<string, Uint8Array>();
  for (const [key, value] of Object.entries(data)) {
    if (value === null) continue;
    const bytes = secretValueBytes(value);
    if (bytes === undefined) return { refusedKey: key };
    values.set(key, bytes);
  }
  return { values };
}

/** Decoded bytes as UTF-8 text; undefined when they are not (a binary key: a certificate, a keystore). */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** How a refused Secret value is said, by every reader of Secrets. */
export function refusedSecretReason(name: unknown, key: string): string {
  return (
    `Secret ${String(name ?? "?")} key ${key} is not base64 as the API server reads it ` +
    "(only line breaks may interrupt it, and it must be padded with =): the API server refuses the Secret"
  );
}
