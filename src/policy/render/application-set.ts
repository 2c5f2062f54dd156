// Argo CD ApplicationSets with list and git directory generators: the Applications they make, so the charts those
// install are rendered (and their Services' selectors read) like an Application's. Only literal `elements`, the
// directories of this repository a git generator's `directories` patterns match, and plain parameter references
// (`{{.env}}` with goTemplate, `{{env}}` without) are expanded; an element whose template needs anything else (a
// function, a pipeline, a missing key) makes no Application rather than a wrong one.
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
 * Go's path.Match, which Argo CD's git directory generator matches each directory with: `*` (any run of non-`/`
 * characters), `?`, character classes (`[a-z]`, `[^…]`), `\\` escapes; a malformed pattern matches nothing. Ported
 * as it is written (chunks matched left to right, a star retried at each position), so that its time stays
 * proportional to the pattern's length times the name's, whatever a pull request writes; no regular expression.
 */
export function pathMatch(pattern: string, name: string): boolean {
  let rest = pattern;
  let remaining = name;
  pattern: while (rest.length > 0) {
    const { star, chunk, after } = scanChunk(rest);
    rest = after;
    if (star && chunk === "") return !remaining.includes("/");
    const here = matchChunk(chunk, remaining);
    if (here === BAD) return false;
    if (here !== undefined && (here.length === 0 || rest.length > 0)) {
      remaining = here;
      continue;
    }
    if (star) {
      for (let i = 0; i < remaining.length && remaining[i] !== "/"; i++) {
        const skipped = matchChunk(chunk, remaining.slice(i + 1));
        if (skipped === BAD) return false;
        if (skipped !== undefined) {
          if (rest.length === 0 && skipped.length > 0) continue;
          remaining = skipped;
          continue pattern;
        }
      }
    }
    return false;
  }
  return remaining.length === 0;
}

const BAD = Symbol("bad pattern");

function scanChunk(pattern: string): { star: boolean; chunk: string; after: string } {
  let start = 0;
  while (pattern[start] === "*") start++;
  let inRange = false;
  let i = start;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      if (i + 1 < pattern.length) i++;
    } else if (c === "[") inRange = true;
    else if (c === "]") inRange = false;
    else if (c === "*" && !inRange) break;
  }
  return { star: start > 0, chunk: pattern.slice(start, i), after: pattern.slice(i) };
}

/** The name's rest after the chunk matched its start; undefined when it does not; BAD for a malformed chunk. */
function matchChunk(chunk: string, name: string): string | undefined | typeof BAD {
  const c = [...chunk];
  const s = [...name];
  let ci = 0;
  let si = 0;
  let failed = false;
  while (ci < c.length) {
    if (!failed && si >= s.length) failed = true;
    const head = c[ci] as string;
    if (head === "[") {
      const r = failed ? undefined : s[si++];
      ci++;
      const negated = c[ci] === "^";
      if (negated) ci++;
      let matched = false;
      let ranges = 0;
      for (;;) {
        if (c[ci] === "]" && ranges > 0) {
          ci++;
          break;
        }
        const lo = escaped(c, ci);
        if (lo === undefined) return BAD;
        ci = lo.next;
        let hi = lo.char;
        if (c[ci] === "-") {
          const upper = escaped(c, ci + 1);
          if (upper === undefined) return BAD;
          ci = upper.next;
          hi = upper.char;
        }
        if (r !== undefined && lo.char <= r && r <= hi) matched = true;
        ranges++;
      }
      if (matched === negated) failed = true;
    } else if (head === "?") {
      if (!failed) {
        if (s[si] === "/") failed = true;
        si++;
      }
      ci++;
    } else {
      let literal = head;
      if (head === "\\") {
        ci++;
        if (ci >= c.length) return BAD;
        literal = c[ci] as string;
      }
      if (!failed) {
        if (s[si] !== literal) failed = true;
        si++;
      }
      ci++;
    }
  }
  return failed ? undefined : s.slice(si).join("");
}

/** One class character at `at` (a `\\` escapes the next), and where the class goes on; undefined when malformed. */
function escaped(chunk: readonly string[], at: number): { char: string; next: number } | undefined {
  let i = at;
  if (i >= chunk.length || chunk[i] === "-" || chunk[i] === "]") return undefined;
  if (chunk[i] === "\\") {
    i++;
    if (i >= chunk.length) return undefined;
  }
  const char = chunk[i] as string;
  if (i + 1 >= chunk.length) return undefined;
  return { char, next: i + 1 };
}

/**
 * The parameters a git directory generator gives each directory its `directories` patterns match (Go's path.Match:
 * `*` and `?` within one segment, character classes), less those an `exclude: true` entry matches, as Argo CD's
 * generator makes them: `path`, `path.basename`, `path.basenameNormalized`, `path[n]` for fasttemplate;
 * `.path.path`, `.path.basename`, `.path.basenameNormalized`, `.path.segments` for Go templates.
 */
function gitDirectoryElements(git: Json, directories: readonly string[], goTemplate: boolean): Json[] {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const raw of Array.isArray(git.directories) ? git.directories : []) {
    const entry = asRecord(raw);
    if (typeof entry?.path !== "string" || entry.path === "") continue;
    (entry.exclude === true ? exclude : include).push(entry.path);
  }
  return directories
    .filter(
      (dir) =>
        // Argo CD leaves out directories beginning with a dot (.git and the like).
        !dir.split("/").some((segment) => segment.startsWith(".")) &&
        include.some((pattern) => pathMatch(pattern, dir)) &&
        !exclude.some((pattern) => pathMatch(pattern, dir)),
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
