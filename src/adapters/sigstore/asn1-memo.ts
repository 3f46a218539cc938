import { ASN1Obj } from '@sigstore/core';

/**
 * Performance shim for `@sigstore/core` (measured in docs/PERFORMANCE.md): `ASN1Obj.toDER()` re-encodes the
 * whole subtree on every call, and certificate chain checks call it many times per signature (comparing each
 * trusted CA certificate, re-encoding the TBS part to check a signature). Parsed objects are never mutated, so
 * the encoding of one object never changes: remember it per object. Same bytes, same checks, far less work.
 * Applied once, when the verifier module loads.
 */
const memo = new WeakMap<ASN1Obj, Buffer>();
const proto = ASN1Obj.prototype as { toDER: () => Buffer; __scopeMemo?: true };
if (!proto.__scopeMemo) {
  const original = proto.toDER;
  proto.toDER = function toDER(this: ASN1Obj): Buffer {
    let der = memo.get(this);
    if (der === undefined) {
      der = original.call(this);
      memo.set(this, der);
    }
    return der;
  };
  proto.__scopeMemo = true;
}
