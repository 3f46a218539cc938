import { describe, expect, it } from 'vitest';
import { scanFleet } from '../../src/adapters/kubernetes/collector.ts';
import { parseConfig } from '../../src/config.ts';
import { digestQuery } from '../../src/jobs/inventory-queries.ts';
import { MemoryInventory } from '../../src/store/inventory/memory-inventory.ts';

// Opt-in: SCOPE_E2E_KUBECONFIG=~/.kube/config [SCOPE_E2E_CONTEXT=name] ./run test test/e2e
const kubeconfig = process.env.SCOPE_E2E_KUBECONFIG;
const context = process.env.SCOPE_E2E_CONTEXT;

describe.skipIf(!kubeconfig)('collection against a real cluster (opt-in)', () => {
  it('lists every pod with its running digest and owning workload, and finds a digest again', async () => {
    const config = parseConfig({
      clusters: [
        { name: 'e2e', environment: 'e2e', kubeconfig, ...(context ? { context } : {}), timeoutSeconds: 60 },
      ],
    });
    const scan = await scanFleet(config.clusters, AbortSignal.timeout(120_000), { pageSize: 500 });
    expect(scan.syncs[0]?.ok, scan.syncs[0]?.error).toBe(true);
    expect(scan.pods.length).toBeGreaterThan(0);
    const withDigest = scan.pods.flatMap((p) => p.containers.filter((c) => c.digest).map((c) => ({ p, c })));
    expect(withDigest.length).toBeGreaterThan(0);
    for (const p of scan.pods) expect(p.workload.name).not.toBe('');
    const sample = withDigest[0];
    if (!sample?.c.digest) return;
    const report = await digestQuery(
      new MemoryInventory(scan.pods, scan.syncs),
      { kind: 'digest', digest: sample.c.digest as never },
      new Date(),
    );
    expect(report.totals.pods).toBeGreaterThan(0);
  });
});
