import { randomUUID } from 'node:crypto';

/** One parsed, authenticated request as the service stand-ins see it. */
export type RequestInfo = {
  service: string;
  operation: string;
  region: string;
  account: string;
  callerArn: string;
  keyId: string;
  body: string;
  now: number;
};

export type AwsReply = { status: number; contentType: string; body: string; errorCode?: string };

/** JSON 1.1 success. */
export function jsonOk(value: unknown): AwsReply {
  return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(value) };
}

/** JSON 1.1 error as AWS sends it: `__type` plus a message, with the HTTP status of the error class. */
export function jsonError(status: number, code: string, message: string): AwsReply {
  return {
    status,
    contentType: 'application/x-amz-json-1.1',
    body: JSON.stringify({ __type: code, message }),
    errorCode: code,
  };
}

/** Query-protocol (IAM, STS) success envelope. */
export function xmlOk(op: string, ns: string, inner: string): AwsReply {
  return {
    status: 200,
    contentType: 'text/xml',
    body: `<${op}Response xmlns="${ns}"><${op}Result>${inner}</${op}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${op}Response>`,
  };
}

/** Query-protocol error envelope. */
export function xmlError(status: number, code: string, message: string): AwsReply {
  return {
    status,
    contentType: 'text/xml',
    body: `<ErrorResponse><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    errorCode: code,
  };
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Parses a JSON 1.1 body; undefined when it is not a JSON object. */
export function jsonBody(body: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body || '{}') as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
