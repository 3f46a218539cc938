import { GetRoleCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { ActionPlan, ActionPlanner, PlanStep } from '../../../domain/actions/contract.ts';
import { parsePrincipal } from '../../../domain/audit/principal.ts';
import {
  type KeyDestination,
  rotateFinishInputSchema,
  rotateInputSchema,
  step,
} from '../../../domain/rotate/steps.ts';
import { UserFacingError } from '../../../errors.ts';
import type { AwsClients } from '../clients.ts';
import { describe } from '../cloudtrail.ts';
import type { AwsConfig } from '../config.ts';

type Key = { id: string; status: 'Active' | 'Inactive' };

async function listKeys(
  clients: AwsClients,
  account: string | undefined,
  user: string,
  signal: AbortSignal,
): Promise<Key[] | undefined> {
  try {
    const r = await clients
      .account(account)
      .iam()
      .send(new ListAccessKeysCommand({ UserName: user }), { abortSignal: signal });
    return (r.AccessKeyMetadata ?? []).flatMap((k) =>
      k.AccessKeyId && (k.Status === 'Active' || k.Status === 'Inactive')
        ? [{ id: k.AccessKeyId, status: k.Status }]
        : [],
    );
  } catch (err) {
    if (
      (err as { name?: string }).name === 'NoSuchEntityException' ||
      (err as { name?: string }).name === 'NoSuchEntity'
    )
      return undefined;
    throw err;
  }
}

/**
 * Plans `rotate` for an audited principal, against live IAM state: a user's access key (create → store →
 * deactivate the old one; deletion is the separate `rotate-finish`), a role's sessions (revoke the older ones),
 * the service-account token secrets configured for it, and keys it created for other users.
 */
export class RotatePlanner implements ActionPlanner {
  readonly kind = 'rotate' as const;
  readonly #clients: AwsClients;
  readonly #config: AwsConfig;

  constructor(clients: AwsClients, config: AwsConfig) {
    this.#clients = clients;
    this.#config = config;
  }

  async plan(raw: unknown, signal: AbortSignal): Promise<ActionPlan> {
    const parsed = rotateInputSchema.safeParse(raw);
    if (!parsed.success) throw new UserFacingError('BAD_INPUT', 'the rotation request is malformed');
    const input = parsed.data;
    const principal = parsePrincipal(input.principal);
    const account = this.#clients.account(input.account);
    const accountId = await account.accountId(signal);
    const env = account.environment;
    const steps: PlanStep[] = [];
    const notes: string[] = [];
    const aws = (kind: string, name: string) => ({
      system: 'aws' as const,
      location: accountId,
      environment: env,
      kind,
      name,
    });

    if (principal.kind === 'user') {
      const user = principal.name;
      const keys = await listKeys(this.#clients, input.account, user, signal);
      if (!keys)
        throw new UserFacingError('NOT_FOUND', `IAM user ${user} does not exist in account ${accountId}`);
      const destinations: KeyDestination[] = this.#config.rotation.destinations
        .filter((d) => d.user === user && (d.account === undefined || d.account === accountId))
        .flatMap((d): KeyDestination[] =>
          d.secretsManager
            ? [
                {
                  kind: 'secrets-manager',
                  secretId: d.secretsManager.secretId,
                  region: d.secretsManager.region,
                },
              ]
            : (d.kubernetes?.clusters ?? []).map((cluster) => ({
                kind: 'kubernetes' as const,
                cluster,
                namespace: d.kubernetes?.namespace ?? '',
                name: d.kubernetes?.name ?? '',
              })),
        );
      const active = keys.filter((k) => k.status === 'Active');
      let reason: string | undefined;
      if (destinations.length === 0) {
        reason = `no destination is configured for ${user}'s new key (aws.rotation.destinations): scope does not create a key it cannot store`;
      } else if (keys.length >= 2) {
        reason = `${user} already has two access keys (${keys.map((k) => `${k.id} ${k.status}`).join(', ')}), the IAM limit: delete one first (rotate-finish deletes deactivated keys)`;
      }
      const where = destinations.map((d) =>
        d.kind === 'secrets-manager'
          ? `Secrets Manager ${d.secretId} (${d.region})`
          : `Secret ${d.namespace}/${d.name} in ${d.cluster}`,
      );
      steps.push(
        step(
          `create-key:${user}`,
          aws('AccessKey', user),
          `create a new access key for ${user} and store it in ${where.join(', ') || '(nowhere configured)'}`,
          { op: 'create-key', account: accountId, user, destinations, knownKeys: keys.map((k) => k.id) },
          reason ? 'impossible' : 'todo',
          reason,
        ),
      );
      for (const k of keys) {
        steps.push(
          step(
            `deactivate-key:${user}/${k.id}`,
            aws('AccessKey', `${user}/${k.id}`),
            `access key ${k.id} of ${user}: status ${k.status} → Inactive (deleted later by rotate-finish, after a second confirmation)`,
            { op: 'deactivate-key', account: accountId, user, accessKeyId: k.id, observedStatus: k.status },
            k.status === 'Inactive' ? 'already-done' : reason ? 'impossible' : 'todo',
            k.status === 'Inactive'
              ? 'already inactive'
              : reason
                ? 'the new key cannot be created first'
                : undefined,
          ),
        );
      }
      if (active.length === 0) notes.push(`${user} has no active access key.`);
    } else if (principal.kind === 'role') {
      try {
        await account.iam().send(new GetRoleCommand({ RoleName: principal.name }), { abortSignal: signal });
      } catch (err) {
        throw new UserFacingError('NOT_FOUND', `IAM role ${principal.name}: ${describe(err)}`);
      }
      steps.push(
        step(
          `revoke-sessions:${principal.name}`,
          aws('Role', principal.name),
          `revoke every session of role ${principal.name} issued before approval: inline policy AWSRevokeOlderSessions denies * when aws:TokenIssueTime is earlier (new sessions keep working)`,
          { op: 'revoke-sessions', account: accountId, role: principal.name },
        ),
      );
    } else {
      notes.push(
        `Rotate acts on IAM users and roles; ${input.principal} is neither (keys it created are still offered).`,
      );
    }

    for (const t of this.#config.rotation.serviceAccountTokens.filter(
      (x) => x.principal === input.principal,
    )) {
      steps.push(
        step(
          `recreate-token:${t.cluster}/${t.namespace}/${t.secret}`,
          {
            system: 'kubernetes',
            location: t.cluster,
            environment: env,
            kind: 'Secret',
            namespace: t.namespace,
            name: t.secret,
          },
          `delete and recreate the token Secret ${t.namespace}/${t.secret} of service account ${t.serviceAccount} (the old token stops working)`,
          {
            op: 'recreate-token',
            cluster: t.cluster,
            namespace: t.namespace,
            secret: t.secret,
            serviceAccount: t.serviceAccount,
          },
        ),
      );
    }

    for (const c of input.createdKeys) {
      const keys = await listKeys(this.#clients, input.account, c.user, signal);
      const k = keys?.find((x) => x.id === c.accessKeyId);
      steps.push(
        step(
          `deactivate-key:${c.user}/${c.accessKeyId}`,
          aws('AccessKey', `${c.user}/${c.accessKeyId}`),
          `access key ${c.accessKeyId} of ${c.user}, created by ${input.principal}: ${k?.status ?? 'gone'} → Inactive`,
          {
            op: 'deactivate-key',
            account: accountId,
            user: c.user,
            accessKeyId: c.accessKeyId,
            observedStatus: k?.status ?? 'Inactive',
          },
          k?.status === 'Active' ? 'todo' : 'already-done',
          k ? (k.status === 'Active' ? undefined : 'already inactive') : 'the key no longer exists',
        ),
      );
    }
    const todo = steps.filter((s) => s.state === 'todo').length;
    return {
      kind: 'rotate',
      title: `Rotate ${input.principal} in ${accountId}: ${todo} change(s)`,
      steps,
      environments: [...new Set(steps.map((s) => s.target.environment))],
      notes,
    };
  }
}

/** Plans `rotate-finish`: delete the keys a rotation deactivated, only if they are still inactive. */
export class RotateFinishPlanner implements ActionPlanner {
  readonly kind = 'rotate-finish' as const;
  readonly #clients: AwsClients;

  constructor(clients: AwsClients) {
    this.#clients = clients;
  }

  async plan(raw: unknown, signal: AbortSignal): Promise<ActionPlan> {
    const parsed = rotateFinishInputSchema.safeParse(raw);
    if (!parsed.success) throw new UserFacingError('BAD_INPUT', 'the rotate-finish request is malformed');
    const { account, user, accessKeyIds } = parsed.data;
    const env = this.#clients.account(account).environment;
    const keys = (await listKeys(this.#clients, account, user, signal)) ?? [];
    const steps = accessKeyIds.map((id) => {
      const k = keys.find((x) => x.id === id);
      return step(
        `delete-key:${user}/${id}`,
        { system: 'aws', location: account, environment: env, kind: 'AccessKey', name: `${user}/${id}` },
        `delete access key ${id} of ${user} (deactivated by the rotation; cannot be undone)`,
        { op: 'delete-key', account, user, accessKeyId: id },
        !k ? 'already-done' : k.status === 'Active' ? 'impossible' : 'todo',
        !k
          ? 'already deleted'
          : k.status === 'Active'
            ? 'the key is active again: refusing to delete a key in use'
            : undefined,
      );
    });
    return {
      kind: 'rotate-finish',
      title: `Delete ${steps.filter((s) => s.state === 'todo').length} deactivated key(s) of ${user}`,
      steps,
      environments: [env],
      notes: [],
    };
  }
}
