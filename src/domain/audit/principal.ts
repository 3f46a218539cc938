import { UserFacingError } from '../../errors.ts';

/** What `/scope audit` is asked about. */
export type Principal =
  | { kind: 'user'; name: string }
  | { kind: 'role'; name: string }
  | { kind: 'access-key'; id: string }
  | { kind: 'resource'; name: string };

const IAM_NAME = /^[\w+=,.@-]{1,128}$/;
const KEY_ID = /^(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,124}$/;

/**
 * Parses `user:NAME`, `role:NAME`, `resource:NAME-or-ARN`, an IAM user/role ARN, or an access key id
 * (`AKIA…`, `ASIA…`). A bare name is refused: a user and a role may share it.
 */
export function parsePrincipal(text: string): Principal {
  const t = text.trim();
  if (/^(AKIA|ASIA)/.test(t)) {
    if (!KEY_ID.test(t))
      throw bad(t, 'an access key id is AKIA/ASIA followed by 16 upper-case letters or digits');
    return { kind: 'access-key', id: t };
  }
  const arn = /^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,128})$/.exec(t);
  if (arn) return { kind: arn[1] as 'user' | 'role', name: arn[2] as string };
  const m = /^(user|role|resource):(.+)$/.exec(t);
  if (m) {
    const [, kind, name] = m as unknown as [string, 'user' | 'role' | 'resource', string];
    if (kind === 'resource') {
      if (name.length > 2048 || /\s/.test(name)) throw bad(t, 'a resource name or ARN without spaces');
      return { kind, name };
    }
    if (!IAM_NAME.test(name)) throw bad(t, 'IAM names use letters, digits and +=,.@_- (at most 128)');
    return { kind, name };
  }
  throw bad(t, 'say which kind it is');
}

function bad(text: string, why: string): UserFacingError {
  return new UserFacingError(
    'BAD_INPUT',
    `"${text.slice(0, 80)}" is not a principal: ${why}.`,
    'Use user:NAME, role:NAME, resource:NAME, an IAM ARN, or an access key id (AKIA…/ASIA…).',
  );
}

export function describePrincipal(p: Principal): string {
  switch (p.kind) {
    case 'access-key':
      return p.id;
    case 'user':
      return `user:${p.name}`;
    case 'role':
      return `role:${p.name}`;
    case 'resource':
      return `resource:${p.name}`;
  }
}
