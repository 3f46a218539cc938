import { ASN1Obj } from '@sigstore/core';

/**
 * Correctness shim for `@sigstore/core`: its GeneralizedTime parser accepts fractional seconds only with exactly
 * three digits (`…05.123Z`), but DER (X.690 11.7) requires trailing zeros to be dropped, so a timestamp authority
 * that stamps at 12:13:05.120 writes `…05.12Z` — valid, and refused by the library as "invalid time", which would
 * make scope call a good RFC 3161 timestamp an invalid signature (about one stamp in ten carries such a time).
 * This parses GeneralizedTime as DER allows (UTC `Z`, 1–9 fraction digits, no trailing zero) and leaves every
 * other case (UTCTime, malformed values) to the library. Applied once, when the verifier module loads; remove it
 * when the library accepts these times.
 */
const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{0,8}[1-9]))?Z$/;

type Tagged = { tag: { isGeneralizedTime(): boolean }; value: Buffer };
const proto = ASN1Obj.prototype as unknown as { toDate: () => Date; __scopeTime?: true };
if (!proto.__scopeTime) {
  const original = proto.toDate;
  proto.toDate = function toDate(this: Tagged): Date {
    if (!this.tag.isGeneralizedTime()) return original.call(this);
    const m = GENERALIZED.exec(this.value.toString('ascii'));
    if (!m) return original.call(this);
    const ms = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
    return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${ms}Z`);
  };
  proto.__scopeTime = true;
}
