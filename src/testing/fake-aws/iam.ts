import { randomBytes } from 'node:crypto';
import { type AwsReply, esc, type RequestInfo, xmlError, xmlOk } from './wire.ts';

const NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

export type FakeAccessKey = { id: string; secret: string; status: 'Active' | 'Inactive'; created: string };
type User = { name: string; keys: FakeAccessKey[]; tags: Map<string, string> };
type Role = { name: string; created: string; policies: Map<string, string> };
type Account = { users: Map<string, User>; roles: Map<string, Role> };

/**
 * IAM over the query protocol (form-encoded `Action=…`, XML answers) for the calls rotation needs: access keys
 * (with the two-keys-per-user quota), user tags, role inline policies. State per account; tests seed it directly.
 */
export class FakeIam {
  readonly #accounts = new Map<string, Account>();

  #account(id: string): Account {
    let a = this.#accounts.get(id);
    if (!a) {
      a = { users: new Map(), roles: new Map() };
      this.#accounts.set(id, a);
    }
    return a;
  }

  addUser(account: string, name: string, keys: Partial<FakeAccessKey>[] = []): FakeAccessKey[] {
    const user: User = { name, keys: [], tags: new Map() };
    for (const k of keys) user.keys.push(newKey(k));
    this.#account(account).users.set(name, user);
    return user.keys;
  }

  addRole(account: string, name: string): void {
    this.#account(account).roles.set(name, { name, created: new Date().toISOString(), policies: new Map() });
  }

  keys(account: string, user: string): FakeAccessKey[] {
    return this.#account(account).users.get(user)?.keys ?? [];
  }

  rolePolicy(account: string, role: string, policy: string): string | undefined {
    return this.#account(account).roles.get(role)?.policies.get(policy);
  }

  userTags(account: string, user: string): Map<string, string> {
    return this.#account(account).users.get(user)?.tags ?? new Map();
  }

  handle(info: RequestInfo): AwsReply {
    const p = new URLSearchParams(info.body);
    const acct = this.#account(info.account);
    const op = info.operation;
    const userName = p.get('UserName') ?? '';
    const needUser = (): User | AwsReply => acct.users.get(userName) ?? noSuch(`user ${userName}`);
    switch (op) {
      case 'ListAccessKeys': {
        const u = needUser();
        if (!isUser(u)) return u;
        return xmlOk(
          op,
          NS,
          `<AccessKeyMetadata>${u.keys.map((k) => `<member>${keyXml(u.name, k, false)}</member>`).join('')}</AccessKeyMetadata><IsTruncated>false</IsTruncated>`,
        );
      }
      case 'CreateAccessKey': {
        const u = needUser();
        if (!isUser(u)) return u;
        if (u.keys.length >= 2) {
          return xmlError(409, 'LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
        }
        const k = newKey({});
        u.keys.push(k);
        return xmlOk(op, NS, `<AccessKey>${keyXml(u.name, k, true)}</AccessKey>`);
      }
      case 'UpdateAccessKey': {
        const u = needUser();
        if (!isUser(u)) return u;
        const k = u.keys.find((x) => x.id === p.get('AccessKeyId'));
        if (!k) return noSuch(`access key ${p.get('AccessKeyId')}`);
        const status = p.get('Status');
        if (status !== 'Active' && status !== 'Inactive')
          return xmlError(400, 'ValidationError', 'bad Status');
        k.status = status;
        return xmlOk(op, NS, '');
      }
      case 'DeleteAccessKey': {
        const u = needUser();
        if (!isUser(u)) return u;
        const i = u.keys.findIndex((x) => x.id === p.get('AccessKeyId'));
        if (i < 0) return noSuch(`access key ${p.get('AccessKeyId')}`);
        u.keys.splice(i, 1);
        return xmlOk(op, NS, '');
      }
      case 'TagUser': {
        const u = needUser();
        if (!isUser(u)) return u;
        for (let i = 1; p.has(`Tags.member.${i}.Key`); i++) {
          u.tags.set(p.get(`Tags.member.${i}.Key`) ?? '', p.get(`Tags.member.${i}.Value`) ?? '');
        }
        return xmlOk(op, NS, '');
      }
      case 'ListUserTags': {
        const u = needUser();
        if (!isUser(u)) return u;
        const tags = [...u.tags].map(
          ([k, v]) => `<member><Key>${esc(k)}</Key><Value>${esc(v)}</Value></member>`,
        );
        return xmlOk(op, NS, `<Tags>${tags.join('')}</Tags><IsTruncated>false</IsTruncated>`);
      }
      case 'GetUser': {
        const u = needUser();
        if (!isUser(u)) return u;
        return xmlOk(
          op,
          NS,
          `<User><Path>/</Path><UserName>${esc(u.name)}</UserName><UserId>AIDA${u.name.length}X</UserId><Arn>arn:aws:iam::${info.account}:user/${esc(u.name)}</Arn><CreateDate>2025-01-01T00:00:00Z</CreateDate></User>`,
        );
      }
      case 'GetRole':
      case 'PutRolePolicy':
      case 'GetRolePolicy':
      case 'DeleteRolePolicy': {
        const name = p.get('RoleName') ?? '';
        const role = acct.roles.get(name);
        if (!role) return noSuch(`role ${name}`);
        const policyName = p.get('PolicyName') ?? '';
        if (op === 'GetRole') {
          return xmlOk(
            op,
            NS,
            `<Role><Path>/</Path><RoleName>${esc(name)}</RoleName><RoleId>AROA${name.length}X</RoleId><Arn>arn:aws:iam::${info.account}:role/${esc(name)}</Arn><CreateDate>${role.created}</CreateDate><AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument></Role>`,
          );
        }
        if (op === 'PutRolePolicy') {
          const doc = p.get('PolicyDocument') ?? '';
          try {
            JSON.parse(doc);
          } catch {
            return xmlError(400, 'MalformedPolicyDocument', 'the policy document is not JSON');
          }
          role.policies.set(policyName, doc);
          return xmlOk(op, NS, '');
        }
        const doc = role.policies.get(policyName);
        if (doc === undefined) return noSuch(`policy ${policyName} on role ${name}`);
        if (op === 'DeleteRolePolicy') {
          role.policies.delete(policyName);
          return xmlOk(op, NS, '');
        }
        return xmlOk(
          op,
          NS,
          `<RoleName>${esc(name)}</RoleName><PolicyName>${esc(policyName)}</PolicyName><PolicyDocument>${esc(encodeURIComponent(doc))}</PolicyDocument>`,
        );
      }
      default:
        return xmlError(400, 'InvalidAction', `${op} is not implemented by the fake IAM`);
    }
  }
}

function isUser(u: User | AwsReply): u is User {
  return 'keys' in u;
}

function noSuch(what: string): AwsReply {
  return xmlError(404, 'NoSuchEntity', `The ${what} cannot be found.`);
}

function newKey(k: Partial<FakeAccessKey>): FakeAccessKey {
  return {
    id: k.id ?? `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secret: k.secret ?? randomBytes(30).toString('base64'),
    status: k.status ?? 'Active',
    created: k.created ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

function keyXml(user: string, k: FakeAccessKey, withSecret: boolean): string {
  return `<UserName>${esc(user)}</UserName><AccessKeyId>${k.id}</AccessKeyId><Status>${k.status}</Status>${withSecret ? `<SecretAccessKey>${esc(k.secret)}</SecretAccessKey>` : ''}<CreateDate>${k.created}</CreateDate>`;
}
