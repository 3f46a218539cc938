import type { Redis } from 'ioredis';

const TTL_SECONDS = 6 * 3600;
const JOB_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * Cancel requests for long jobs, shared between the bot (where the Cancel button is pressed) and whichever worker
 * runs the job: one Redis key per job id, read by the job between pages.
 */
export class CancelFlags {
  readonly #redis: Pick<Redis, 'set' | 'get'>;
  readonly #prefix: string;

  constructor(redis: Pick<Redis, 'set' | 'get'>, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  static validJobId(id: unknown): id is string {
    return typeof id === 'string' && JOB_ID.test(id);
  }

  async request(jobId: string, by: string): Promise<void> {
    if (!CancelFlags.validJobId(jobId)) throw new Error('invalid job id');
    await this.#redis.set(`${this.#prefix}:cancel:${jobId}`, by, 'EX', TTL_SECONDS);
  }

  /** Who asked to cancel this job, if anyone. */
  async requestedBy(jobId: string): Promise<string | undefined> {
    if (!CancelFlags.validJobId(jobId)) return undefined;
    return (await this.#redis.get(`${this.#prefix}:cancel:${jobId}`)) ?? undefined;
  }
}
