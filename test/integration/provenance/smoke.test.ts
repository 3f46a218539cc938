import { expect, test } from 'vitest';
import { startMockSigstore, generateCosignKeyPair, inTotoStatement } from '../../../src/testing/sigstore-mock.ts';
import { SigstoreVerifier } from '../../../src/adapters/sigstore/verifier.ts';
import { trustedRootFromJSON } from '../../../src/adapters/sigstore/trust.ts';
test('smoke', async () => {
  const m = await startMockSigstore();
  const digest = 'sha256:' + 'a'.repeat(64);
  const b = await m.keyless({ data: inTotoStatement(digest), dsse: true }, { identity: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com', claims: { repository: 'acme/app', ref: 'refs/heads/main' } }, { tsa: true });
  console.log(JSON.stringify(b).slice(0, 600));
  const v = new SigstoreVerifier(trustedRootFromJSON(m.trustedRoot));
  const r = v.check({ form: 'bundle', bundle: b }, { kind: 'image', digest }, { keys: [], keyless: [{ identity: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com', github: { repository: 'acme/app' } }], requireTlog: true, requireSignedTimestamp: true });
  console.log(r);
  const k = generateCosignKeyPair();
  const kb = await m.keyed({ data: Buffer.from('hello') }, k, { tlog: true });
  const digest2 = 'sha256:' + require('node:crypto').createHash('sha256').update('hello').digest('hex');
  console.log(v.check({ form: 'bundle', bundle: kb }, { kind: 'blob', digest: digest2 }, { keys: [{ name: 'k', pem: k.publicPem }], keyless: [], requireTlog: true, requireSignedTimestamp: false }));
  await m.close();
});
