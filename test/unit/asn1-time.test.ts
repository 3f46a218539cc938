import { ASN1Obj } from '@sigstore/core';
import { describe, expect, it } from 'vitest';
import '../../src/adapters/sigstore/asn1-time.ts';

/** A DER GeneralizedTime (tag 0x18) or UTCTime (0x17) holding `text`. */
const der = (tag: number, text: string) =>
  ASN1Obj.parseBuffer(Buffer.concat([Buffer.from([tag, text.length]), Buffer.from(text, 'ascii')]));

describe('GeneralizedTime as DER writes it (RFC 3161 genTime)', () => {
  it.each([
    ['20261202121305Z', '2026-12-02T12:13:05.000Z'],
    ['20261202121305.123Z', '2026-12-02T12:13:05.123Z'],
    // DER drops trailing zeros: 05.120 is written 05.12 and 05.100 is 05.1 (@sigstore/core alone refuses these).
    ['20261202121305.12Z', '2026-12-02T12:13:05.120Z'],
    ['20261202121305.1Z', '2026-12-02T12:13:05.100Z'],
    // Finer than milliseconds: truncated to the millisecond.
    ['20261202121305.1234567Z', '2026-12-02T12:13:05.123Z'],
  ])('%s is %s', (text, iso) => {
    expect(der(0x18, text).toDate().toISOString()).toBe(iso);
  });

  it.each(['20261202121305.Z', '20261202121305+0100', '2026120212130Z'])('%s is still refused', (text) => {
    expect(() => der(0x18, text).toDate()).toThrow('invalid time');
  });

  it('leaves UTCTime to the library', () => {
    expect(der(0x17, '261202121305Z').toDate().toISOString()).toBe('2026-12-02T12:13:05.000Z');
  });
});
