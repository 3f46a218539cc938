import type { TestProject } from 'vitest/node';
import { startRedisServer } from '../../src/testing/redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One real redis-server for the whole run; tests isolate themselves with their own queue prefix. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.SCOPE_TEST_REDIS_URL;
  if (external) {
    project.provide('redisUrl', external);
    return async () => {};
  }
  const redis = await startRedisServer();
  project.provide('redisUrl', redis.url);
  return redis.stop;
}
