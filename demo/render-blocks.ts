import { emojify } from '../src/render/terminal.ts';

/** Renders Slack Block Kit JSON (as the fake Slack received it) for a terminal, listing buttons by number. */
export type ConsoleButton = { action_id: string; value: string; label: string };

function unescapeMrkdwn(s: string): string {
  return s
    .replace(/:([a-z_]+):/g, (m) => emojify(m))
    .replace(/\u200B/g, '')
    .replace(/<@([A-Z0-9]+)>/g, '@$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function mrkdwn(s: string, color: boolean): string {
  const text = unescapeMrkdwn(s);
  if (!color) return text.replace(/\*([^*\n]+)\*/g, '$1').replace(/`([^`\n]+)`/g, '$1');
  return text
    .replace(/\*([^*\n]+)\*/g, '\u001b[1m$1\u001b[22m')
    .replace(/`([^`\n]+)`/g, '\u001b[36m$1\u001b[39m');
}

export function renderBlocks(blocks: unknown[], color: boolean, buttons: ConsoleButton[]): string {
  const out: string[] = [];
  for (const raw of blocks) {
    const b = raw as Record<string, unknown>;
    const text = (b.text as { text?: string } | undefined)?.text ?? '';
    switch (b.type) {
      case 'header':
        out.push(color ? `\u001b[1m${text}\u001b[22m` : text.toUpperCase());
        break;
      case 'section':
        if (text) out.push(mrkdwn(text, color));
        for (const f of (b.fields as Array<{ text: string }> | undefined) ?? [])
          out.push(mrkdwn(f.text, color).replace('\n', ': '));
        break;
      case 'context': {
        const t = ((b.elements as Array<{ text?: string }>) ?? [])
          .map((e) => mrkdwn(e.text ?? '', color))
          .join(' ');
        out.push(color ? `\u001b[2m${t}\u001b[22m` : t);
        break;
      }
      case 'divider':
        out.push('─'.repeat(60));
        break;
      case 'actions':
        for (const e of (b.elements as Array<Record<string, unknown>>) ?? []) {
          buttons.push({
            action_id: String(e.action_id),
            value: String(e.value ?? ''),
            label: String((e.text as { text?: string } | undefined)?.text ?? e.action_id),
          });
          out.push(
            `  [${buttons.length}] ${buttons[buttons.length - 1]?.label}   (type: press ${buttons.length})`,
          );
        }
        break;
    }
  }
  return out.join('\n');
}
