import { parseImageRef, parseRuntimeImageId, repositoryKey } from './image-ref.ts';
import type { ContainerRecord, PodRecord, WorkloadRef } from './inventory.ts';

/** The controller a ReplicaSet or Job points at, as far as workload resolution needs it. */
export type OwnerLink = { kind: string; name: string };

/**
 * Controllers of the intermediate objects (ReplicaSets, Jobs) keyed by `namespace/Kind/name`. A `null` value
 * means the object is known and has no controller; a missing key means it is not known (yet).
 */
export type OwnerIndex = ReadonlyMap<string, OwnerLink | null>;

/** The pod fields resolution needs besides its ownerReferences. */
export type PodIdentity = { name: string; labels?: Readonly<Record<string, string>> };

type Json = Record<string, unknown>;

const INTERMEDIATE_KINDS = new Set(['ReplicaSet', 'Job']);
const CACHE_LIMIT = 20_000;

/** Key of one ReplicaSet or Job in an OwnerIndex. */
export function ownerKey(namespace: string, kind: string, name: string): string {
  return `${namespace}/${kind}/${name}`;
}

/** True for owner kinds whose own controller the OwnerIndex records (ReplicaSet, Job). */
export function isIntermediateKind(kind: string): boolean {
  return INTERMEDIATE_KINDS.has(kind);
}

/**
 * Adds raw ReplicaSet or Job objects (full or metadata-only) to an index. Objects without a usable
 * namespace, kind or name are skipped; `kind` is used when list items omit theirs.
 */
export function addOwners(
  index: Map<string, OwnerLink | null>,
  objects: Iterable<unknown>,
  kind: string,
): void {
  for (const obj of objects) {
    if (!isObject(obj) || !isObject(obj.metadata)) continue;
    const meta = obj.metadata;
    const name = str(meta.name);
    const namespace = str(meta.namespace);
    if (name === undefined || namespace === undefined) continue;
    index.set(ownerKey(namespace, str(obj.kind) ?? kind, name), controllerOf(meta.ownerReferences) ?? null);
  }
}

/** The ownerReference marked `controller: true`, else the first well-formed one. */
export function controllerOf(ownerReferences: unknown): OwnerLink | undefined {
  if (!Array.isArray(ownerReferences)) return undefined;
  let first: OwnerLink | undefined;
  for (const ref of ownerReferences) {
    if (!isObject(ref)) continue;
    const kind = str(ref.kind);
    const name = str(ref.name);
    if (kind === undefined || name === undefined) continue;
    if (ref.controller === true) return { kind, name };
    first ??= { kind, name };
  }
  return first;
}

/**
 * The workload that owns a pod: Pod → ReplicaSet → Deployment, Job → CronJob, StatefulSet, DaemonSet, or
 * the pod itself. Any other controller kind (a CRD such as Argo's Rollout) is reported as that kind. When
 * a ReplicaSet is not in the index yet, the Deployment name is derived from the pod-template-hash suffix.
 */
export function resolveWorkload(
  namespace: string,
  ownerReferences: unknown,
  owners: OwnerIndex,
  pod: PodIdentity,
): WorkloadRef {
  const owner = controllerOf(ownerReferences);
  if (owner === undefined) return { kind: 'Pod', name: pod.name };
  if (!isIntermediateKind(owner.kind)) return owner;
  const parent = owners.get(ownerKey(namespace, owner.kind, owner.name));
  if (parent !== undefined) return parent === null ? owner : { kind: parent.kind, name: parent.name };
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.labels?.['pod-template-hash'];
    if (typeof hash === 'string' && hash !== '' && owner.name.endsWith(`-${hash}`)) {
      const name = owner.name.slice(0, -(hash.length + 1));
      if (name !== '') return { kind: 'Deployment', name };
    }
  }
  return owner;
}

/** True when the pod's controller is a ReplicaSet or Job that the index does not know. */
export function hasUnknownOwner(pod: unknown, owners: OwnerIndex): boolean {
  if (!isObject(pod) || !isObject(pod.metadata)) return false;
  const namespace = str(pod.metadata.namespace);
  const owner = controllerOf(pod.metadata.ownerReferences);
  if (namespace === undefined || owner === undefined || !isIntermediateKind(owner.kind)) return false;
  return !owners.has(ownerKey(namespace, owner.kind, owner.name));
}

/**
 * Turns a raw v1 Pod (JSON as the API serves it) into the record the inventory keeps. Returns undefined,
 * never throws, when the object lacks what indexing needs (namespace, name, uid).
 */
