import { createHash } from 'node:crypto';
import type { Exposure } from '../../domain/advisories/match.ts';
import { parseImageRef, repositoryKey } from '../../domain/inventory/image-ref.ts';
import type { InventoryReader } from '../inventory-queries.ts';

/**
 * Everything the inventory knows ran or runs, as exposures: pods running now (current) and deployment
 * history within the look-back window (past). Read through the inventory reader port only.
 */
export async function loadExposures(inv: InventoryReader, now: Date): Promise<Exposure[]> {
  const states = await inv.syncStates();
  const out: Exposure[] = [];
  for (const s of states) {
    const [pods, history] = await Promise.all([
      inv.podsInCluster(s.cluster),
      inv.workloadHistory(s.cluster, now),
    ]);
    const hist = new Map(
      history.map((h) => [`${h.namespace}|${h.workload.kind}/${h.workload.name}|${h.digest}`, h]),
    );
    const seen = new Set<string>();
    for (const p of pods) {
      const workload = `${p.workload.kind}/${p.workload.name}`;
      for (const c of p.containers) {
        const key = `${p.namespace}|${workload}|${c.digest ?? c.image}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const h = c.digest ? hist.get(key) : undefined;
        out.push({
          environment: p.environment,
          cluster: p.cluster,
          namespace: p.namespace,
          workload,
          image: c.image,
          ...(c.digest ? { digest: c.digest } : {}),
          ...(c.repository ? { repository: c.repository } : {}),
          ...(c.tag ? { tag: c.tag } : {}),
          state: 'current',
          ...(h?.firstSeen ? { firstSeen: h.firstSeen } : {}),
        });
      }
    }
    for (const h of history) {
      const workload = `${h.workload.kind}/${h.workload.name}`;
      if (seen.has(`${h.namespace}|${workload}|${h.digest}`)) continue;
      const ref = imageParts(h.image);
      out.push({
        environment: h.environment || s.environment,
        cluster: h.cluster,
        namespace: h.namespace,
        workload,
        image: h.image,
        digest: h.digest,
        ...ref,
        state: 'past',
        ...(h.firstSeen ? { firstSeen: h.firstSeen } : {}),
        ...(h.lastSeen ? { lastSeen: h.lastSeen } : {}),
      });
    }
  }
  return out;
}

function imageParts(image: string): { repository?: string; tag?: string } {
  try {
    const ref = parseImageRef(image);
    return { repository: repositoryKey(ref), ...(ref.tag ? { tag: ref.tag } : {}) };
  } catch {
    return {};
  }
}

/** Changes whenever the set of images (digest, repository, tag) in the fleet changes, current or past. */
export function imageSetFingerprint(exposures: readonly Exposure[]): string {
  const keys = new Set(exposures.map((e) => `${e.digest ?? ''}|${e.repository ?? ''}|${e.tag ?? ''}`));
  const h = createHash('sha256');
  for (const k of [...keys].sort()) h.update(k).update('\n');
  return h.digest('hex').slice(0, 32);
}
