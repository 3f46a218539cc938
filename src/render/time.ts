/** "3 h ago"-style age used next to every UTC time scope shows. */
export function relativeAge(iso: string | undefined, now: Date): string {
  if (!iso) return 'never';
  const s = Math.round((now.getTime() - Date.parse(iso)) / 1000);
  if (Number.isNaN(s)) return 'unknown';
  const future = s < 0;
  const a = Math.abs(s);
  const text =
    a < 60
      ? `${a} s`
      : a < 3600
        ? `${Math.floor(a / 60)} min`
        : a < 172_800
          ? `${Math.floor(a / 3600)} h`
          : `${Math.floor(a / 86_400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

/** UTC timestamp without seconds noise: 2026-11-25 03:12 UTC. */
export function utc(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function when(iso: string | undefined, now: Date): string {
  return iso ? `${utc(iso)} (${relativeAge(iso, now)})` : 'never';
}
