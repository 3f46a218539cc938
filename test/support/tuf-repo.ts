import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  Key,
  Metadata,
  MetaFile,
  Root,
  Signature,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
} from '@tufjs/models';

/**
 * A TUF repository on loopback HTTP, built and signed in the test with `@tufjs/models` (the models tuf-js
 * itself reads): root, targets, snapshot and timestamp, each role with its own ed25519 key, serving a
 * `trusted_root.json` target. `publish` makes a new version; `flaw` publishes a broken one on purpose.
 */
export type TufRepo = {
  url: string;
  /** root.json version 1, as the deployment's `tufInitialRoot` file. */
  initialRoot: string;
  /** Every request path, in order (the server counts what reaches it). */
  requests: string[];
  publish: (trustedRoot: object, flaw?: Flaw) => void;
  /** Holds every request until `release()` (a mirror that does not answer yet). */
  hold: () => void;
  release: () => void;
  close: () => Promise<void>;
};

export type Flaw = 'timestamp-signature' | 'targets-signature' | 'timestamp-expired';

type RoleKey = { key: Key; privateKey: KeyObject };

function roleKey(): RoleKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const keyID = createHash('sha256').update(raw).digest('hex');
  return {
    key: new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: raw } }),
    privateKey,
  };
}

function signWith(md: Metadata<Root | Targets | Snapshot | Timestamp>, k: RoleKey): void {
  md.sign(
    (data) => new Signature({ keyID: k.key.keyID, sig: sign(null, data, k.privateKey).toString('hex') }),
  );
}

/** The TUF specification version tuf-js implements. */
const SPEC = '1.0.31';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const json = (md: Metadata<Root | Targets | Snapshot | Timestamp>) => JSON.stringify(md.toJSON());

export async function startTufRepo(dir: string): Promise<TufRepo> {
  const keys = { root: roleKey(), targets: roleKey(), snapshot: roleKey(), timestamp: roleKey() };
  const intruder = roleKey();
  const future = iso(Date.now() + 365 * 86_400_000);
  const root = new Root({ specVersion: SPEC, version: 1, expires: future, consistentSnapshot: false });
  for (const [role, k] of Object.entries(keys)) root.addKey(k.key, role);
  const rootMd = new Metadata(root);
  signWith(rootMd, keys.root);
  const files = new Map<string, string>([['/1.root.json', json(rootMd)]]);
  const initialRoot = join(dir, 'tuf-root.json');
  await writeFile(initialRoot, json(rootMd));
  let version = 0;
  const requests: string[] = [];
  let held: Array<() => void> | undefined;
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    requests.push(path);
    if (held) {
      held.push(() => answer(path, req.method, res));
      return;
    }
    answer(path, req.method, res);
  });
  const answer = (path: string, method: string | undefined, res: import('node:http').ServerResponse) => {
    const body = files.get(path);
    if (method !== 'GET' || body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    initialRoot,
    requests,
    publish: (trustedRoot, flaw) => {
      version++;
      const target = Buffer.from(JSON.stringify(trustedRoot));
      const targets = new Metadata(
        new Targets({
          specVersion: SPEC,
          version,
          expires: future,
          targets: {
            'trusted_root.json': new TargetFile({
              path: 'trusted_root.json',
              length: target.length,
              hashes: { sha256: createHash('sha256').update(target).digest('hex') },
            }),
          },
        }),
      );
      signWith(targets, flaw === 'targets-signature' ? intruder : keys.targets);
      const snapshot = new Metadata(
        new Snapshot({
          specVersion: SPEC,
          version,
          expires: future,
          meta: { 'targets.json': new MetaFile({ version }) },
        }),
      );
      signWith(snapshot, keys.snapshot);
      const timestamp = new Metadata(
        new Timestamp({
          specVersion: SPEC,
          version,
          expires: flaw === 'timestamp-expired' ? iso(Date.now() - 86_400_000) : future,
          snapshotMeta: new MetaFile({ version }),
        }),
      );
      signWith(timestamp, flaw === 'timestamp-signature' ? intruder : keys.timestamp);
      files.set('/targets.json', json(targets));
      files.set('/snapshot.json', json(snapshot));
      files.set('/timestamp.json', json(timestamp));
      files.set('/targets/trusted_root.json', target.toString('utf8'));
    },
    hold: () => {
      held ??= [];
    },
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
