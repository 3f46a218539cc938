import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import type { ClusterConfig } from '../../config.ts';
import { ScopeError } from '../../errors.ts';
import { loadKubeConfig } from './client.ts';

/** A Secret as rotation needs it: never logged, never rendered. */
export type SecretObject = {
  uid?: string;
  type?: string;
  annotations: Record<string, string>;
  /** Decoded data. */
  data: Record<string, string>;
};

/** Read, create, replace and delete one namespaced Secret in a configured cluster (client-node, the cluster's kubeconfig). */
export class KubeSecrets {
  readonly #clusters: readonly ClusterConfig[];
  readonly #apis = new Map<string, CoreV1Api>();

  constructor(clusters: readonly ClusterConfig[]) {
    this.#clusters = clusters;
  }

  #api(cluster: string): CoreV1Api {
    let api = this.#apis.get(cluster);
    if (!api) {
      const c = this.#clusters.find((x) => x.name === cluster);
      if (!c) throw new ScopeError('CONFIG_INVALID', `cluster ${cluster} is not configured`);
      api = loadKubeConfig(c).makeApiClient(CoreV1Api);
      this.#apis.set(cluster, api);
    }
    return api;
  }

  async get(cluster: string, namespace: string, name: string): Promise<SecretObject | undefined> {
    try {
      const s = await this.#api(cluster).readNamespacedSecret({ name, namespace });
      return fromV1(s);
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw clean(err, `read Secret ${namespace}/${name} in ${cluster}`);
    }
  }

  /** Creates or replaces the Secret with exactly these annotations and data. */
  async put(
    cluster: string,
    namespace: string,
    name: string,
    value: { type?: string; annotations: Record<string, string>; data: Record<string, string> },
  ): Promise<void> {
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, annotations: value.annotations },
      ...(value.type ? { type: value.type } : {}),
      data: Object.fromEntries(
        Object.entries(value.data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
    };
    const api = this.#api(cluster);
    try {
      await api.createNamespacedSecret({ namespace, body });
    } catch (err) {
      if (status(err) !== 409) throw clean(err, `create Secret ${namespace}/${name} in ${cluster}`);
      try {
        await api.replaceNamespacedSecret({ name, namespace, body });
      } catch (e) {
        throw clean(e, `replace Secret ${namespace}/${name} in ${cluster}`);
      }
    }
  }

  /** Deletes the Secret; true when it existed. */
  async delete(cluster: string, namespace: string, name: string): Promise<boolean> {
    try {
      await this.#api(cluster).deleteNamespacedSecret({ name, namespace });
      return true;
    } catch (err) {
      if (status(err) === 404) return false;
      throw clean(err, `delete Secret ${namespace}/${name} in ${cluster}`);
    }
  }
}

function fromV1(s: V1Secret): SecretObject {
  return {
    ...(s.metadata?.uid ? { uid: s.metadata.uid } : {}),
    ...(s.type ? { type: s.type } : {}),
    annotations: { ...(s.metadata?.annotations ?? {}) },
    data: Object.fromEntries(
      Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    ),
  };
}

function status(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

/** An API error without its body (a Secret's body holds secret material). */
function clean(err: unknown, action: string): ScopeError {
  return new ScopeError('UPSTREAM_UNAVAILABLE', `could not ${action}: HTTP ${status(err) ?? 'error'}`);
}
