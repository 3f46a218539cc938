import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ScopeError } from '../../errors.ts';
import type { AwsAccountConfig, AwsConfig } from './config.ts';

type AwsCredentialIdentity = {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
};
type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** One account scope works in: its id (resolved lazily for the default credentials) and its clients. */
export type AwsAccount = {
  /** Configured id, or `undefined` until `accountId()` asked STS. */
  readonly configuredId: string | undefined;
  readonly environment: string;
  readonly regions: readonly string[];
  accountId(signal?: AbortSignal): Promise<string>;
  cloudtrail(region: string): CloudTrailClient;
  iam(): IAMClient;
  secrets(region: string): SecretsManagerClient;
};

/**
 * Builds SDK clients the way AWS users expect: credentials from the SDK's standard chain (env, AWS_PROFILE,
 * web identity, container/instance roles) or a named profile, endpoints from AWS_ENDPOINT_URL(_<SERVICE>) unless
 * `aws.endpoint` overrides them, and per-account roles assumed through STS (cached until shortly before expiry).
 * CloudTrail clients make one attempt per call: throttling is paced and retried by our limiter, not the SDK.
 */
export class AwsClients {
  readonly #config: AwsConfig;
  readonly #accounts: AwsAccount[];

  constructor(config: AwsConfig) {
    this.#config = config;
    const accounts: (AwsAccountConfig | undefined)[] =
      config.accounts.length > 0 ? config.accounts : [undefined];
    this.#accounts = accounts.map((a) => this.#account(a));
  }

  get accounts(): readonly AwsAccount[] {
    return this.#accounts;
  }

  /** The account with this id, or the default-credentials account when none is configured. */
  account(id?: string): AwsAccount {
    if (id === undefined) return this.#accounts[0] as AwsAccount;
    const found =
      this.#accounts.find((a) => a.configuredId === id) ??
      this.#accounts.find((a) => a.configuredId === undefined);
    if (!found) throw new ScopeError('CONFIG_INVALID', `AWS account ${id} is not configured`);
    return found;
  }

  #base(): { profile?: string; endpoint?: string } {
    return {
      ...(this.#config.credentialSource === 'profile' && this.#config.profile
        ? { profile: this.#config.profile }
        : {}),
      ...(this.#config.endpoint ? { endpoint: this.#config.endpoint } : {}),
    };
  }

  #account(a: AwsAccountConfig | undefined): AwsAccount {
    const base = this.#base();
    const regions = a?.regions ?? this.#config.regions;
    const credentials = a?.roleArn
      ? assumedRole(a.roleArn, a.externalId, base, regions[0] ?? 'us-east-1')
      : undefined;
    const common = { ...base, ...(credentials ? { credentials } : {}) };
    const cache = new Map<string, CloudTrailClient | SecretsManagerClient>();
    let iam: IAMClient | undefined;
    let id: Promise<string> | undefined = a ? Promise.resolve(a.id) : undefined;
    return {
      configuredId: a?.id,
      environment: a?.environment ?? 'unknown',
      regions,
      accountId: (signal) => {
        id ??= new STSClient({ ...common, region: regions[0] ?? 'us-east-1' })
          .send(new GetCallerIdentityCommand({}), signal ? { abortSignal: signal } : {})
          .then((r) => r.Account ?? 'unknown');
        return id;
      },
      cloudtrail: (region) => {
        const k = `ct/${region}`;
        let c = cache.get(k) as CloudTrailClient | undefined;
        if (!c) {
          c = new CloudTrailClient({ ...common, region, maxAttempts: 1 });
          cache.set(k, c);
        }
        return c;
      },
      iam: () => {
        iam ??= new IAMClient({ ...common, region: 'us-east-1' });
        return iam;
      },
      secrets: (region) => {
        const k = `sm/${region}`;
        let c = cache.get(k) as SecretsManagerClient | undefined;
        if (!c) {
          c = new SecretsManagerClient({ ...common, region });
          cache.set(k, c);
        }
        return c;
      },
    };
  }
}

/** Credentials of a role in another account, assumed with scope's own credentials and refreshed before expiry. */
function assumedRole(
  roleArn: string,
  externalId: string | undefined,
  base: { profile?: string; endpoint?: string },
  region: string,
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const sts = new STSClient({ ...base, region });
  return async () => {
    if (current?.expiration && current.expiration.getTime() - Date.now() > 5 * 60_000) return current;
    pending ??= sts
      .send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: 'scope-audit',
          DurationSeconds: 3600,
          ...(externalId ? { ExternalId: externalId } : {}),
        }),
      )
      .then((r) => {
        const c = r.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey)
          throw new ScopeError('UPSTREAM_UNAVAILABLE', `AssumeRole ${roleArn} returned no credentials`);
        current = {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
          ...(c.Expiration ? { expiration: c.Expiration } : {}),
        };
        return current;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
