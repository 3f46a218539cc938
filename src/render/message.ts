/**
 * Platform-neutral message: presenters build it from job results, and one renderer per surface
 * (Slack Block Kit, terminal) turns it into output. Text is a list of spans so that every value that
 * came from a user, a cluster or a feed is escaped by the renderer, never trusted as markup.
 */
export type Span =
  | { t: 'lit'; text: string }
  | { t: 'val'; text: string }
  | { t: 'code'; text: string }
  | { t: 'bold'; text: string }
  | { t: 'link'; text: string; url: string }
  | { t: 'user'; id: string };

export type Text = readonly Span[];

/** A button on a result; `action` is the Bolt action_id, `value` its payload (kept under Slack's 2,000 chars). */
export type Button = { action: string; label: string; value: string; style?: 'primary' | 'danger' };

export type Block =
  | { kind: 'header'; text: string }
  | { kind: 'section'; text: Text }
  | { kind: 'fields'; fields: ReadonlyArray<{ label: string; value: Text }> }
  | { kind: 'list'; items: readonly Text[] }
  | { kind: 'context'; text: Text }
  | { kind: 'divider' }
  | { kind: 'actions'; buttons: readonly Button[] };

export type Message = { summary: string; blocks: readonly Block[]; attachments?: readonly FileAttachment[] };

/** Full detail that does not fit a chat message (CSV/JSON), uploaded next to it. */
export type FileAttachment = { filename: string; title: string; content: string };

/** Marks a value as inline code (digests, image references): copyable in full. */
export function code(text: string): Span {
  return { t: 'code', text };
}

/** Mentions a Slack user by id (a ping in Slack, `@id` in a terminal). */
export function user(id: string): Span {
  return { t: 'user', id: id.replace(/[^A-Z0-9]/g, '') };
}

export function bold(text: string): Span {
  return { t: 'bold', text };
}

/**
 * Tagged template for message text: the literal parts are scope's own markup (`*bold*`), every
 * interpolated value is data and is escaped unless it is already a Span made by `code()`/`bold()`.
 */
export function md(
  strings: TemplateStringsArray,
  ...values: ReadonlyArray<Span | Text | string | number>
): Text {
  const spans: Span[] = [];
  strings.forEach((lit, i) => {
    if (lit) spans.push({ t: 'lit', text: lit });
    if (i < values.length) {
      const v = values[i];
      if (typeof v === 'string' || typeof v === 'number') spans.push({ t: 'val', text: String(v) });
      else if (Array.isArray(v)) spans.push(...(v as Span[]));
      else if (v !== undefined) spans.push(v as Span);
    }
  });
  return spans;
}

/** Plain literal text, for labels that carry no data. */
export function lit(text: string): Text {
  return [{ t: 'lit', text }];
}

export function join(parts: readonly Text[], separator: string): Text {
  const out: Span[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push({ t: 'lit', text: separator });
    out.push(...p);
  });
  return out;
}

/**
 * Text written by scope with `backticks` around commands and values (error messages, usage hints): each
 * backticked part becomes a code span, the rest stays data, so Slack shows real code and escapes the rest.
 */
export function prose(text: string): Text {
  const out: Span[] = [];
  text.split(/(`[^`\n]+`)/).forEach((part) => {
    if (part === '') return;
    out.push(
      part.length > 2 && part.startsWith('`') && part.endsWith('`')
        ? code(part.slice(1, -1))
        : { t: 'val', text: part },
    );
  });
  return out;
}
