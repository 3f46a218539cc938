import { UserFacingError } from '../errors.ts';
import { type AdvisoryCommand, parseAdvisoryId, parseFeedArg, parseImageArg } from './advisories/commands.ts';
import { type AuditRequest, describeAuditRequest, parseAuditArgs } from './audit/request.ts';
import {
  type DigestQuery,
  type ImageQuery,
  parseDigestQuery,
  parseImageQuery,
} from './inventory/image-ref.ts';
import { describeVerifyScope, parseVerifyScope, type VerifyScope } from './provenance/scope.ts';
import { stripInvisible, visible } from './text.ts';

/** A workload address as typed after `/scope where`: cluster, optionally namespace, optionally workload. */
export type WhereTarget = { cluster: string; namespace?: string; kind?: string; workload?: string };

/** Every command scope understands, parsed and validated; handlers, jobs and the CLI all speak this type. */
export type Command =
  | { name: 'help'; topic?: string }
  | { name: 'status' }
  | { name: 'digest'; query: DigestQuery }
  | { name: 'image'; query: ImageQuery }
  | { name: 'where'; target: WhereTarget }
  | AdvisoryCommand
  | { name: 'guardrails'; cluster?: string }
  | { name: 'log'; count: number }
  | { name: 'audit'; request: AuditRequest }
  | { name: 'freeze'; target: FreezeTarget }
  | { name: 'frozen' }
  | { name: 'verify'; scope: VerifyScope };

/** What `/scope freeze` names: a workload address, or every cluster of an environment (`env:prod`). */
export type FreezeTarget = WhereTarget | { environment: string };

export type CommandName = Command['name'];

type Spec = {
  name: CommandName;
  usage: string;
  example: string;
  summary: string;
  parse: (args: string[], spec: Spec) => Command;
};

const NAME = /^[a-z0-9]([a-z0-9._-]{0,252})?$/;
const WORKLOAD_KINDS = [
  'deployment',
  'statefulset',
  'daemonset',
  'cronjob',
  'job',
  'replicaset',
  'pod',
] as const;

function expectArgs(spec: Spec, args: string[], min: number, max: number): void {
  if (args.length < min) throw usageError(spec, `\`/scope ${spec.name}\` needs ${describeArity(min, max)}.`);
  if (args.length > max) {
    throw usageError(spec, `\`/scope ${spec.name}\` takes ${describeArity(min, max)}, got ${args.length}.`);
  }
}

function describeArity(min: number, max: number): string {
  if (max === 0) return 'no arguments';
  if (min === max) return min === 1 ? 'one argument' : `${min} arguments`;
  return min === 0 ? `at most ${max} argument${max === 1 ? '' : 's'}` : `${min} to ${max} arguments`;
}

function usageError(spec: Spec, message: string): UserFacingError {
  return new UserFacingError(
    'BAD_INPUT',
    message,
    `Usage: \`${spec.usage}\` — for example \`${spec.example}\``,
  );
}

function withUsage(spec: Spec, fn: () => Command): Command {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UserFacingError && err.hint === undefined) throw usageError(spec, err.message);
    throw err;
  }
}

/** Parses the argument of `/scope where`; exported for the CLI, which takes the same form. */
export function parseWhereTarget(text: string): WhereTarget {
  const parts = text.split('/');
  const bad = parts.find((p) => !NAME.test(p));
  if (parts.length > 4 || bad !== undefined) {
    throw new UserFacingError(
      'BAD_INPUT',
      `"${visible(truncate(text))}" is not a workload address: use cluster[/namespace[/workload]] with lowercase names.`,
    );
  }
  const [cluster, namespace, a, b] = parts as [string, string?, string?, string?];
  if (b !== undefined) {
    if (!(WORKLOAD_KINDS as readonly string[]).includes(a ?? '')) {
      throw new UserFacingError(
        'BAD_INPUT',
        `"${visible(a ?? '')}" is not a workload kind; use one of ${WORKLOAD_KINDS.join(', ')}.`,
      );
    }
    return { cluster, namespace, kind: a, workload: b } as WhereTarget;
  }
  const target: WhereTarget = { cluster };
  if (namespace !== undefined) target.namespace = namespace;
  if (a !== undefined) target.workload = a;
  return target;
}

