import type { AuditEvent } from './event.ts';

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export type RiskCategory =
  | 'credential-creation'
  | 'policy-change'
  | 'logging-change'
  | 'secret-read'
  | 'bucket-policy'
  | 'role-chaining';

/** Built-in high-risk calls by `eventSource:eventName`, with the category and its severity. */
const RISKY: Record<string, RiskCategory> = {};
const add = (source: string, names: string[], cat: RiskCategory) => {
  for (const n of names) RISKY[`${source}.amazonaws.com:${n}`] = cat;
};
add(
  'iam',
  [
    'CreateAccessKey',
    'CreateLoginProfile',
    'UpdateLoginProfile',
    'CreateUser',
    'CreateServiceSpecificCredential',
    'UploadSSHPublicKey',
    'UploadSigningCertificate',
    'CreateVirtualMFADevice',
  ],
  'credential-creation',
);
add(
  'iam',
  [
    'AttachUserPolicy',
    'AttachRolePolicy',
    'AttachGroupPolicy',
    'PutUserPolicy',
    'PutRolePolicy',
    'PutGroupPolicy',
    'CreatePolicyVersion',
    'SetDefaultPolicyVersion',
    'UpdateAssumeRolePolicy',
    'AddUserToGroup',
  ],
  'policy-change',
);
add(
  'cloudtrail',
  ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors'],
  'logging-change',
);
add(
  'config',
  ['StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'],
  'logging-change',
);
add('guardduty', ['DeleteDetector', 'UpdateDetector', 'DisassociateFromMasterAccount'], 'logging-change');
add('ec2', ['DeleteFlowLogs'], 'logging-change');
add('logs', ['DeleteLogGroup', 'DeleteLogStream'], 'logging-change');
add('secretsmanager', ['GetSecretValue', 'BatchGetSecretValue'], 'secret-read');
add('ssm', ['GetParameter', 'GetParameters', 'GetParametersByPath'], 'secret-read');
add(
  's3',
  [
    'PutBucketPolicy',
    'DeleteBucketPolicy',
    'PutBucketAcl',
    'PutBucketPublicAccessBlock',
    'DeleteBucketPublicAccessBlock',
  ],
  'bucket-policy',
);
add('s3-control', ['PutPublicAccessBlock', 'DeletePublicAccessBlock'], 'bucket-policy');

export const CATEGORY_SEVERITY: Record<RiskCategory, Severity> = {
  'logging-change': 'critical',
  'credential-creation': 'high',
  'policy-change': 'high',
  'bucket-policy': 'high',
  'secret-read': 'medium',
  'role-chaining': 'medium',
};

export const CATEGORY_LABEL: Record<RiskCategory, string> = {
  'logging-change': 'changes audit logging',
  'credential-creation': 'creates credentials',
  'policy-change': 'changes permissions',
  'bucket-policy': 'changes bucket access',
  'secret-read': 'reads secrets',
  'role-chaining': 'assumes another role (role chaining)',
};

export function callKey(e: Pick<AuditEvent, 'source' | 'name'>): string {
  return `${e.source}:${e.name}`;
}

/** The risk category of an event, if its call is on the built-in list (AssumeRole only from a role session). */
export function riskOf(e: AuditEvent): RiskCategory | undefined {
  if (e.source === 'sts.amazonaws.com' && e.name === 'AssumeRole' && e.identityType === 'AssumedRole') {
    return 'role-chaining';
  }
  return RISKY[callKey(e)];
}

/** Denied calls: IAM/STS say AccessDenied, EC2 UnauthorizedOperation, JSON services AccessDeniedException. */
export function isDenied(e: AuditEvent): boolean {
  const c = e.errorCode;
  return (
    c !== undefined &&
    /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|Client\.UnauthorizedOperation|UnauthorizedAccess)$/.test(
      c,
    )
  );
}

/** `aws-cli`, `boto3`, `aws-sdk-go-v2`, `console`, `terraform`…: the first product token, lower-cased. */
export function userAgentFamily(ua: string | undefined): string {
  if (!ua) return 'unknown';
  const u = ua.trim().toLowerCase();
  if (u.endsWith('.amazonaws.com') || u === 'aws internal') return `aws-service:${u}`;
  if (u.startsWith('[')) return userAgentFamily(u.slice(1));
  if (u.includes('terraform')) return 'terraform';
  return /^([a-z0-9._-]+)/.exec(u)?.[1] ?? 'unknown';
}

/** A source address as its network (/24 for IPv4, /48 for IPv6); AWS services keep their name. */
export function networkOf(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(':') && /^[0-9a-f:]+$/i.test(ip)) {
    const parts = ip.toLowerCase().split('::')[0]?.split(':') ?? [];
    return `${parts.slice(0, 3).join(':')}::/48`;
  }
  return `service:${ip.slice(0, 64)}`;
}

export function isAwsService(ip: string | undefined): boolean {
  return ip === undefined || !/^[\d.:a-fA-F]+$/.test(ip);
}
