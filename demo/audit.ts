import { cleanScenario, compromisedCiScenario } from '../src/testing/cloudtrail-fixtures.ts';
import { startFakeAws } from '../src/testing/fake-aws/server.ts';

/**
 * The demo's AWS: a loopback CloudTrail (and IAM/STS/Secrets Manager) enforcing the real 2 requests/s per region,
 * holding two weeks of a CI role's deploys and the day it was compromised, plus a clean reporting user.
 */
export async function startDemoAws(): Promise<{
  config: Record<string, unknown>;
  hints: string[];
  stop: () => Promise<void>;
}> {
  // The demo never talks to real AWS: fixed, fake credentials for the SDK's chain, only ever sent to loopback.
  process.env.AWS_ACCESS_KEY_ID = 'AKIADEMOEXAMPLE00001';
  process.env.AWS_SECRET_ACCESS_KEY = 'demo-secret-not-real';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  const fake = await startFakeAws();
  const now = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const sc = compromisedCiScenario(now);
  fake.cloudtrail.addRecords(sc.records);
  fake.cloudtrail.addRecords(cleanScenario(now).records);
  return {
    config: {
      regions: sc.regions,
      endpoint: fake.endpoint,
      audit: { progressEveryMs: 60_000 },
    },
    hints: ['/scope audit role:ci-deploy      /scope audit user:reporting-bot'],
    stop: () => fake.close(),
  };
}
