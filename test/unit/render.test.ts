import type { KnownBlock, SectionBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { type Block, bold, code, join, lit, type Message, md, type Span } from '../../src/render/message.ts';
import { escapeMrkdwn, mrkdwn, toSlack } from '../../src/render/slack-blocks.ts';
import { buttonsOf, toTerminal } from '../../src/render/terminal.ts';

const EVIL = '<!channel> <https://evil|click> *bold* & co';
const ZW = '\u200B';

function sectionText(b: KnownBlock | undefined): string {
  if (b?.type !== 'section') throw new Error(`expected a section block, got ${b?.type}`);
  const text = (b as SectionBlock).text;
  if (text?.type !== 'mrkdwn') throw new Error('expected mrkdwn text');
  return text.text;
}

function msg(blocks: Block[], summary = 'summary'): Message {
  return { summary, blocks };
}

/** True when Slack would turn part of the text into a ping, a link, or bold, italic or struck-out text. */
function hasLiveMarkup(s: string): boolean {
  return (
    /<[!@#]/.test(s) ||
    /<[a-z]+:/i.test(s) ||
    /(^|[\s(])\*[^\s*\u200B][^*]*\*/.test(s) ||
    /(^|[\s(])_[^\s_\u200B][^_]*_/.test(s) ||
    /(^|[\s(])~[^\s~\u200B][^~]*~/.test(s)
  );
}

describe('md', () => {
  it('keeps literal parts as markup and interpolated values as data', () => {
    expect(md`*Cluster* ${'prod-eu'} has ${3} pods`).toEqual([
      { t: 'lit', text: '*Cluster* ' },
      { t: 'val', text: 'prod-eu' },
      { t: 'lit', text: ' has ' },
      { t: 'val', text: '3' },
      { t: 'lit', text: ' pods' },
    ]);
  });

  it('splices spans and nested text in as they are', () => {
    const inner = md`in ${code('prod-eu')}`;
    expect(md`${bold('api')} ${inner}`).toEqual([
      { t: 'bold', text: 'api' },
      { t: 'lit', text: ' ' },
      { t: 'lit', text: 'in ' },
      { t: 'code', text: 'prod-eu' },
    ]);
  });

  it('joins texts with a literal separator', () => {
    expect(join([lit('a'), md`${'b'}`, lit('c')], ' · ')).toEqual([
      { t: 'lit', text: 'a' },
      { t: 'lit', text: ' · ' },
      { t: 'val', text: 'b' },
      { t: 'lit', text: ' · ' },
      { t: 'lit', text: 'c' },
    ]);
    expect(join([], ', ')).toEqual([]);
  });
});

describe('Slack escaping', () => {
  it('escapes the three mrkdwn control characters', () => {
    expect(escapeMrkdwn('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
  });

  it('renders an interpolated value without a live mention, link or formatting', () => {
    const out = mrkdwn(md`Deploy ${EVIL} now`);
    expect(out).toBe(
      `Deploy &lt;!channel&gt; &lt;https://evil|click&gt; ${ZW}*${ZW}bold${ZW}*${ZW} &amp; co now`,
    );
    expect(hasLiveMarkup(out)).toBe(false);
    // The same text as a literal is scope's own markup and does produce formatting: the check can fail.
    expect(hasLiveMarkup(mrkdwn(lit(EVIL)))).toBe(true);
  });

  it('neutralises _italic_, ~strike~ and `code` in values', () => {
    const out = mrkdwn(md`${'_a_ ~b~ `c`'}`);
    expect(out).toBe(`${ZW}_${ZW}a${ZW}_${ZW} ${ZW}~${ZW}b${ZW}~${ZW} ${ZW}\`${ZW}c${ZW}\`${ZW}`);
    expect(hasLiveMarkup(out)).toBe(false);
  });

  it('escapes values inside a section block the same way', () => {
    const slack = toSlack(msg([{ kind: 'section', text: md`:warning: ${EVIL}` }]));
    const text = sectionText(slack.blocks[0]);
    expect(text.startsWith(':warning: &lt;!channel&gt;')).toBe(true);
    expect(hasLiveMarkup(text)).toBe(false);
  });

  it('escapes values in list items, fields and context', () => {
    const slack = toSlack(
      msg([
        { kind: 'list', items: [md`${EVIL}`] },
        { kind: 'fields', fields: [{ label: 'Cluster', value: md`${EVIL}` }] },
        { kind: 'context', text: md`${EVIL}` },
      ]),
    );
    const texts = JSON.stringify(slack.blocks);
    expect(texts).not.toContain('<!channel>');
    expect(texts).not.toContain('<https://evil');
    expect(texts).toContain('&lt;!channel&gt;');
  });

  it('code() keeps the value in one code span: backticks cannot close it early', () => {
    const out = mrkdwn([code('a`b``c <!here> & d')]);
    expect(out).toBe("`a'b''c &lt;!here&gt; &amp; d`");
    expect(out.match(/`/g)).toHaveLength(2);
  });

  it('keeps a digest in a code span intact', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    expect(mrkdwn(md`runs ${code(digest)}`)).toBe(`runs \`${digest}\``);
  });

  it('bold() cannot end its own emphasis early or ping anyone', () => {
    expect(mrkdwn([bold('pay*ments <!everyone>')])).toBe('*payments &lt;!everyone&gt;*');
  });

  it('links only https URLs, and the label cannot break out of the link', () => {
    const span = (url: string, text: string): Span => ({ t: 'link', text, url });
    expect(mrkdwn([span('https://example.com/a?b=<c>|d', 'Run|book <x>')])).toBe(
      '<https://example.com/a?b=cd|Runbook &lt;x&gt;>',
    );
    expect(mrkdwn([span('javascript:alert(1)', 'click')])).toBe('click');
    expect(mrkdwn([span('http://plain.example.com', 'plain')])).toBe('plain');
  });

  it('truncates a section over 3,000 characters with an ellipsis', () => {
    const out = mrkdwn(md`${'x'.repeat(3500)}`);
    expect(out).toHaveLength(3000);
    expect(out.endsWith('x…')).toBe(true);
  });

  it('limits a header to 150 characters of plain text', () => {
    const slack = toSlack(msg([{ kind: 'header', text: 'h'.repeat(200) }]));
    expect(slack.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'h'.repeat(150), emoji: true },
    });
  });
});

describe('Slack blocks', () => {
  it('passes a message under the block limit through unchanged', () => {
    const blocks: Block[] = Array.from({ length: 50 }, (_, i) => ({ kind: 'section', text: md`n${i}` }));
    const slack = toSlack(msg(blocks));
    expect(slack.blocks).toHaveLength(50);
    expect(sectionText(slack.blocks[49])).toBe('n49');
  });

  it('truncates more than 50 blocks to 49 plus a context note counting the rest', () => {
    const blocks: Block[] = Array.from({ length: 60 }, (_, i) => ({ kind: 'section', text: md`n${i}` }));
    const slack = toSlack(msg(blocks));
    expect(slack.blocks).toHaveLength(50);
    expect(sectionText(slack.blocks[48])).toBe('n48');
    expect(slack.blocks[49]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '…11 more blocks in the attached file.' }],
    });
  });

  it('counts blocks after expansion (a long list becomes several sections)', () => {
    const long = Array.from({ length: 60 }, () => lit('y'.repeat(100)));
    const blocks: Block[] = [
      ...Array.from({ length: 48 }, (_, i): Block => ({ kind: 'section', text: md`n${i}` })),
      { kind: 'list', items: long },
    ];
    const slack = toSlack(msg(blocks));
    expect(slack.blocks).toHaveLength(50);
    expect(slack.blocks[49]?.type).toBe('context');
  });

  it('chunks a long list into sections under 3,000 characters without losing or reordering items', () => {
    const items = Array.from(
      { length: 200 },
      (_, i) => md`item ${String(i).padStart(3, '0')} ${'z'.repeat(30)}`,
    );
    const slack = toSlack(msg([{ kind: 'list', items }]));
    expect(slack.blocks.length).toBeGreaterThan(1);
    const texts = slack.blocks.map(sectionText);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(3000);
    const lines = texts.flatMap((t) => t.split('\n'));
    expect(lines).toHaveLength(200);
    expect(lines[0]).toBe(`• item 000 ${'z'.repeat(30)}`);
    expect(lines[199]).toBe(`• item 199 ${'z'.repeat(30)}`);
    // Each chunk is as full as it can be: adding the next line would have crossed the limit.
    for (let i = 0; i < texts.length - 1; i++) {
      const next = texts[i + 1]?.split('\n')[0] ?? '';
      expect((texts[i]?.length ?? 0) + 1 + next.length).toBeGreaterThan(3000);
    }
  });

  it('keeps every list section under 3,000 characters even when one item is longer', () => {
    const items = [lit('first'), md`${'w'.repeat(3500)}`, lit('last')];
    const slack = toSlack(msg([{ kind: 'list', items }]));
    const texts = slack.blocks.map(sectionText);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(3000);
    expect(texts[0]).toBe('• first');
    expect(texts.at(-1)?.endsWith('• last')).toBe(true);
    expect(texts.join('\n')).toContain(`• ${'w'.repeat(100)}`);
  });

  it('renders an empty list as nothing', () => {
    expect(toSlack(msg([{ kind: 'list', items: [] }])).blocks).toEqual([]);
  });

  it('splits fields into sections of at most ten', () => {
    const fields = Array.from({ length: 12 }, (_, i) => ({ label: `F${i}`, value: md`${i}` }));
    const slack = toSlack(msg([{ kind: 'fields', fields }]));
    expect(slack.blocks).toHaveLength(2);
    const first = slack.blocks[0] as SectionBlock;
    expect(first.fields).toHaveLength(10);
    expect(first.fields?.[0]).toEqual({ type: 'mrkdwn', text: '*F0*\n0' });
    expect((slack.blocks[1] as SectionBlock).fields).toHaveLength(2);
  });

  it('renders buttons, dividers and context', () => {
    const slack = toSlack(
      msg([
        { kind: 'divider' },
        {
          kind: 'actions',
          buttons: [
            { action: 'scope_refresh', label: 'Refresh', value: '{"id":1}', style: 'primary' },
            { action: 'scope_csv', label: 'CSV', value: 'x' },
          ],
        },
        { kind: 'context', text: lit('small print') },
      ]),
    );
    expect(slack.blocks).toEqual([
      { type: 'divider' },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'scope_refresh',
            text: { type: 'plain_text', text: 'Refresh', emoji: true },
            value: '{"id":1}',
            style: 'primary',
          },
          {
            type: 'button',
            action_id: 'scope_csv',
            text: { type: 'plain_text', text: 'CSV', emoji: true },
            value: 'x',
          },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'small print' }] },
    ]);
  });

  it('uses the summary as the notification text, capped at 3,000 characters', () => {
    expect(toSlack(msg([], 'short')).text).toBe('short');
    expect(toSlack(msg([], 's'.repeat(4000))).text).toHaveLength(3000);
  });
});

