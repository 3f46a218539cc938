import type { KeyObject } from 'node:crypto';

/**
 * ECDSA verification of a signature over an already-computed digest (Node's crypto always hashes its input).
 * Used only for `verify-bundle sha256:<hex>` with a message-signature bundle, where the artifact bytes are not
 * at hand; P-256 and P-384 (what Sigstore and cosign keys use). Public data only, so constant time is moot.
 */
type Curve = { p: bigint; a: bigint; n: bigint; gx: bigint; gy: bigint };

const CURVES: Record<string, Curve> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
  },
  'P-384': {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
  },
};

type Point = { x: bigint; y: bigint } | null;

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

function inv(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

function add(c: Curve, P: Point, Q: Point): Point {
  if (P === null) return Q;
  if (Q === null) return P;
  if (P.x === Q.x && mod(P.y + Q.y, c.p) === 0n) return null;
  const l =
    P.x === Q.x && P.y === Q.y
      ? mod((3n * P.x * P.x + c.a) * inv(2n * P.y, c.p), c.p)
      : mod((Q.y - P.y) * inv(Q.x - P.x, c.p), c.p);
  const x = mod(l * l - P.x - Q.x, c.p);
  return { x, y: mod(l * (P.x - x) - P.y, c.p) };
}

function mul(c: Curve, k: bigint, P: Point): Point {
  let R: Point = null;
  let A = P;
  while (k > 0n) {
    if (k & 1n) R = add(c, R, A);
    A = add(c, A, A);
    k >>= 1n;
  }
  return R;
}

function derInts(sig: Buffer): [bigint, bigint] | undefined {
  let i = 0;
  if (sig[i++] !== 0x30) return undefined;
  let len = sig[i++] as number;
  if (len & 0x80) i += len & 0x7f;
  const read = (): bigint | undefined => {
    if (sig[i++] !== 0x02) return undefined;
    len = sig[i++] as number;
    const v = sig.subarray(i, i + len);
    i += len;
    return v.length ? BigInt(`0x${v.toString('hex')}`) : undefined;
  };
  const r = read();
  const s = read();
  return r === undefined || s === undefined ? undefined : [r, s];
}

const b64uToBig = (s: string) => BigInt(`0x${Buffer.from(s, 'base64url').toString('hex')}`);

/** True when `signature` (DER) is a valid ECDSA signature by `key` over `digest`. */
export function verifyPrehashed(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const jwk = key.export({ format: 'jwk' });
  const c = jwk.crv ? CURVES[jwk.crv] : undefined;
  if (!c || !jwk.x || !jwk.y)
    throw new Error(`digest-only verification supports P-256/P-384 keys, not ${key.asymmetricKeyType}`);
  const rs = derInts(signature);
  if (!rs) return false;
  const [r, s] = rs;
  if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) return false;
  const bits = c.n.toString(2).length;
  let e = BigInt(`0x${digest.toString('hex') || '0'}`);
  if (digest.length * 8 > bits) e >>= BigInt(digest.length * 8 - bits);
  const w = inv(s, c.n);
  const Q = { x: b64uToBig(jwk.x), y: b64uToBig(jwk.y) };
  const X = add(c, mul(c, mod(e * w, c.n), { x: c.gx, y: c.gy }), mul(c, mod(r * w, c.n), Q));
  return X !== null && mod(X.x, c.n) === r;
}
