import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container } from '../src/container.ts';
import { slackClient, startAdvisories } from '../src/worker-process.ts';
import { COMPROMISED } from './fleet.ts';

/** The demo's advisory feed: a vendor IOC list naming the story's compromised digest (CSV, as documented). */
export async function demoAdvisoriesConfig(dir: string) {
  const path = join(dir, 'vendor-iocs.csv');
  await writeFile(
    path,
    [
      'id,type,value,title,severity,reference',
      `IOC-2026-0042,image-digest,${COMPROMISED},Compromised payments-api base image,critical,https://vendor.example/advisory/42`,
    ].join('\n'),
  );
  return {
    feeds: [{ name: 'vendor-iocs', kind: 'ioc' as const, path, intervalSeconds: 60 }],
    rematchSeconds: 5,
  };
}

/** Starts feed polling and re-matching; `/scope watch all` then posts the advisory within a few seconds. */
export async function startDemoAdvisories(c: Container): Promise<() => Promise<void>> {
  const running = await startAdvisories(c, slackClient(c));
  // The first poll runs at once and re-matches; wait for it so the first /scope advisories has an answer.
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !(await c.advisories.matchedAt()))
    await new Promise((r) => setTimeout(r, 100));
  return running.stop;
}
