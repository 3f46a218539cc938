import { visible } from '../domain/text.ts';
import type { Block, Message, Span, Text } from './message.ts';

const EMOJI: Readonly<Record<string, string>> = {
  warning: '⚠️ ',
  mag: '🔍',
  rotating_light: '🚨',
  package: '📦',
  hourglass_flowing_sand: '⏳',
  round_pushpin: '📍',
  white_check_mark: '✅',
  grey_question: '❓',
  information_source: 'ℹ️ ',
  x: '❌',
  small_blue_diamond: '🔹',
  heavy_minus_sign: '➖',
  no_entry_sign: '🚫',
  shield: '🛡️',
  no_entry: '⛔',
};

/** Slack emoji shortcodes scope uses, as terminal characters. */
export function emojify(text: string): string {
  return text.replace(/:([a-z_]+):/g, (m, name: string) => EMOJI[name] ?? m);
}

/** Renders a neutral Message for a terminal: readable plain text, optional ANSI emphasis. */
export function toTerminal(message: Message, opts: { color?: boolean } = {}): string {
  const bold = (s: string) => (opts.color ? `\u001b[1m${s}\u001b[22m` : s);
  const dim = (s: string) => (opts.color ? `\u001b[2m${s}\u001b[22m` : s);
  const span = (s: Span): string => {
    switch (s.t) {
      case 'lit':
        return emojify(s.text)
          .replace(/\*([^*\n]+)\*/g, (_m, inner: string) => bold(inner))
          .replace(/(^|\s)_([^_\n]+)_(?=\s|$|[.,;:])/g, '$1$2');
      case 'val':
        return stripControl(s.text).replace(/\n/g, ' ');
      case 'code':
        return stripControl(s.text).replace(/\n/g, ' ');
      case 'bold':
        return bold(stripControl(s.text));
      case 'link':
        return `${stripControl(s.text)} (${stripControl(s.url)})`;
      case 'user':
        return `@${s.id}`;
    }
  };
  const text = (t: Text) => t.map(span).join('');
  const lines: string[] = [];
  let buttonNo = 0;
  const render = (b: Block) => {
    switch (b.kind) {
      case 'header':
        lines.push(bold(b.text), '');
        break;
      case 'section':
        lines.push(text(b.text), '');
        break;
      case 'fields':
        for (const f of b.fields) lines.push(`${f.label}: ${text(f.value).replace(/\n/g, ', ')}`);
        lines.push('');
        break;
      case 'list':
        for (const item of b.items) lines.push(`  • ${text(item)}`);
        lines.push('');
        break;
      case 'context':
        lines.push(dim(text(b.text)), '');
        break;
      case 'divider':
        lines.push(dim('─'.repeat(60)));
        break;
      case 'actions':
        for (const btn of b.buttons) lines.push(`  [${++buttonNo}] ${btn.label}`);
        lines.push('');
        break;
    }
  };
  for (const b of message.blocks) render(b);
  for (const a of message.attachments ?? []) lines.push(dim(`(attachment ${a.filename}: ${a.title})`));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

/** Buttons in display order, numbered as toTerminal numbers them, so a console can press them. */
export function buttonsOf(message: Message): Array<{ action: string; label: string; value: string }> {
  return message.blocks.flatMap((b) => (b.kind === 'actions' ? b.buttons : []));
}

function stripControl(s: string): string {
  // Bidi overrides and zero-width characters in data (an image name, say) are shown as [U+202E], not obeyed.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing terminal escape sequences from data is the point
  return visible(s.replace(/[\u0000-\u0008\u000B-\u001F\u007F\u009B]/g, ''));
}
