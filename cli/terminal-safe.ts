/**
 * What the CLI prints is safe to read in a terminal. Much of it comes from outside payhook: a signed reference or
 * event type, fields a gateway controls, the path and header names of an unauthenticated request. Such text can carry
 * terminal escape sequences (`ESC [31m` recolours the screen, `ESC ]0;...BEL` retitles the window or, in some
 * terminals, writes the clipboard, the 8-bit CSI U+009B does the same as `ESC [`), a carriage return that overwrites
 * what was printed before it on the line, a newline that forges a line of its own, or bidi controls that show `1234`
 * as `4321`. So every such character is shown escaped, never raw.
 *
 * Two layers, both here:
 * - every value put into human-readable output goes through {@link escapeField}: by {@link safe} (a template tag whose
 *   interpolated values are escaped, the literal text around them kept) or {@link columns} (a table whose cells are
 *   escaped before they are measured). A newline inside a value shows as `\n`, so one value is always one line.
 * - everything written at all goes through {@link terminalSafeIo}, which the program installs around its I/O: whatever a
 *   printer forgot to escape is still escaped, with every line break kept. JSON (`--json`) passes through it exactly:
 *   JSON.stringify writes no raw C0 controls, and every other character escaped here can only stand inside a JSON
 *   string, where its `\uXXXX` escape is valid JSON that parses back to the same character.
 *
 * Escapes are written as in JSON (`\n`, `\r`, `\t`, `\u001b`, `\u202e`), the notation payhook also uses for queue
 * attributes. A backslash is shown as it is, so `\u001b` typed as text and an escape character look alike; `--json`
 * tells them apart.
 */
import type { CliIo } from './io.js';

/**
 * Characters never written raw: C0 controls, DEL and C1 controls; the bidi embeddings, overrides, isolates and marks
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069); the line and paragraph separators (U+2028, U+2029), which
 * some terminals break lines at; and the invisible zero width space, word joiner and byte-order mark (U+200B, U+2060,
 * U+FEFF), which make two different identifiers look the same.
 */
const UNSAFE_CLASS =
  '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff';
const UNSAFE = new RegExp(`[${UNSAFE_CLASS}]`, 'g');
/** The same, but the newline, which separates the lines a printer writes. */
const UNSAFE_BUT_NEWLINE = new RegExp(`(?!\\n)[${UNSAFE_CLASS}]`, 'g');

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCharacter(character: string): string {
  return SHORT_ESCAPES[character] ?? `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}

/** True when `text` holds a character that is never written raw. */
export function hasUnsafeCharacters(text: string): boolean {
  return new RegExp(`[${UNSAFE_CLASS}]`).test(text);
}

/** One value as it is shown: every control, bidi and invisible character escaped, newlines included. */
export function escapeField(value: string): string {
  return value.replace(UNSAFE, escapeCharacter);
}

/**
 * Text about to be written: as {@link escapeField}, but line breaks are kept. Also valid on JSON text, which it
 * changes only inside strings and only into escapes that parse back to the same characters.
 */
export function escapeOutput(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, escapeCharacter);
}

/** A value a printer interpolates. */
export type Shown = string | number | bigint | boolean | null | undefined;

/**
 * A template tag for human-readable output: the literal text is kept as written (its newlines included), every
 * interpolated value is escaped with {@link escapeField}. ``safe`  reference ${reference}\n` ``
 */
export function safe(strings: TemplateStringsArray, ...values: readonly Shown[]): string {
  let result = strings[0] ?? '';
  values.forEach((value, index) => {
    result += escapeField(String(value)) + (strings[index + 1] ?? '');
  });
  return result;
}

/**
 * Rows of cells as left-aligned columns two spaces apart, one line each (no newlines; the last column is not padded,
 * and trailing spaces are trimmed). Cells are escaped before they are measured, so the columns stay aligned.
 */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const escaped = rows.map((row) => row.map(escapeField));
  const widths: number[] = [];
  for (const row of escaped) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return escaped.map((row) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The same I/O with everything written escaped by {@link escapeOutput}. On standard error a carriage return that
 * starts a write is kept: it is how the redrive progress bar redraws its own line. Wrapping twice changes nothing.
 */
export function terminalSafeIo(io: CliIo): CliIo {
  return {
    ...io,
    stdout: (text) => io.stdout(escapeOutput(text)),
    stderr: (text) =>
      io.stderr(text.startsWith('\r') ? `\r${escapeOutput(text.slice(1))}` : escapeOutput(text)),
  };
}
