import { describe, expect, it } from 'vitest';
import { isPodRecord, parsePodRecord } from '../../src/domain/inventory/record-guard.ts';

const D = `sha256:${'a'.repeat(64)}`;
const container = (over: Record<string, unknown> = {}) => ({
  name: 'api',
  type: 'container',
  image: 'registry.example.com/payments/api:1',
  repository: 'registry.example.com/payments/api',
  tag: '1',
  digest: D,
  startedAt: '2026-11-24T10:00:00Z',
  ...over,
});
const pod = (over: Record<string, unknown> = {}) => ({
  cluster: 'prod-eu',
  environment: 'prod',
  namespace: 'payments',
  name: 'api-1',
  uid: 'u1',
  node: 'n1',
  phase: 'Running',
  startTime: '2026-11-24T09:59:00Z',
  workload: { kind: 'Deployment', name: 'api' },
  containers: [container()],
  ...over,
});

// Redis is a trust boundary: only records of exactly the shape scope writes are used (issue #7, item 2).
describe('stored pod records are used only when they have the shape scope writes', () => {
  it('accepts what scope writes, including every container type and unknown newer fields', () => {
    expect(isPodRecord(pod())).toBe(true);
    for (const type of ['container', 'init', 'ephemeral'])
      expect(isPodRecord(pod({ containers: [container({ type })] }))).toBe(true);
    expect(isPodRecord(pod({ containers: [] }))).toBe(true);
    expect(isPodRecord(pod({ environment: '', uid: '' }))).toBe(true);
    expect(
      isPodRecord(pod({ containers: [container({ digest: undefined, sidecar: true, future: 1 })] })),
    ).toBe(true);
    expect(isPodRecord(pod({ node: undefined, phase: undefined, startTime: undefined }))).toBe(true);
    expect(isPodRecord(pod({ containers: [container({ image: '' })] }))).toBe(true);
  });

  it.each([
    ['not an object', 'x'],
    ['null', null],
    ['an array', []],
    ['no cluster', pod({ cluster: undefined })],
    ['empty cluster', pod({ cluster: '' })],
    ['empty namespace', pod({ namespace: '' })],
    ['numeric name', pod({ name: 7 })],
    ['empty name', pod({ name: '' })],
    ['environment not a string', pod({ environment: 1 })],
    ['uid not a string', pod({ uid: null })],
    ['node not a string', pod({ node: 1 })],
    ['phase not a string', pod({ phase: {} })],
    ['startTime not a string', pod({ startTime: 5 })],
    ['workload missing', pod({ workload: undefined })],
    ['workload an array', pod({ workload: [] })],
    ['workload without kind', pod({ workload: { name: 'api' } })],
    ['workload with empty name', pod({ workload: { kind: 'Deployment', name: '' } })],
    ['containers not an array', pod({ containers: 'api' })],
    ['container null', pod({ containers: [null] })],
    ['container without name', pod({ containers: [container({ name: '' })] })],
    ['container image not a string', pod({ containers: [container({ image: 1 })] })],
    ['container type unknown', pod({ containers: [container({ type: 'sidecar' })] })],
    ['container type missing', pod({ containers: [container({ type: undefined })] })],
    ['repository not a string', pod({ containers: [container({ repository: 1 })] })],
    ['tag not a string', pod({ containers: [container({ tag: 1 })] })],
    ['configId not a string', pod({ containers: [container({ configId: 1 })] })],
    ['imageID not a string', pod({ containers: [container({ imageID: [] })] })],
    ['startedAt not a string', pod({ containers: [container({ startedAt: 1 })] })],
    ['role not a string', pod({ containers: [container({ role: 1 })] })],
    ['digest not a sha256 digest', pod({ containers: [container({ digest: 'sha256:abc' })] })],
    ['digest with upper case', pod({ containers: [container({ digest: D.toUpperCase() })] })],
    ['digest with a suffix', pod({ containers: [container({ digest: `${D}x` })] })],
    ['digest with a prefix', pod({ containers: [container({ digest: `x${D}` })] })],
    ['one good and one bad container', pod({ containers: [container(), container({ type: 'bad' })] })],
  ])('refuses a record with %s', (_what, value) => {
    expect(isPodRecord(value)).toBe(false);
  });

  it('parses JSON, refusing malformed JSON and wrong shapes', () => {
    expect(parsePodRecord(JSON.stringify(pod()))?.name).toBe('api-1');
    expect(parsePodRecord('{not json')).toBeUndefined();
    expect(parsePodRecord(JSON.stringify({ ...pod(), containers: {} }))).toBeUndefined();
  });
});
