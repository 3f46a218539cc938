import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetRolePolicyCommand,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  PutRolePolicyCommand,
  TagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import type {
  ActionContext,
  ActionExecutor,
  ActionPlan,
  PlanStep,
  StepRecord,
} from '../../../domain/actions/contract.ts';
import { rotateFinishOffer } from '../../../domain/rotate/offer.ts';
import {
  changeSchema,
  marker,
  REVOKE_POLICY,
  type RotateChange,
  revokePolicy,
} from '../../../domain/rotate/steps.ts';
import type { KubeSecrets } from '../../kubernetes/secrets.ts';
import type { AwsClients } from '../clients.ts';
import { describe } from '../cloudtrail.ts';
import { KeyDestinations, ROTATION_ANNOTATION } from './destinations.ts';

export { ROTATION_ANNOTATION } from './destinations.ts';

const TAG_PREFIX = 'scope:';

type Change<K extends RotateChange['op']> = Extract<RotateChange, { op: K }>;
type Key = { id: string; status: string; created?: Date };

class StepFailed extends Error {}

/**
 * Applies rotation steps. Each step is idempotent with respect to a marker derived from the request id and the
 * step key, so a step that succeeded remotely but was not recorded (a crash in between) is recognised on resume:
 * a stored new key is found by its marker (Secrets Manager idempotency token, Secret annotation); a key created
 * but never stored (its secret is lost) is deleted and created again, so no second usable key appears; a revoke
 * policy carries the marker as its Sid. Secret material is only ever passed to the destination, never returned,
 * logged or recorded.
 */
export class RotateExecutor implements ActionExecutor {
  readonly kind: 'rotate' | 'rotate-finish';
  readonly #clients: AwsClients;
  readonly #kube: KubeSecrets | undefined;
  readonly #destinations: KeyDestinations;

  constructor(kind: 'rotate' | 'rotate-finish', clients: AwsClients, kube?: KubeSecrets) {
    this.kind = kind;
    this.#clients = clients;
    this.#kube = kube;
    this.#destinations = new KeyDestinations(clients, kube);
  }

  /**
   * After a rotation that deactivated the user's old key(s): offer their deletion (`rotate-finish`) as a second,
   * separately approved request. Nothing for a rotation that deactivated nothing.
   */
  followUp(plan: ActionPlan, records: StepRecord[]) {
    if (this.kind !== 'rotate') return undefined;
    const input = rotateFinishOffer(plan, records);
    if (!input) return undefined;
    const keys = input.accessKeyIds.join(', ');
    return {
      kind: 'rotate-finish' as const,
      input,
      label: `Delete the old access key${input.accessKeyIds.length === 1 ? '' : 's'} ${keys} of ${input.user} (account ${input.account}), deactivated by this rotation. Deleting cannot be undone; a second person must approve.`,
      button: input.accessKeyIds.length === 1 ? 'Delete old key' : 'Delete old keys',
    };
  }

  async apply(s: PlanStep, ctx: ActionContext): Promise<StepRecord> {
    const at = () => ctx.now().toISOString();
    const parsed = changeSchema.safeParse(s.change);
    if (!parsed.success)
      return { key: s.key, state: 'failed', error: 'the stored step is malformed', at: at() };
    const c = parsed.data;
    const allowed = this.kind === 'rotate-finish' ? c.op === 'delete-key' : c.op !== 'delete-key';
    if (!allowed)
      return { key: s.key, state: 'failed', error: `${c.op} is not a ${this.kind} step`, at: at() };
    try {
      ctx.signal.throwIfAborted();
      const done = await this.#apply(s.key, c, ctx);
      return { key: s.key, at: at(), ...done };
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      return {
        key: s.key,
        state: 'failed',
        error: err instanceof StepFailed ? err.message : describe(err),
        at: at(),
      };
    }
  }