export const COMMANDS: readonly Spec[] = [
  {
    name: 'digest',
    usage: '/scope digest <sha256:…|image@sha256:…>',
    example: '/scope digest sha256:50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c',
    summary: 'Where a digest runs and ran, in every cluster, by environment; earliest deployment.',
    parse: (args, spec) => {
      expectArgs(spec, args, 1, 1);
      return withUsage(spec, () => ({ name: 'digest', query: parseDigestQuery(args[0] as string) }));
    },
  },
  {
    name: 'image',
    usage: '/scope image <repo[:tag]>',
    example: '/scope image vendor/agent:5.2',
    summary: 'Which digests a tag or repository runs as across the fleet; tag drift.',
    parse: (args, spec) => {
      expectArgs(spec, args, 1, 1);
      return withUsage(spec, () => ({ name: 'image', query: parseImageQuery(args[0] as string) }));
    },
  },
  {
    name: 'where',
    usage: '/scope where <cluster[/namespace[/workload]]>',
    example: '/scope where prod-eu/payments/api',
    summary: 'What a cluster, namespace or workload runs now and ran before.',
    parse: (args, spec) => {
      expectArgs(spec, args, 1, 1);
      return withUsage(spec, () => ({ name: 'where', target: parseWhereTarget(args[0] as string) }));
    },
  },
  {
    name: 'advisories',
    usage: '/scope advisories',
    example: '/scope advisories',
    summary: 'Advisories that match what runs or ran, with counts; feed health.',
    parse: (args, spec) => {
      expectArgs(spec, args, 0, 0);
      return { name: 'advisories' };
    },
  },
  {
    name: 'advisory',
    usage: '/scope advisory <id>',
    example: '/scope advisory MAL-2025-1234',
    summary: 'One advisory: what it says and where it matches (environment → cluster → workload).',
    parse: (args, spec) => {
      expectArgs(spec, args, 1, 1);
      return withUsage(spec, () => ({ name: 'advisory', id: parseAdvisoryId(args[0] as string) }));
    },
  },
  {
    name: 'diff',
    usage: '/scope diff <known-good image> <suspicious image>',
    example: '/scope diff vendor/agent:5.1 vendor/agent:5.2',
    summary:
      "Compares two images' SBOMs: added, removed, changed packages; added ones checked against the feeds.",
    parse: (args, spec) => {
      expectArgs(spec, args, 2, 2);
      return withUsage(spec, () => ({
        name: 'diff',
        good: parseImageArg(args[0] as string),
        suspicious: parseImageArg(args[1] as string),
      }));
    },
  },
  {
    name: 'watch',
    usage: '/scope watch [feed|all]',
    example: '/scope watch all',
    summary:
      'Posts a message in this channel for every advisory that matches the fleet (updated as matches change).',
    parse: (args, spec) => {
      expectArgs(spec, args, 0, 1);
      return withUsage(spec, () => ({ name: 'watch', feed: parseFeedArg(args[0]) }));
    },
  },
  {
    name: 'unwatch',
    usage: '/scope unwatch [feed|all]',
    example: '/scope unwatch all',
    summary: 'Stops advisory notifications in this channel.',
    parse: (args, spec) => {
      expectArgs(spec, args, 0, 1);
      return withUsage(spec, () => ({ name: 'unwatch', feed: parseFeedArg(args[0]) }));
    },
  },
  {
    name: 'guardrails',
    usage: '/scope guardrails [cluster]',
    example: '/scope guardrails prod-eu',
    summary: 'Whether image-signature enforcement exists and blocks, per cluster and namespace.',
    parse: (args, spec) => {
      expectArgs(spec, args, 0, 1);
      const cluster = args[0];
      if (cluster === undefined) return { name: 'guardrails' };
      if (!NAME.test(cluster)) throw usageError(spec, `"${truncate(cluster)}" is not a cluster name.`);
      return { name: 'guardrails', cluster };
    },
  },
  {
    name: 'audit',
    usage:
      '/scope audit <user:NAME|role:NAME|AKIA…|resource:NAME> [--since 24h|ISO] [--until …] [--regions a,b]',
    example: '/scope audit role:ci-deploy --since 7d',
    summary: 'What a credential did in AWS CloudTrail, and what is unusual against its baseline.',
    parse: (args, spec) => {
      if (args.length === 0) expectArgs(spec, args, 1, 7);
      return withUsage(spec, () => ({ name: 'audit', request: parseAuditArgs(args) }));
    },
  },
  {
    name: 'freeze',
    usage: '/scope freeze <cluster[/namespace[/workload]] | env:<environment>>',
    example: '/scope freeze prod-eu/payments/api',
    summary: 'Freeze the update path (pause rollouts, suspend GitOps owners) after a second person approves.',
    parse: (args, spec) => {
      expectArgs(spec, args, 1, 1);
      const arg = args[0] as string;
      return withUsage(spec, () => {
        if (arg.startsWith('env:')) {
          const environment = arg.slice(4);
          if (!NAME.test(environment)) {
            throw new UserFacingError('BAD_INPUT', `"${truncate(environment)}" is not an environment name.`);
          }
          return { name: 'freeze', target: { environment } };
        }
        return { name: 'freeze', target: parseWhereTarget(arg) };
      });
    },
  },
  {
    name: 'frozen',
    usage: '/scope frozen',
    example: '/scope frozen',
    summary: 'Active freezes with their age and requester.',
    parse: (args, spec) => {
      expectArgs(spec, args, 0, 0);
      return { name: 'frozen' };
    },
  },
  {
    name: 'verify',
    usage: '/scope verify <digest | image | cluster[/namespace] | env:<name> | all>',
    example: '/scope verify env:prod',
    summary: 'Checks the signatures of what runs there against the signer-identity policy.',
    parse: (args, spec) => {
      expectArgs(spec, args, 1, 1);
      return withUsage(spec, () => ({ name: 'verify', scope: parseVerifyScope(args[0] as string) }));
    },
  },
  {
    name: 'status',
    usage: '/scope status',
    example: '/scope status',
    summary: 'Queue depth, live workers, and the last inventory sync per cluster.',
    parse: (args, spec) => {
      expectArgs(spec, args, 0, 0);
      return { name: 'status' };
    },
  },
  {
    name: 'log',
    usage: '/scope log [n]',
    example: '/scope log 20',
    summary: 'The last n audit entries (default 10, at most 50), shown only to you.',
    parse: (args, spec) => {
      expectArgs(spec, args, 0, 1);
      const n = args[0] === undefined ? 10 : Number(args[0]);
      if (!Number.isInteger(n) || n < 1 || n > 50)
        throw usageError(
          spec,
          `\`/scope log\` takes a number of entries from 1 to 50, not "${truncate(args[0] ?? '', 20)}".`,
        );
      return { name: 'log', count: n };
    },
  },
  {
    name: 'help',
    usage: '/scope help [command]',
    example: '/scope help digest',
    summary: 'This list, or the usage of one command.',
    parse: (args, spec) => {
      expectArgs(spec, args, 0, 1);
      const topic = args[0]?.toLowerCase();
      if (topic !== undefined && !COMMANDS.some((c) => c.name === topic)) {
        throw unknownCommand(topic);
      }
      return topic === undefined ? { name: 'help' } : { name: 'help', topic };
    },
  },
];

