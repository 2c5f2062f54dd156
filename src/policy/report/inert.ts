// The one escaping discipline for every Markdown text the app and the CLI write. Everything a repository holds
// (paths, policy and Service names, label values, messages quoting them) is untrusted: it must come out as the same
// characters, never as HTML, a link, a mention, a reference, emphasis, a code-span break-out or an extra table cell.
// Each function is for one context; the contexts differ in what the parser does with the text.

/** A zero-width space as an entity: breaks `@user` and `#123` so GitHub neither notifies nor links. */
const BREAK = "&#8203;";

/**
 * Characters that change how text reads without being seen: bidirectional controls and zero-width characters
 * (Trojan Source), and the other control characters. They are shown as `\u{…}` instead.
 */
const INVISIBLE =
  // eslint-disable-next-line no-control-regex -- control characters are what it finds
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu;

/** Shows the invisible characters as `\u{XXXX}` (before any other escaping: the backslash is escaped later). */
function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}}`);
}

function oneLine(text: string): string {
  return text.replace(/[ \t]*(?:\r\n|\r|\n)[ \t]*/g, " ");
}

/**
 * Every ASCII punctuation character may be backslash-escaped in CommonMark; escaped, none has a meaning. `/`, `.`,
 * `,`, `:`, `;` and a `-` inside a word (`kube-dns`) mean nothing inline and stay readable.
 */
const MARKDOWN_PUNCTUATION = /[!-+<-?[-`{-~]|(?<![A-Za-z0-9])-/g;

/**
 * GitHub finds bare links (`https://…`, `www.…`, `a@b.c`) in the text after parsing, escapes or not: a zero-width
 * space after `@`, between `:` and `//` and between `www` and `.` keeps them text. `#` gets one too (`#123`).
 */
function breakReferences(visible: string, escape: (text: string) => string): string {
  // The input's own zero-width spaces are already shown as `\u{200B}`: every one left is a break.
  const broken = visible.replace(/@|#|(?<=:)(?=\/\/)|(?<=www)(?=\.)/gi, (c) => `${c}\u200b`);
  return escape(broken).replace(/\u200b/g, BREAK);
}

/**
 * Untrusted text inside Markdown prose: a paragraph, a list item, a table cell, link text. One line; every
 * punctuation character escaped (no HTML, entity, emphasis, link, code span, autolink, cell break); `@` and `#`
 * broken so no one is mentioned and nothing is referenced; invisible characters shown.
 */
export function inlineText(text: string): string {
  return breakReferences(showInvisible(oneLine(text)), (t) => t.replace(MARKDOWN_PUNCTUATION, (c) => `\\${c}`)).replace(
    /^[ \t]/,
    (c) => `&#${c.charCodeAt(0)};`,
  ); // leading blanks could open an indented code block
}

/**
 * Untrusted text shown as code inside Markdown prose (table cells and list items included). A Markdown code span
 * cannot hold every string (a `|` in a table cell, a trailing backtick), so this is `<code>` around escaped text:
 * it looks the same and the text stays plain.
 */
export function inlineCode(text: string): string {
  return `<code>${inlineText(text)}</code>`;
}

/**
 * Untrusted text inside a raw HTML block (`<details><summary>…`), where Markdown is not parsed: HTML-escaped, one
 * line (a blank line would end the block), mentions and references broken, invisible characters shown.
 */
export function htmlText(text: string): string {
  return breakReferences(showInvisible(oneLine(text)), (t) =>
    t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;"),
  );
}

/**
 * A fenced code block holding `text` verbatim (a patch must still apply, a suggestion must still be the file's
 * bytes): the fence is longer than any backtick run inside, so nothing can close it early.
 */
export function fencedBlock(text: string, info: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${info}\n${text.endsWith("\n") || text === "" ? text : text + "\n"}${ticks}`;
}

/** Parentheses, spaces and angle brackets would end or break a Markdown link destination. */
export function linkDestination(url: string): string {
  return url.replace(/[()\s<>\\"'`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}
