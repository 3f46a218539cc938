import { code, lit, md, type Text, user } from './message.ts';

/** Facts about the request that every result shows (who asked, what, how long it took). */
export type PresentContext = { requesterId?: string; commandText: string; elapsedMs?: number; now: Date };

/** "Asked by @u · /scope … · answered in 0.4 s" line under every result. */
export function footer(ctx: PresentContext): Text {
  const who = ctx.requesterId ? md`Asked by ${user(ctx.requesterId)} · ` : [];
  const took =
    ctx.elapsedMs !== undefined ? md` · answered in ${(ctx.elapsedMs / 1000).toFixed(2)} s` : lit('');
  return [...who, ...md`${code(ctx.commandText)}${took}`];
}