  async #apply(
    key: string,
    c: RotateChange,
    ctx: ActionContext,
  ): Promise<Pick<StepRecord, 'state' | 'prior'>> {
    switch (c.op) {
      case 'create-key':
        return this.#createKey(key, c, ctx);
      case 'deactivate-key':
        return this.#deactivate(c, ctx);
      case 'delete-key':
        return this.#delete(c, ctx);
      case 'revoke-sessions':
        return this.#revoke(key, c, ctx);
      case 'recreate-token':
        return this.#recreateToken(key, c, ctx);
    }
  }

  #iam(account: string) {
    return this.#clients.account(account).iam();
  }

  async #keys(account: string, user: string, signal: AbortSignal): Promise<Key[]> {
    const r = await this.#iam(account).send(new ListAccessKeysCommand({ UserName: user }), {
      abortSignal: signal,
    });
    return (r.AccessKeyMetadata ?? []).map((k) => ({
      id: k.AccessKeyId ?? '',
      status: k.Status ?? 'unknown',
      ...(k.CreateDate ? { created: k.CreateDate } : {}),
    }));
  }

  async #createKey(
    stepKey: string,
    c: Change<'create-key'>,
    ctx: ActionContext,
  ): Promise<Pick<StepRecord, 'state' | 'prior'>> {
    if (c.destinations.length === 0) throw new StepFailed('no destination configured for the new key');
    const mark = `${TAG_PREFIX}${marker(ctx.requestId, stepKey)}`;
    const signal = ctx.signal;
    const iam = this.#iam(c.account);
    const keys = await this.#keys(c.account, c.user, signal);
    const prior = { keys: c.knownKeys };
    const tags = await iam.send(new ListUserTagsCommand({ UserName: c.user }), { abortSignal: signal });
    const tagOf = new Map((tags.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    // Keys not seen at planning time are either this step's (tagged with its marker) or someone else's.
    for (const k of keys.filter((x) => !c.knownKeys.includes(x.id))) {
      if (tagOf.get(k.id) !== mark) {
        throw new StepFailed(
          `key ${k.id} appeared on ${c.user} since planning and is not marked as this rotation's: refusing to continue`,
        );
      }
      const stored = await Promise.all(
        c.destinations.map((d) =>
          this.#destinations.holds(d, c.account, k.id, ctx.requestId, stepKey, signal),
        ),
      );
      // Created and stored everywhere by an attempt whose record was lost: done, no second key.
      if (stored.every(Boolean))
        return { state: 'applied', prior: { ...prior, newKey: k.id, resumed: true } };
      // Created but not stored everywhere: its secret is gone, so nobody can use it. Delete it and start again.
      await iam.send(new DeleteAccessKeyCommand({ UserName: c.user, AccessKeyId: k.id }), {
        abortSignal: signal,
      });
    }
    if (keys.filter((k) => c.knownKeys.includes(k.id)).length >= 2) {
      throw new StepFailed(`${c.user} has two access keys (the IAM limit): delete one first`);
    }
    const created = await iam.send(new CreateAccessKeyCommand({ UserName: c.user }), { abortSignal: signal });
    const id = created.AccessKey?.AccessKeyId;
    const secret = created.AccessKey?.SecretAccessKey;
    if (!id || !secret) throw new StepFailed('IAM returned no access key');
    await iam.send(new TagUserCommand({ UserName: c.user, Tags: [{ Key: id, Value: mark }] }), {
      abortSignal: signal,
    });
    for (const d of c.destinations)
      await this.#destinations.store(
        d,
        c.account,
        { id, secret, user: c.user },
        ctx.requestId,
        stepKey,
        signal,
      );
    return { state: 'applied', prior: { ...prior, newKey: id } };
  }

  async #deactivate(
    c: Change<'deactivate-key'>,
    ctx: ActionContext,
  ): Promise<Pick<StepRecord, 'state' | 'prior'>> {
    const k = (await this.#keys(c.account, c.user, ctx.signal)).find((x) => x.id === c.accessKeyId);
    const prior = { status: c.observedStatus };
    if (!k) return { state: 'skipped', prior };
    if (k.status !== 'Inactive') {
      await this.#iam(c.account).send(
        new UpdateAccessKeyCommand({ UserName: c.user, AccessKeyId: c.accessKeyId, Status: 'Inactive' }),
        { abortSignal: ctx.signal },
      );
    }
    return { state: 'applied', prior };
  }

  async #delete(c: Change<'delete-key'>, ctx: ActionContext): Promise<Pick<StepRecord, 'state' | 'prior'>> {
    const k = (await this.#keys(c.account, c.user, ctx.signal)).find((x) => x.id === c.accessKeyId);
    if (!k) return { state: 'applied', prior: { status: 'deleted' } };
    if (k.status === 'Active')
      throw new StepFailed(`key ${c.accessKeyId} is active again: refusing to delete a key in use`);
    await this.#iam(c.account).send(
      new DeleteAccessKeyCommand({ UserName: c.user, AccessKeyId: c.accessKeyId }),
      {
        abortSignal: ctx.signal,
      },
    );
    return { state: 'applied', prior: { status: k.status } };
  }

  async #revoke(
    stepKey: string,
    c: Change<'revoke-sessions'>,
    ctx: ActionContext,
  ): Promise<Pick<StepRecord, 'state' | 'prior'>> {
    const sid = `Scope${marker(ctx.requestId, stepKey)}`;
    let previous: string | null = null;
    try {
      const r = await this.#iam(c.account).send(
        new GetRolePolicyCommand({ RoleName: c.role, PolicyName: REVOKE_POLICY }),
        {
          abortSignal: ctx.signal,
        },
      );
      previous = r.PolicyDocument ? decodeURIComponent(r.PolicyDocument) : null;
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'NoSuchEntityException' && name !== 'NoSuchEntity') throw err;
    }
    if (previous?.includes(`"${sid}"`)) return { state: 'applied', prior: { policy: null, resumed: true } };
    await this.#iam(c.account).send(
      new PutRolePolicyCommand({
        RoleName: c.role,
        PolicyName: REVOKE_POLICY,
        PolicyDocument: revokePolicy(ctx.now(), sid),
      }),
      { abortSignal: ctx.signal },
    );
    return { state: 'applied', prior: { policy: previous } };
  }

  async #recreateToken(
    stepKey: string,
    c: Change<'recreate-token'>,
    ctx: ActionContext,
  ): Promise<Pick<StepRecord, 'state' | 'prior'>> {
    const kube = this.#kubeOrFail();
    const mark = marker(ctx.requestId, stepKey);
    const current = await kube.get(c.cluster, c.namespace, c.secret);
    if (current?.annotations[ROTATION_ANNOTATION] === mark)
      return { state: 'applied', prior: { resumed: true } };
    if (current && current.annotations['kubernetes.io/service-account.name'] !== c.serviceAccount) {
      throw new StepFailed(
        `Secret ${c.namespace}/${c.secret} is not the token of service account ${c.serviceAccount}`,
      );
    }
    if (current) await kube.delete(c.cluster, c.namespace, c.secret);
    await kube.put(c.cluster, c.namespace, c.secret, {
      type: 'kubernetes.io/service-account-token',
      annotations: { 'kubernetes.io/service-account.name': c.serviceAccount, [ROTATION_ANNOTATION]: mark },
      data: {},
    });
    return {
      state: 'applied',
      prior: { existed: current !== undefined, ...(current?.uid ? { uid: current.uid } : {}) },
    };
  }

  #kubeOrFail(): KubeSecrets {
    if (!this.#kube) throw new StepFailed('no Kubernetes clusters are configured');
    return this.#kube;
  }
}
