/**
 * Model-written text made inert for terminals and commit metadata. A raw ESC
 * or BEL can retitle a terminal, move the cursor, rewrite what a reviewer
 * sees (`\r` overprints a line) or hide itself in `git log`; C1 controls
 * (U+0080–U+009F) act the same way in some terminals. They become visible
 * escapes (`\u001b`). Tabs, newlines and the CR of a CRLF stay as they are, so
 * ordinary files and their diffs are unchanged.
 */
const UNSAFE = /\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

const visible = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** Multi-line text (a diff, a commit message, a PR body) with every unsafe control character made visible. */
export function inertText(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** One line (a PR title, a branch, an author): line breaks become spaces, other controls visible escapes. */
export function inertLine(text: string): string {
  return text.replace(ANY_CONTROL, (c) => (c === "\n" || c === "\r" || c === "\t" ? " " : visible(c)));
}
