// Builds engine inputs from inline text, the way the shells do from disk or GitHub.
import type { SourceFile } from "../../src/policy/types.js";

export function source(path: string, text: string | Uint8Array): SourceFile {
  const content = typeof text === "string" ? new TextEncoder().encode(text) : text;
  return { path, size: content.byteLength, content };
}

export function sources(files: Record<string, string>): SourceFile[] {
  return Object.entries(files).map(([path, text]) => source(path, text));
}

/** A source's text, whichever form the shell gave its content in. */
export function textOf(file: SourceFile): string {
  if (file.content === null) throw new Error(`${file.path}: not read`);
  return typeof file.content === "string" ? file.content : new TextDecoder().decode(file.content);
}
