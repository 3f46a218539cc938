import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { type KeyDestination, marker, markerUuid } from '../../../domain/rotate/steps.ts';
import type { KubeSecrets } from '../../kubernetes/secrets.ts';
import type { AwsClients } from '../clients.ts';

/** Annotation on Secrets scope wrote: the marker of the request and step that wrote them. */
export const ROTATION_ANNOTATION = 'scope.dev/rotation';

/**
 * Where a rotated key goes (Secrets Manager or a Kubernetes Secret), and whether a destination already holds the
 * key a step created: the Secrets Manager idempotency token and the Secret annotation carry the step's marker.
 * The secret is written and never read back.
 */
export class KeyDestinations {
  readonly #clients: AwsClients;
  readonly #kubeSecrets: KubeSecrets | undefined;

  constructor(clients: AwsClients, kube: KubeSecrets | undefined) {
    this.#clients = clients;
    this.#kubeSecrets = kube;
  }

  #kube(): KubeSecrets {
    if (!this.#kubeSecrets) throw new Error('no Kubernetes clusters are configured');
    return this.#kubeSecrets;
  }

  /** Whether a destination holds this key, written by this step. */
  async holds(
    d: KeyDestination,
    account: string,
    keyId: string,
    requestId: string,
    stepKey: string,
    signal: AbortSignal,
  ): Promise<boolean> {
    if (d.kind === 'secrets-manager') {
      const token = markerUuid(requestId, `${stepKey}/${keyId}`);
      try {
        const desc = await this.#clients
          .account(account)
          .secrets(d.region)
          .send(new DescribeSecretCommand({ SecretId: d.secretId }), { abortSignal: signal });
        return desc.VersionIdsToStages?.[token] !== undefined;
      } catch (err) {
        if ((err as { name?: string }).name === 'ResourceNotFoundException') return false;
        throw err;
      }
    }
    const s = await this.#kube().get(d.cluster, d.namespace, d.name);
    return (
      s?.annotations[ROTATION_ANNOTATION] === marker(requestId, stepKey) && s.data.AWS_ACCESS_KEY_ID === keyId
    );
  }

  async store(
    d: KeyDestination,
    account: string,
    k: { id: string; secret: string; user: string },
    requestId: string,
    stepKey: string,
    signal: AbortSignal,
  ): Promise<void> {
    if (d.kind === 'secrets-manager') {
      const sm = this.#clients.account(account).secrets(d.region);
      const value = JSON.stringify({
        AccessKeyId: k.id,
        SecretAccessKey: k.secret,
        UserName: k.user,
        RotatedBy: 'scope',
        RequestId: requestId,
      });
      const token = markerUuid(requestId, `${stepKey}/${k.id}`);
      try {
        await sm.send(
          new PutSecretValueCommand({ SecretId: d.secretId, SecretString: value, ClientRequestToken: token }),
          { abortSignal: signal },
        );
      } catch (err) {
        if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
        await sm.send(
          new CreateSecretCommand({ Name: d.secretId, SecretString: value, ClientRequestToken: token }),
          { abortSignal: signal },
        );
      }
      return;
    }
    await this.#kube().put(d.cluster, d.namespace, d.name, {
      type: 'Opaque',
      annotations: { [ROTATION_ANNOTATION]: marker(requestId, stepKey), 'scope.dev/rotated-user': k.user },
      data: { AWS_ACCESS_KEY_ID: k.id, AWS_SECRET_ACCESS_KEY: k.secret },
    });
  }
}
