import { randomUUID } from 'node:crypto';
import { type AwsReply, jsonBody, jsonError, jsonOk, type RequestInfo } from './wire.ts';

type Version = { id: string; value: string; stages: string[]; created: number };
type Secret = { name: string; arn: string; versions: Version[] };

/**
 * Secrets Manager over JSON 1.1 for what rotation writes: CreateSecret, PutSecretValue (idempotent on
 * ClientRequestToken, as AWS documents), DescribeSecret, GetSecretValue. State per account+region.
 */
export class FakeSecretsManager {
  readonly #secrets = new Map<string, Secret>();

  /** The current (AWSCURRENT) value, for tests; undefined when absent. */
  current(account: string, region: string, name: string): string | undefined {
    return this.#find(account, region, name)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.value;
  }

  versions(account: string, region: string, name: string): number {
    return this.#find(account, region, name)?.versions.length ?? 0;
  }

  #find(account: string, region: string, id: string): Secret | undefined {
    return [...this.#secrets.values()].find(
      (s) => (s.name === id || s.arn === id) && s.arn.includes(`:${region}:${account}:`),
    );
  }

  handle(info: RequestInfo): AwsReply {
    const input = jsonBody(info.body);
    if (!input) return jsonError(400, 'SerializationException', 'body is not a JSON object');
    const token = input.ClientRequestToken;
    if (token !== undefined && (typeof token !== 'string' || token.length < 32 || token.length > 64)) {
      return jsonError(400, 'InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters');
    }
    switch (info.operation) {
      case 'CreateSecret': {
        const name = String(input.Name ?? '');
        if (!/^[\w/+=.@-]{1,512}$/.test(name)) return jsonError(400, 'InvalidParameterException', 'bad Name');
        if (this.#find(info.account, info.region, name)) {
          return jsonError(400, 'ResourceExistsException', `secret ${name} already exists`);
        }
        const arn = `arn:aws:secretsmanager:${info.region}:${info.account}:secret:${name}-${randomUUID().slice(0, 6)}`;
        const secret: Secret = { name, arn, versions: [] };
        this.#secrets.set(arn, secret);
        const v =
          typeof input.SecretString === 'string' ? this.#put(secret, input.SecretString, token) : undefined;
        return jsonOk({ ARN: arn, Name: name, ...(v ? { VersionId: v.id } : {}) });
      }
      case 'PutSecretValue': {
        const secret = this.#find(info.account, info.region, String(input.SecretId ?? ''));
        if (!secret) return notFound();
        if (typeof input.SecretString !== 'string') {
          return jsonError(400, 'InvalidParameterException', 'SecretString is required');
        }
        const existing = secret.versions.find((v) => v.id === token);
        if (existing && existing.value !== input.SecretString) {
          return jsonError(
            400,
            'ResourceExistsException',
            'a version with this ClientRequestToken has another value',
          );
        }
        const v = existing ?? this.#put(secret, input.SecretString, token);
        return jsonOk({ ARN: secret.arn, Name: secret.name, VersionId: v.id, VersionStages: v.stages });
      }
      case 'DescribeSecret': {
        const secret = this.#find(info.account, info.region, String(input.SecretId ?? ''));
        if (!secret) return notFound();
        return jsonOk({
          ARN: secret.arn,
          Name: secret.name,
          VersionIdsToStages: Object.fromEntries(secret.versions.map((v) => [v.id, v.stages])),
        });
      }
      case 'GetSecretValue': {
        const secret = this.#find(info.account, info.region, String(input.SecretId ?? ''));
        if (!secret) return notFound();
        const v = input.VersionId
          ? secret.versions.find((x) => x.id === input.VersionId)
          : secret.versions.find((x) => x.stages.includes(String(input.VersionStage ?? 'AWSCURRENT')));
        if (!v) return notFound();
        return jsonOk({
          ARN: secret.arn,
          Name: secret.name,
          VersionId: v.id,
          SecretString: v.value,
          VersionStages: v.stages,
          CreatedDate: v.created / 1000,
        });
      }
      default:
        return jsonError(400, 'UnknownOperationException', `${info.operation} is not served by the fake`);
    }
  }

  #put(secret: Secret, value: string, token: unknown): Version {
    for (const v of secret.versions) {
      v.stages = v.stages.includes('AWSCURRENT') ? ['AWSPREVIOUS'] : [];
    }
    const v: Version = {
      id: typeof token === 'string' ? token : randomUUID(),
      value,
      stages: ['AWSCURRENT'],
      created: Date.now(),
    };
    secret.versions.push(v);
    return v;
  }
}

function notFound(): AwsReply {
  return jsonError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
}
