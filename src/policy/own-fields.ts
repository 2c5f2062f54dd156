// Fields of plain values read from repository text (manifests, Helm values) whose names are the repository's too.
// `__proto__` read as a property is the object's prototype (Object.prototype: what is written below it reaches every
// object of the process), and assigned it replaces the prototype: such a field is read and written as its own.

/** A field of a plain value: its own property only. */
export function ownField(node: object, key: string | number): unknown {
  return Object.hasOwn(node, key) ? (node as Record<string | number, unknown>)[key] : undefined;
}

/** Sets an own property, `__proto__` included, as YAML's parse makes it. */
export function setOwnField(node: object, key: string | number, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
  } else (node as Record<string | number, unknown>)[key] = value;
}