export function toPodRecord(
  pod: unknown,
  cluster: string,
  environment: string,
  owners: OwnerIndex,
): PodRecord | undefined {
  if (!isObject(pod) || !isObject(pod.metadata)) return undefined;
  const meta = pod.metadata;
  const namespace = str(meta.namespace);
  const name = str(meta.name);
  const uid = str(meta.uid);
  if (namespace === undefined || name === undefined || uid === undefined) return undefined;
  const spec = isObject(pod.spec) ? pod.spec : {};
  const status = isObject(pod.status) ? pod.status : {};

  const identity: PodIdentity = { name };
  if (isObject(meta.labels)) identity.labels = meta.labels as Record<string, string>;
  const record: PodRecord = {
    cluster,
    environment,
    namespace,
    name,
    uid,
    workload: resolveWorkload(namespace, meta.ownerReferences, owners, identity),
    containers: [],
  };
  addContainers(record.containers, spec.initContainers, status.initContainerStatuses, 'init');
  addContainers(record.containers, spec.containers, status.containerStatuses, 'container');
  addContainers(record.containers, spec.ephemeralContainers, status.ephemeralContainerStatuses, 'ephemeral');
  const node = str(spec.nodeName);
  if (node !== undefined) record.node = node;
  const phase = str(status.phase);
  if (phase !== undefined) record.phase = phase;
  const startTime = str(status.startTime);
  if (startTime !== undefined) record.startTime = startTime;
  return record;
}

function addContainers(
  out: ContainerRecord[],
  specs: unknown,
  statuses: unknown,
  type: ContainerRecord['type'],
): void {
  if (!Array.isArray(specs)) return;
  const statusList: unknown[] = Array.isArray(statuses) ? statuses : [];
  for (const c of specs) {
    if (!isObject(c)) continue;
    const name = str(c.name);
    if (name === undefined) continue;
    const image = typeof c.image === 'string' ? c.image : '';
    const record: ContainerRecord = { name, type, image };
    if (type === 'init' && c.restartPolicy === 'Always') record.sidecar = true;
    const target = type === 'ephemeral' ? str(c.targetContainerName) : undefined;
    if (target !== undefined) record.target = target;
    const parsed = imageParts(image);
    if (parsed !== undefined) {
      record.repository = parsed.repository;
      if (parsed.tag !== undefined) record.tag = parsed.tag;
    }
    const status = statusList.find((st) => isObject(st) && st.name === name) as Json | undefined;
    if (status !== undefined) {
      const imageID = str(status.imageID);
      if (imageID !== undefined) {
        record.imageID = imageID;
        const rt = runtimeImage(imageID);
        // A bare config id says nothing about the manifest; a digest pinned in the spec does.
        const digest = rt.digest ?? (rt.configId !== undefined ? parsed?.digest : undefined);
        if (digest !== undefined) record.digest = digest;
        if (rt.configId !== undefined) record.configId = rt.configId;
      }
      const startedAt = startedAtOf(status.state);
      if (startedAt !== undefined) record.startedAt = startedAt;
    }
    out.push(record);
  }
}

function startedAtOf(state: unknown): string | undefined {
  if (!isObject(state)) return undefined;
  if (isObject(state.running)) return str(state.running.startedAt);
  if (isObject(state.terminated)) return str(state.terminated.startedAt);
  return undefined;
}

type ImageParts = { repository: string; tag?: string; digest?: string };
type RuntimeParts = { digest?: string; configId?: string };

const imageCache = new Map<string, ImageParts | null>();
const runtimeCache = new Map<string, RuntimeParts>();

// Fleets run few distinct images across many pods, so parsing each string once keeps a full LIST cheap.
function imageParts(image: string): ImageParts | undefined {
  let parts = imageCache.get(image);
  if (parts === undefined) {
    try {
      const ref = parseImageRef(image);
      parts = { repository: repositoryKey(ref) };
      if (ref.tag !== undefined) parts.tag = ref.tag;
      if (ref.digest !== undefined) parts.digest = ref.digest;
    } catch {
      parts = null;
    }
    remember(imageCache, image, parts);
  }
  return parts ?? undefined;
}

function runtimeImage(imageID: string): RuntimeParts {
  let parts = runtimeCache.get(imageID);
  if (parts === undefined) {
    const rt = parseRuntimeImageId(imageID);
    parts = {};
    if (rt.digest !== undefined) parts.digest = rt.digest;
    if (rt.configId !== undefined) parts.configId = rt.configId;
    remember(runtimeCache, imageID, parts);
  }
  return parts;
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