describe('terminal', () => {
  const ESC = '\u001b';
  const hostile = `${ESC}[2J${ESC}]0;pwned\u0007red${ESC}[31m!\u009b1mX\u0000\r`;

  it('strips escape and control characters from every kind of data span', () => {
    const out = toTerminal(
      msg([
        { kind: 'section', text: md`val ${hostile}` },
        { kind: 'list', items: [[code(hostile), { t: 'lit', text: ' ' }, bold(hostile)]] },
        { kind: 'context', text: [{ t: 'link', text: hostile, url: `https://x/${hostile}` }] },
        { kind: 'fields', fields: [{ label: 'F', value: md`${hostile}` }] },
      ]),
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting that no control characters survive
    expect(out).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F\u009B]/);
    expect(out).toContain('val [2J]0;pwnedred[31m!1mX');
  });

  it('uses ANSI emphasis only when colour is asked for, and only its own', () => {
    const m = msg([
      { kind: 'section', text: md`*Tag drift:* ${'*not bold*'} ${bold('api')}` },
      { kind: 'context', text: lit('footer') },
    ]);
    expect(toTerminal(m)).toBe('Tag drift: *not bold* api\n\nfooter');
    expect(toTerminal(m, { color: true })).toBe(
      `${ESC}[1mTag drift:${ESC}[22m *not bold* ${ESC}[1mapi${ESC}[22m\n\n${ESC}[2mfooter${ESC}[22m`,
    );
  });

  it('numbers buttons across all actions blocks in display order', () => {
    const m = msg([
      { kind: 'section', text: lit('Pick one') },
      {
        kind: 'actions',
        buttons: [
          { action: 'a', label: 'Refresh', value: '1' },
          { action: 'b', label: 'Export CSV', value: '2' },
        ],
      },
      { kind: 'divider' },
      { kind: 'actions', buttons: [{ action: 'c', label: 'Quarantine', value: '3', style: 'danger' }] },
    ]);
    const out = toTerminal(m);
    expect(out).toContain('  [1] Refresh\n  [2] Export CSV');
    expect(out).toContain('  [3] Quarantine');
    expect(buttonsOf(m).map((b) => b.action)).toEqual(['a', 'b', 'c']);
  });

  it('renders lists, fields, headers and attachments as plain lines without trailing blanks', () => {
    const m: Message = {
      summary: 's',
      blocks: [
        { kind: 'header', text: 'scope status' },
        { kind: 'fields', fields: [{ label: 'Queue', value: md`${'1 waiting'}\n${'2 active'}` }] },
        { kind: 'list', items: [lit('one'), lit('two')] },
      ],
      attachments: [{ filename: 'a.csv', title: 'All rows', content: 'x' }],
    };
    expect(toTerminal(m)).toBe(
      [
        'scope status',
        '',
        'Queue: 1 waiting, 2 active',
        '',
        '  • one',
        '  • two',
        '',
        '(attachment a.csv: All rows)',
      ].join('\n'),
    );
  });
});
