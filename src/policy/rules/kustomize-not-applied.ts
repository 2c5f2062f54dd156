// What kustomize rendering met and did not follow or apply (patches, remote resources, cycles, unreadable
// kustomizations): said at the kustomization, since what the cluster receives may then differ from what was checked.
import type { KustomizeNote } from "../render/kustomize.js";
import type { FileRule } from "./rule.js";

/** The notes of an index, by file: looked up once per index, not once per file. */
const notesByFile = new WeakMap<readonly KustomizeNote[], ReadonlyMap<string, readonly KustomizeNote[]>>();

function notesOf(notes: readonly KustomizeNote[], path: string): readonly KustomizeNote[] {
  let byFile = notesByFile.get(notes);
  if (!byFile) {
    const grouped = new Map<string, KustomizeNote[]>();
    for (const note of notes) {
      const list = grouped.get(note.file);
      if (list) list.push(note);
      else grouped.set(note.file, [note]);
    }
    notesByFile.set(notes, (byFile = grouped));
  }
  return byFile.get(path) ?? [];
}

export const kustomizeNotApplied: FileRule = {
  meta: {
    id: "kustomize-not-applied",
    defaultSeverity: "info",
    description:
      "Kustomize rendering did not apply or follow part of a kustomization (patches, replacements, remote resources, cycles, an unreadable kustomization): what it renders is checked as far as it was followed.",
    fixable: false,
  },
  scope: "file",
  check(context) {
    const notes = context.index.notes;
    if (!notes || notes.length === 0) return;
    for (const note of new Set(notesOf(notes, context.file.path).map((n) => n.message))) {
      context.report({
        at: { line: 1, column: 1 },
        message: `kustomize: ${note}; Services and workloads it renders are checked as far as it was followed: verify.`,
      });
    }
  },
};
