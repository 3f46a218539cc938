/**
 * One CSV cell, safe to open in a spreadsheet: a value a spreadsheet would run as a formula (leading `=`, `+`,
 * `-`, `@`, tab or carriage return) is prefixed with `'`, and a value holding a quote, comma, CR or LF is quoted.
 */
export function csvCell(v: string | number | boolean | undefined): string {
  const s = v === undefined ? '' : String(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Rows of cells to CSV text with a trailing newline. */
export function csv(rows: ReadonlyArray<ReadonlyArray<string | number | boolean | undefined>>): string {
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}
