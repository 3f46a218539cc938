/**
 * Invisible characters people paste along with digests and names (zero-width spaces from chat clients,
 * bidi controls from rich text, BOMs): they never belong in an argument, and echoing them back hides them.
 */
const INVISIBLE = /[\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
/** Anything else that does not print: control and format characters, line/paragraph separators. */
const NON_PRINTING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Removes zero-width and bidi control characters from user input. */
export function stripInvisible(text: string): string {
  return text.replace(INVISIBLE, '');
}

/** `U+200B` notation for one character. */
export function codePoint(c: string): string {
  return `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** One character for an error message: `"g"`, `"ｇ" (U+FF47)` beyond ASCII, `U+200B` when it does not print. */
export function showChar(c: string): string {
  if (NON_PRINTING.test(c) || /\s/.test(c)) return codePoint(c);
  return /^[\x21-\x7E]$/.test(c) ? JSON.stringify(c) : `${JSON.stringify(c)} (${codePoint(c)})`;
}

/** Text with every non-printing character replaced by `[U+XXXX]`, safe to echo in a message. */
export function visible(text: string): string {
  return text.replace(new RegExp(NON_PRINTING.source, 'gu'), (c) =>
    c === '\n' || c === '\t' ? c : `[${codePoint(c)}]`,
  );
}
