// Argo CD ApplicationSets with list and git directory generators: the Applications they make, so the charts those
// install are rendered (and their Services' selectors read) like an Application's. Only literal `elements`, the
// directories of this repository a git generator's `directories` patterns match, and plain parameter references
// (`{{.env}}` with goTemplate, `{{env}}` without) are expanded; an element whose template needs anything else (a
// function, a pipeline, a missing key) makes no Application rather than a wrong one.
import { Minimatch } from "minimatch";
import { asRecord } from "../records.js";

type Json = Readonly<Record<string, unknown>>;

/** At most this many Applications per ApplicationSet: a pull request's generator list is untrusted input. */
export const MAX_GENERATED_APPLICATIONS = 64;

const ACTION = /\{\{(.*?)\}\}/gs;
const GO_PARAMETER = /^\s*\.([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*$/;
const FAST_PARAMETER = /^\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*(?:\[\d+\])?)\s*$/;

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

/** Every directory holding a file of the repository, its ancestors included (the root aside), sorted. */
export function repositoryDirectories(paths: Iterable<string>): string[] {
  const directories = new Set<string>();
  for (const path of paths) {
    for (let slash = path.lastIndexOf("/"); slash > 0; slash = path.lastIndexOf("/", slash - 1)) {
      const dir = path.slice(0, slash);
      if (directories.has(dir)) break;
      directories.add(dir);
    }
  }
  return [...directories].sort();
}

/**
 * The parameters a git directory generator gives each directory its `directories` patterns match (Go's path.Match:
 * `*` and `?` within one segment, character classes), less those an `exclude: true` entry matches, as Argo CD's
 * generator makes them: `path`, `path.basename`, `path.basenameNormalized`, `path[n]` for fasttemplate;
 * `.path.path`, `.path.basename`, `.path.basenameNormalized`, `.path.segments` for Go templates.
 */
function gitDirectoryElements(git: Json, directories: readonly string[], goTemplate: boolean): Json[] {
  const include: Minimatch[] = [];
  const exclude: Minimatch[] = [];
  for (const raw of Array.isArray(git.directories) ? git.directories : []) {
    const entry = asRecord(raw);
    if (typeof entry?.path !== "string" || entry.path === "") continue;
    const pattern = new Minimatch(entry.path.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, ""), {
      noglobstar: true,
      nobrace: true,
      noext: true,
      nonegate: true,
      nocomment: true,
      dot: true,
    });
    (entry.exclude === true ? exclude : include).push(pattern);
  }
  return directories
    .filter(
      (dir) =>
        // Argo CD leaves out directories beginning with a dot (.git and the like).
        !dir.split("/").some((segment) => segment.startsWith(".")) &&
        include.some((m) => m.match(dir)) &&
        !exclude.some((m) => m.match(dir)),
    )
    .map((dir) => {
      const segments = dir.split("/");
      const basename = segments[segments.length - 1] ?? dir;
      // Argo CD's SanitizeName: lower case, anything but [-a-z0-9.] a dash, dashes and dots trimmed at the ends.
      const basenameNormalized = basename
        .toLowerCase()
        .replace(/[^-a-z0-9.]/g, "-")
        .slice(0, 253)
        .replace(/^[-.]+|[-.]+$/g, "");
      if (goTemplate) return { path: { path: dir, basename, basenameNormalized, segments } };
      return {
        path: dir,
        "path.basename": basename,
        "path.basenameNormalized": basenameNormalized,
        ...Object.fromEntries(segments.map((segment, index) => [`path[${index}]`, segment])),
      };
    });
}

/**
 * The Applications an ApplicationSet's list generators, and its git generators' `directories` over this repository's
 * `directories` (repositoryDirectories), make, as Application values (`metadata` and `spec` from the
 * template), in generator and element order; at most MAX_GENERATED_APPLICATIONS. A template with a `templatePatch`
 * (applied after expansion, with functions) makes none: what it changes cannot be known here.
 */
export function applicationsOfSet(value: Json, directories: readonly string[] = []): Json[] {
  const spec = asRecord(value.spec);
  const template = asRecord(spec?.template);
  if (!spec || !template || spec.templatePatch !== undefined) return [];
  const goTemplate = spec.goTemplate === true;
  const applications: Json[] = [];
  for (const generator of Array.isArray(spec.generators) ? spec.generators : []) {
    const git = asRecord(asRecord(generator)?.git);
    const elements =
      git && Array.isArray(git.directories) && git.files === undefined
        ? gitDirectoryElements(git, directories, goTemplate)
        : asRecord(asRecord(generator)?.list)?.elements;
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
