import type { KnownBlock } from '@slack/types';
import { visible } from '../domain/text.ts';
import type { Block, Message, Span, Text } from './message.ts';

/** Slack Block Kit JSON as posted with chat.postMessage / chat.update. */
export type SlackBlock = KnownBlock;
export type SlackMessage = { text: string; blocks: SlackBlock[] };

const SECTION_LIMIT = 3000;
const MAX_BLOCKS = 50;

/** Escapes data for mrkdwn: no `<!channel>` pings, no spoofed `<url|label>` links, no broken formatting. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function span(s: Span): string {
  switch (s.t) {
    case 'lit':
      return s.text;
    case 'val':
      return escapeMrkdwn(visible(s.text)).replace(/([*_~`])/g, '\u200B$1\u200B');
    case 'code':
      return `\`${escapeMrkdwn(visible(s.text).replace(/`/g, "'"))}\``;
    case 'bold':
      return `*${escapeMrkdwn(visible(s.text).replace(/\*/g, ''))}*`;
    case 'user':
      return s.id ? `<@${s.id}>` : '';
    case 'link':
      return /^https:\/\//.test(s.url)
        ? `<${s.url.replace(/[<>|]/g, '')}|${escapeMrkdwn(s.text).replace(/\|/g, '')}>`
        : escapeMrkdwn(s.text);
  }
}

export function mrkdwn(text: Text): string {
  const out = text.map(span).join('');
  return out.length > SECTION_LIMIT ? `${out.slice(0, SECTION_LIMIT - 1)}…` : out;
}

function block(b: Block): SlackBlock[] {
  switch (b.kind) {
    case 'header':
      return [{ type: 'header', text: { type: 'plain_text', text: b.text.slice(0, 150), emoji: true } }];
    case 'section':
      return [{ type: 'section', text: { type: 'mrkdwn', text: mrkdwn(b.text) } }];
    case 'fields': {
      const out: SlackBlock[] = [];
      for (let i = 0; i < b.fields.length; i += 10) {
        out.push({
          type: 'section',
          fields: b.fields.slice(i, i + 10).map((f) => ({
            type: 'mrkdwn',
            text: mrkdwn([{ t: 'lit', text: `*${f.label}*\n` }, ...f.value]).slice(0, 2000),
          })),
        });
      }
      return out;
    }
    case 'list': {
      if (b.items.length === 0) return [];
      const chunks: string[] = [];
      let current = '';
      for (const item of b.items) {
        // One item longer than a section would otherwise be pushed whole, and Slack rejects the message.
        const full = `• ${item.map(span).join('')}`;
        const line = full.length > SECTION_LIMIT ? `${full.slice(0, SECTION_LIMIT - 1)}…` : full;
        if (current.length + line.length + 1 > SECTION_LIMIT && current) {
          chunks.push(current);
          current = '';
        }
        current = current ? `${current}\n${line}` : line;
      }
      if (current) chunks.push(current.slice(0, SECTION_LIMIT));
      return chunks.map((c) => ({ type: 'section', text: { type: 'mrkdwn', text: c } }));
    }
    case 'context':
      return [{ type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn(b.text) }] }];
    case 'divider':
      return [{ type: 'divider' }];
    case 'actions':
      return [
        {
          type: 'actions',
          elements: b.buttons.slice(0, 25).map((btn) => ({
            type: 'button',
            action_id: btn.action,
            text: { type: 'plain_text', text: btn.label.slice(0, 75), emoji: true },
            value: btn.value.slice(0, 2000),
            ...(btn.style ? { style: btn.style } : {}),
          })),
        },
      ];
  }
}

/** Renders a neutral Message to Block Kit, keeping within Slack's 50-block limit. */
export function toSlack(message: Message): SlackMessage {
  let blocks = message.blocks.flatMap(block);
  if (blocks.length > MAX_BLOCKS) {
    blocks = [
      ...blocks.slice(0, MAX_BLOCKS - 1),
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `…${blocks.length - MAX_BLOCKS + 1} more blocks in the attached file.` },
        ],
      },
    ];
  }
  return { text: escapeMrkdwn(message.summary).slice(0, 3000), blocks };
}
