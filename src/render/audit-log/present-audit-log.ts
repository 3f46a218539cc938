import type { StoredAuditEntry } from '../../domain/audit-log/chain.ts';
import { footer, type PresentContext } from '../footer.ts';
import { type Block, code, lit, type Message, md, type Text, user } from '../message.ts';
import { utc } from '../time.ts';

const ICONS: Record<StoredAuditEntry['kind'], string> = {
  request: '📨',
  refusal: '⛔',
  result: '✅',
  failure: '❌',
  approval: '🖊️',
  action: '⚙️',
  system: '⚠️',
};

/** Recent audit entries, newest last, for `/scope log` (ephemeral) and `scope cli log`. */
export function presentAuditLog(
  entries: StoredAuditEntry[],
  unreadable: string[],
  ctx: PresentContext,
): Message {
  const blocks: Block[] = [{ kind: 'header', text: `Audit trail: last ${entries.length} entries` }];
  if (entries.length === 0) blocks.push({ kind: 'section', text: lit('No audit entries yet.') });
  else blocks.push({ kind: 'list', items: entries.map(line) });
  if (unreadable.length > 0)
    blocks.push({
      kind: 'section',
      text: md`:warning: ${unreadable.length} entr${unreadable.length === 1 ? 'y' : 'ies'} could not be read (malformed in Redis): ${unreadable.slice(0, 5).join(', ')}. Run ${code('scope cli audit-log verify')}.`,
    });
  blocks.push({
    kind: 'context',
    text: [
      ...md`Only the order and content are shown; ${code('scope cli audit-log verify')} checks the keyed chain. `,
      ...footer(ctx),
    ],
  });
  return { summary: `Audit trail: last ${entries.length} entries`, blocks };
}

function line(e: StoredAuditEntry): Text {
  const outcome = e.outcome ? md` → ${e.outcome}` : lit('');
  const detail = e.detail ? md` (${e.detail})` : lit('');
  const actor = /^[UW][A-Z0-9]+$/.test(e.actor) ? md`${user(e.actor)}` : md`${e.actor}`;
  return [
    ...md`${ICONS[e.kind]} #${e.seq} ${utc(e.at)} · ${e.kind} · `,
    ...actor,
    ...md` · ${code(e.command)}`,
    ...outcome,
    ...detail,
  ];
}
