import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { shippedPublicGoodRoot, trustedRootFromFile } from '../adapters/sigstore/trust.ts';
import { SigstoreVerifier } from '../adapters/sigstore/verifier.ts';
import { describeSigner } from '../domain/provenance/outcome.ts';
import type { Rule, Subject } from '../domain/provenance/ports.ts';

const USAGE = `usage: scope cli verify-bundle --bundle FILE
         (--certificate-identity ID | --certificate-identity-regexp RE) --certificate-oidc-issuer URL
         | --key PUBLIC_KEY.pem
         [--trusted-root trusted_root.json] [--insecure-ignore-tlog] [--json]  <file | sha256:<hex>>
Verifies one Sigstore bundle offline, like cosign verify-blob. The identity is compared exactly; a regexp is
anchored (must match the whole identity). Exit 0 only when verified; 1 when not (with the reason); 2 on usage.`;

type Result = { verified: boolean; reason: string; signer?: string; artifact: string };

/** `scope cli verify-bundle`: one bundle, one artifact (file or digest), one identity or key; no network. */
export async function runVerifyBundle(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        bundle: { type: 'string' },
        'certificate-identity': { type: 'string' },
        'certificate-identity-regexp': { type: 'string' },
        'certificate-oidc-issuer': { type: 'string' },
        key: { type: 'string' },
        'trusted-root': { type: 'string' },
        'insecure-ignore-tlog': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const json = values.json === true;
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const id = str('certificate-identity');
  const re = str('certificate-identity-regexp');
  const issuer = str('certificate-oidc-issuer');
  const keyPath = str('key');
  const bundlePath = str('bundle');
  if (!bundlePath) return usage('--bundle is required');
  if (positionals.length !== 1) return usage('give exactly one artifact: a file path or sha256:<64 hex>');
  if (keyPath && (id || re || issuer)) return usage('use either --key or a certificate identity, not both');
  if (!keyPath && (!issuer || (id === undefined) === (re === undefined)))
    return usage(
      'give --certificate-oidc-issuer and exactly one of --certificate-identity or --certificate-identity-regexp, or --key',
    );
  if (re !== undefined) {
    try {
      new RegExp(re);
    } catch (err) {
      return usage(`--certificate-identity-regexp: ${(err as Error).message}`);
    }
  }
  const artifactArg = positionals[0] as string;
  const print = (r: Result) => {
    if (json) console.log(JSON.stringify({ schema: 'scope.cli/v1', ok: r.verified, result: r }, null, 2));
    else if (r.verified) console.log(`Verified OK: ${r.artifact}${r.signer ? ` signed by ${r.signer}` : ''}`);
    else console.error(`scope: verification FAILED for ${r.artifact}: ${r.reason}`);
    return r.verified ? 0 : 1;
  };
  let subject: Subject;
  let bundle: unknown;
  let verifier: SigstoreVerifier;
  const rule: Rule = {
    keys: [],
    keyless: [],
    requireTlog: values['insecure-ignore-tlog'] !== true,
    requireSignedTimestamp: false,
  };
  try {
    if (/^sha256:/i.test(artifactArg)) {
      if (!/^sha256:[0-9a-f]{64}$/.test(artifactArg))
        return usage('a digest is sha256: followed by 64 lowercase hex digits');
      subject = { kind: 'blob', digest: artifactArg };
    } else {
      const bytes = readFileSync(artifactArg);
      subject = { kind: 'blob', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
    }
    bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
    const trustedRoot = str('trusted-root');
    verifier = new SigstoreVerifier(trustedRoot ? trustedRootFromFile(trustedRoot) : shippedPublicGoodRoot());
    if (keyPath) rule.keys.push({ name: basename(keyPath), pem: readFileSync(keyPath, 'utf8') });
    else
      rule.keyless.push({
        issuer: issuer as string,
        ...(id !== undefined ? { identity: id } : { identityRegexp: re as string }),
      });
  } catch (err) {
    return print({ verified: false, reason: (err as Error).message, artifact: artifactArg });
  }
  const c = verifier.check({ form: 'bundle', bundle }, subject, rule);
  return print({
    verified: c.verdict === 'verified',
    reason: c.verdict === 'verified' ? 'verified' : `${c.verdict}: ${c.reason}`,
    ...(c.signer ? { signer: describeSigner(c.signer) } : {}),
    artifact: artifactArg,
  });
}

function usage(message: string): number {
  console.error(`scope: ${message}\n${USAGE}`);
  return 2;
}
