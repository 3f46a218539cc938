import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { z } from 'zod';

const TTL_SECONDS = 300;
const members = z.array(z.string().regex(/^[UW][A-Z0-9]+$/)).max(100_000);

/** Which of the given user groups a user belongs to, from usergroups.users.list, cached in Redis for 5 minutes. */
export class UsergroupResolver {
  readonly #client: WebClient;
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(client: WebClient, redis: Redis, prefix: string) {
    this.#client = client;
    this.#redis = redis;
    this.#prefix = prefix;
  }

  /** Groups that could not be read (deleted group, Slack down) grant nothing; `onError` hears about them. */
  async groupsOf(
    userId: string,
    groups: readonly string[],
    onError: (group: string, err: unknown) => void = () => {},
  ): Promise<string[]> {
    const out: string[] = [];
    for (const g of groups) {
      try {
        if ((await this.#members(g)).includes(userId)) out.push(g);
      } catch (err) {
        onError(g, err);
      }
    }
    return out;
  }

  async #members(group: string): Promise<string[]> {
    const key = `${this.#prefix}:slack:usergroup:${group}`;
    const cached = await this.#redis.get(key);
    if (cached) {
      const parsed = members.safeParse(JSON.parse(cached));
      if (parsed.success) return parsed.data;
    }
    const res = await this.#client.usergroups.users.list({ usergroup: group });
    const parsed = members.safeParse(res.users ?? []);
    // An unreadable answer grants nothing: the user is treated as not in the group.
    const list = parsed.success ? parsed.data : [];
    await this.#redis.set(key, JSON.stringify(list), 'EX', TTL_SECONDS);
    return list;
  }
}
