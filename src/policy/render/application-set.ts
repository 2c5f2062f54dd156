// Argo CD ApplicationSets with list generators: the Applications they make, so the charts those install are rendered
// (and their Services' selectors read) like an Application's. Only literal `elements` and plain parameter references
// (`{{.env}}` with goTemplate, `{{env}}` without) are expanded; an element whose template needs anything else (a
// function, a pipeline, a missing key) makes no Application rather than a wrong one.
import { asRecord } from "../records.js";

type Json = Readonly<Record<string, unknown>>;

/** At most this many Applications per ApplicationSet: a pull request's generator list is untrusted input. */
export const MAX_GENERATED_APPLICATIONS = 64;

const ACTION = /\{\{(.*?)\}\}/gs;
const GO_PARAMETER = /^\s*\.([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*$/;
const FAST_PARAMETER = /^\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*$/;

/** A parameter's text: fasttemplate flattens nested elements to dotted keys, Go templates walk them. */
function parameterText(element: Json, path: string): string | undefined {
  if (Object.hasOwn(element, path)) return scalarText(element[path]);
  let value: unknown = element;
  for (const step of path.split(".")) {
    const record = asRecord(value);
    if (!record || !Object.hasOwn(record, step)) return undefined;
    value = record[step];
  }
  return scalarText(value);
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

class Unexpandable extends Error {}

function substitute(text: string, element: Json, goTemplate: boolean): string {
  return text.replace(ACTION, (_whole, inner: string) => {
    const match = (goTemplate ? GO_PARAMETER : FAST_PARAMETER).exec(inner);
    const value = match?.[1] === undefined ? undefined : parameterText(element, match[1]);
    if (value === undefined) throw new Unexpandable();
    return value;
  });
}

function expand(value: unknown, element: Json, goTemplate: boolean): unknown {
  if (typeof value === "string") return substitute(value, element, goTemplate);
  if (Array.isArray(value)) return value.map((item) => expand(item, element, goTemplate));
  const record = asRecord(value);
  if (!record) return value;
  return Object.fromEntries(
    Object.entries(record).map(([key, item]) => [
      substitute(key, element, goTemplate),
      expand(item, element, goTemplate),
    ]),
  );
}

/**
 * The Applications an ApplicationSet's list generators make, as Application values (`metadata` and `spec` from the
 * template), in generator and element order; at most MAX_GENERATED_APPLICATIONS. A template with a `templatePatch`
 * (applied after expansion, with functions) makes none: what it changes cannot be known here.
 */
export function applicationsOfSet(value: Json): Json[] {
  const spec = asRecord(value.spec);
  const template = asRecord(spec?.template);
  if (!spec || !template || spec.templatePatch !== undefined) return [];
  const goTemplate = spec.goTemplate === true;
  const applications: Json[] = [];
  for (const generator of Array.isArray(spec.generators) ? spec.generators : []) {
    const elements = asRecord(asRecord(generator)?.list)?.elements;
    for (const raw of Array.isArray(elements) ? elements : []) {
      const element = asRecord(raw);
      if (!element) continue;
      if (applications.length >= MAX_GENERATED_APPLICATIONS) return applications;
      try {
        const application = asRecord(expand(template, element, goTemplate));
        if (application) applications.push(application);
      } catch (error) {
        if (!(error instanceof Unexpandable)) throw error;
      }
    }
  }
  return applications;
}