export function commandSpec(name: string): Spec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function unknownCommand(word: string): UserFacingError {
  const near = COMMANDS.filter((c) => editDistance(c.name, word) <= 2).map((c) => `\`/scope ${c.name}\``);
  return new UserFacingError(
    'UNKNOWN_COMMAND',
    `\`${visible(truncate(word))}\` is not a scope command.${near.length ? ` Did you mean ${near.join(' or ')}?` : ''}`,
    `Commands: ${COMMANDS.map((c) => c.name).join(', ')}. Try \`/scope help\`.`,
  );
}

/** Splits command text like a shell would (quotes group words), tolerating Slack's curly quotes. */
export function tokenize(text: string): string[] {
  const normalised = text.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'");
  const tokens: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of normalised.matchAll(re)) tokens.push(m[1] ?? m[2] ?? m[3] ?? '');
  return tokens;
}

/** Turns the text after `/scope` into a typed Command or throws a UserFacingError with usage. */
export function parseCommand(raw: string): Command {
  const text = stripInvisible(raw);
  if (text.length > 2000) {
    throw new UserFacingError(
      'BAD_INPUT',
      'That command is too long (over 2,000 characters).',
      'Try `/scope help`.',
    );
  }
  const [first, ...args] = tokenize(text.trim());
  if (first === undefined) return { name: 'help' };
  const spec = commandSpec(first.toLowerCase());
  if (spec === undefined) throw unknownCommand(first);
  return spec.parse(args, spec);
}

/** The text form of a command, for logs, dedup keys and "working on it" messages. */
export function describeCommand(cmd: Command): string {
  switch (cmd.name) {
    case 'help':
      return cmd.topic ? `help ${cmd.topic}` : 'help';
    case 'status':
      return 'status';
    case 'digest':
      return `digest ${describeDigestQuery(cmd.query)}`;
    case 'image':
      return `image ${cmd.query.registry}/${cmd.query.repository}${cmd.query.tag ? `:${cmd.query.tag}` : ''}`;
    case 'audit':
      return describeAuditRequest(cmd.request);
    case 'where':
      return `where ${[cmd.target.cluster, cmd.target.namespace, cmd.target.kind, cmd.target.workload].filter(Boolean).join('/')}`;
    case 'advisories':
      return 'advisories';
    case 'advisory':
      return `advisory ${cmd.id}`;
    case 'diff':
      return `diff ${cmd.good.label} ${cmd.suspicious.label}`;
    case 'watch':
    case 'unwatch':
      return `${cmd.name} ${cmd.feed}`;
    case 'guardrails':
      return cmd.cluster ? `guardrails ${cmd.cluster}` : 'guardrails';
    case 'log':
      return `log ${cmd.count}`;
    case 'freeze':
      return `freeze ${'environment' in cmd.target ? `env:${cmd.target.environment}` : [cmd.target.cluster, cmd.target.namespace, cmd.target.kind, cmd.target.workload].filter(Boolean).join('/')}`;
    case 'frozen':
      return 'frozen';
    case 'verify':
      return `verify ${describeVerifyScope(cmd.scope)}`;
  }
}

function describeDigestQuery(q: DigestQuery): string {
  switch (q.kind) {
    case 'digest-prefix':
      return q.prefix;
    case 'digest':
      return q.digest;
    case 'config':
      return `docker://${q.configId}`;
    case 'image':
      return `${q.ref.registry}/${q.ref.repository}@${q.ref.digest}`;
  }
}

export function truncate(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] as number;
}
