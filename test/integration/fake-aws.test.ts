import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkRecords } from '../../src/testing/cloudtrail-fixtures.ts';
import { type FakeAws, startFakeAws } from '../../src/testing/fake-aws/server.ts';

let fake: FakeAws;
let ct: CloudTrailClient;
const now = Date.now();

beforeAll(async () => {
  fake = await startFakeAws({ lookupRatePerSecond: 1000 });
  fake.cloudtrail.burst = 1000;
  fake.cloudtrail.addRecords(
    bulkRecords({ count: 120, regions: ['eu-west-1'], user: 'u1', from: now - 3_600_000, to: now - 1000 }),
  );
  ct = new CloudTrailClient({
    region: 'eu-west-1',
    endpoint: fake.endpoint,
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  ct?.destroy();
  await fake?.close();
});

const user = { AttributeKey: 'Username' as const, AttributeValue: 'u1' };

describe('the CloudTrail stand-in speaks LookupEvents as documented', () => {
  it('pages newest first with epoch-second times, 50 at most', async () => {
    const a = await ct.send(new LookupEventsCommand({ LookupAttributes: [user], MaxResults: 50 }));
    expect(a.Events).toHaveLength(50);
    const times = (a.Events ?? []).map((e) => e.EventTime?.getTime() ?? 0);
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    const b = await ct.send(
      new LookupEventsCommand({ LookupAttributes: [user], MaxResults: 50, NextToken: a.NextToken }),
    );
    const c = await ct.send(
      new LookupEventsCommand({ LookupAttributes: [user], MaxResults: 50, NextToken: b.NextToken }),
    );
    expect([b.Events?.length, c.Events?.length, c.NextToken]).toEqual([50, 20, undefined]);
  });

  it('binds NextToken to its query, allows one attribute and MaxResults ≤ 50', async () => {
    const a = await ct.send(new LookupEventsCommand({ LookupAttributes: [user], MaxResults: 10 }));
    await expect(
      ct.send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ListBuckets' }],
          NextToken: a.NextToken,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
    await expect(
      ct.send(
        new LookupEventsCommand({
          LookupAttributes: [user, { AttributeKey: 'EventName', AttributeValue: 'X' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidLookupAttributesException' });
    await expect(
      ct.send(new LookupEventsCommand({ LookupAttributes: [user], MaxResults: 51 })),
    ).rejects.toMatchObject({
      name: 'InvalidMaxResultsException',
    });
  });

  it('throttles past the rate with a 400 ThrottlingException the SDK recognises', async () => {
    fake.cloudtrail.rate = 1;
    fake.cloudtrail.burst = 1;
    try {
      await ct
        .send(new LookupEventsCommand({ LookupAttributes: [user], MaxResults: 1 }))
        .catch(() => undefined);
      const err = await ct
        .send(new LookupEventsCommand({ LookupAttributes: [user], MaxResults: 1 }))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    } finally {
      fake.cloudtrail.rate = 1000;
      fake.cloudtrail.burst = 1000;
    }
  });

  it('refuses requests without a well-formed SigV4 Authorization header', async () => {
    const res = await fetch(fake.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CloudTrail_20131101.LookupEvents',
        authorization: 'Bearer nope',
      },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ __type: 'IncompleteSignatureException' });
  });
});
