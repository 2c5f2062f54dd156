// Reading plain values parsed from repository text: any field may be anything, so maps are checked before use.

/** Whether a plain value is a map (not null, not a list). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A plain value as a map, or undefined when it is not one. */
export function asRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return isRecord(value) ? value : undefined;
}
