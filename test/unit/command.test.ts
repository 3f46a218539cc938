import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  type Command,
  commandSpec,
  describeCommand,
  parseCommand,
  parseWhereTarget,
  tokenize,
  truncate,
} from '../../src/domain/command.ts';
import { errorOf } from '../support/errors.ts';

const HEX = '8e6b0123456789abcdef0123456789abcdef0123456789abcdef01234567c0f1';
const DIGEST = `sha256:${HEX}`;

function usageOf(name: string): string {
  const spec = commandSpec(name);
  if (!spec) throw new Error(`no spec for ${name}`);
  return `Usage: \`${spec.usage}\``;
}

describe('tokenize', () => {
  it('splits on any run of whitespace', () => {
    expect(tokenize('  digest \t sha256:abc \n ')).toEqual(['digest', 'sha256:abc']);
  });

  it('groups double- and single-quoted words and drops the quotes', () => {
    expect(tokenize(`where "prod eu" 'pay ments' x`)).toEqual(['where', 'prod eu', 'pay ments', 'x']);
  });

  it('treats Slack curly quotes like straight ones', () => {
    expect(tokenize('help \u201Cdig est\u201D \u2018a b\u2019')).toEqual(['help', 'dig est', 'a b']);
  });

  it('treats a non-breaking space as a separator', () => {
    expect(tokenize('digest\u00A0sha256:abc')).toEqual(['digest', 'sha256:abc']);
  });

  it('keeps an empty quoted argument as an empty token', () => {
    expect(tokenize('digest ""')).toEqual(['digest', '']);
  });

  it('keeps an unterminated quote as part of the word', () => {
    expect(tokenize('digest "abc')).toEqual(['digest', '"abc']);
  });

  it('returns no tokens for blank text', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize(' \u00A0 ')).toEqual([]);
  });
});

describe('parseCommand: valid commands', () => {
  it.each<[string, Command]>([
    ['', { name: 'help' }],
    ['   ', { name: 'help' }],
    ['help', { name: 'help' }],
    ['help digest', { name: 'help', topic: 'digest' }],
    ['HELP Where', { name: 'help', topic: 'where' }],
    ['status', { name: 'status' }],
    ['  Status  ', { name: 'status' }],
  ])('%j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it('parses a full digest', () => {
    expect(parseCommand(`digest ${DIGEST}`)).toEqual({
      name: 'digest',
      query: { kind: 'digest', digest: DIGEST },
    });
  });

  it('parses bare hex and uppercase hex as the canonical digest', () => {
    expect(parseCommand(`digest ${HEX.toUpperCase()}`)).toEqual({
      name: 'digest',
      query: { kind: 'digest', digest: DIGEST },
    });
  });

  it('parses a digest prefix', () => {
    expect(parseCommand('digest sha256:8e6b01234567')).toEqual({
      name: 'digest',
      query: { kind: 'digest-prefix', prefix: '8e6b01234567' },
    });
  });

  it('parses an image pinned by digest', () => {
    expect(parseCommand(`digest ghcr.io/org/app:v2@${DIGEST}`)).toEqual({
      name: 'digest',
      query: {
        kind: 'image',
        ref: { registry: 'ghcr.io', repository: 'org/app', tag: 'v2', digest: DIGEST },
      },
    });
  });

  it('accepts a digest wrapped in backticks and separated by a non-breaking space', () => {
    expect(parseCommand(`digest\u00A0\`${DIGEST}\``)).toEqual({
      name: 'digest',
      query: { kind: 'digest', digest: DIGEST },
    });
  });

  it('parses an image with and without a tag', () => {
    expect(parseCommand('image vendor/agent:5.2')).toEqual({
      name: 'image',
      query: { registry: 'docker.io', repository: 'vendor/agent', tag: '5.2' },
    });
    expect(parseCommand('image nginx')).toEqual({
      name: 'image',
      query: { registry: 'docker.io', repository: 'library/nginx' },
    });
  });

  it.each<[string, Command['name'], object]>([
    ['where prod-eu', 'where', { cluster: 'prod-eu' }],
    ['where prod-eu/payments', 'where', { cluster: 'prod-eu', namespace: 'payments' }],
    ['where prod-eu/payments/api', 'where', { cluster: 'prod-eu', namespace: 'payments', workload: 'api' }],
    [
      'where prod-eu/payments/statefulset/ledger',
      'where',
      { cluster: 'prod-eu', namespace: 'payments', kind: 'statefulset', workload: 'ledger' },
    ],
    ['where \u201Cprod-eu/payments\u201D', 'where', { cluster: 'prod-eu', namespace: 'payments' }],
  ])('%j', (text, name, target) => {
    expect(parseCommand(text)).toEqual({ name, target });
  });
});

describe('parseCommand: errors', () => {
  it('rejects an unknown subcommand and suggests the closest one', () => {
    const err = errorOf(() => parseCommand('dgest sha256:abc'));
    expect(err.code).toBe('UNKNOWN_COMMAND');
    expect(err.message).toBe('`dgest` is not a scope command. Did you mean `/scope digest`?');
    expect(err.hint).toBe(
      'Commands: digest, image, where, advisories, advisory, diff, watch, unwatch, guardrails, audit, freeze, frozen, verify, status, log, help. Try `/scope help`.',
    );
  });

  it('suggests every command within two edits', () => {
    expect(errorOf(() => parseCommand('here')).message).toContain(
      'Did you mean `/scope where` or `/scope help`?',
    );
    expect(errorOf(() => parseCommand('stats')).message).toContain('Did you mean `/scope status`?');
  });

  it('makes no suggestion when nothing is close', () => {
    const err = errorOf(() => parseCommand('xyzzy'));
    expect(err.code).toBe('UNKNOWN_COMMAND');
    expect(err.message).toBe('`xyzzy` is not a scope command.');
  });

  it('truncates a long unknown word in the message', () => {
    const err = errorOf(() => parseCommand('x'.repeat(300)));
    expect(err.message).toContain(`\`${'x'.repeat(80)}…\``);
    expect(err.message).not.toContain('x'.repeat(81));
  });

  it('rejects an unknown help topic as an unknown command', () => {
    const err = errorOf(() => parseCommand('help digets'));
    expect(err.code).toBe('UNKNOWN_COMMAND');
    expect(err.message).toContain('Did you mean `/scope digest`?');
  });

  it.each([
    ['digest', 'digest', '`/scope digest` needs one argument.'],
    [`digest ${DIGEST} extra`, 'digest', '`/scope digest` takes one argument, got 2.'],
    ['image', 'image', '`/scope image` needs one argument.'],
    ['where', 'where', '`/scope where` needs one argument.'],
    ['where a b', 'where', '`/scope where` takes one argument, got 2.'],
    ['status now', 'status', '`/scope status` takes no arguments, got 1.'],
    ['help digest image', 'help', '`/scope help` takes at most 1 argument, got 2.'],
  ])('wrong arity %j', (text, name, message) => {
    const err = errorOf(() => parseCommand(text));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toBe(message);
    const spec = commandSpec(name);
    expect(err.hint).toBe(`Usage: \`${spec?.usage}\` — for example \`${spec?.example}\``);
  });

  it('points a tag-only image given to digest at /scope image', () => {
    const err = errorOf(() => parseCommand('digest nginx:1.25'));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain('names an image tag but no digest');
    expect(err.hint).toContain('use `/scope image nginx:1.25`');
    expect(err.hint).toContain('Usage: `/scope digest <digest>`');
  });

  it('points a digest given to image at /scope digest', () => {
    const err = errorOf(() => parseCommand(`image ${DIGEST}`));
    expect(err.message).toContain('is a digest, not an image name');
    expect(err.hint).toContain(`use \`/scope digest ${DIGEST}\``);
  });

  it.each([
    ['where prod-eu/payments/api/extra/more', 'is not a workload address'],
    ['where Prod-EU', 'is not a workload address'],
    ['where prod-eu//api', 'is not a workload address'],
    ['where prod-eu/payments/', 'is not a workload address'],
    ['where prod-eu/payments/dep/api', '"dep" is not a workload kind; use one of deployment, statefulset'],
  ])('rejects the bad where address %j with usage', (text, message) => {
    const err = errorOf(() => parseCommand(text));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain(message);
    expect(err.hint).toBe(
      'Usage: `/scope where <cluster[/namespace[/workload]]>` — for example `/scope where prod-eu/payments/api`',
    );
  });

  it('rejects text over 2,000 characters before parsing it', () => {
    const err = errorOf(() => parseCommand(`status ${'x'.repeat(1994)}`));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toBe('That command is too long (over 2,000 characters).');
    expect(err.hint).toBe('Try `/scope help`.');
  });

  it('parses text of exactly 2,000 characters normally', () => {
    const err = errorOf(() => parseCommand(`status ${'x'.repeat(1993)}`));
    expect(err.message).toBe('`/scope status` takes no arguments, got 1.');
  });

  it.each([
    ['digest', 'digest', usageOf('digest')],
    ['digest sha256:abc', 'digest', 'Usage: `/scope digest <digest>`'],
    ['digest sha256:8e6b0123…c0f1', 'digest', 'Usage: `/scope digest <digest>`'],
    ['digest nginx', 'digest', 'Usage: `/scope digest <digest>`'],
    ['digest ""', 'digest', 'Usage: `/scope digest <digest>`'],
    ['image', 'image', usageOf('image')],
    ['image Nginx', 'image', 'Usage: `/scope image <repo[:tag]>`'],
    [`image nginx@${DIGEST}`, 'image', 'Usage: `/scope image <repo[:tag]>`'],
    ['where', 'where', usageOf('where')],
    ['where a/b/c/d/e', 'where', usageOf('where')],
    ['status x', 'status', usageOf('status')],
    ['help a b', 'help', usageOf('help')],
  ])('%j carries a hint with the usage', (text, _name, usage) => {
    const err = errorOf(() => parseCommand(text));
    expect(err.hint).toBeDefined();
    expect(err.hint).toContain(usage);
  });
});

describe('parseWhereTarget', () => {
  it('omits the parts that were not given', () => {
    const t = parseWhereTarget('prod-eu');
    expect(t).toEqual({ cluster: 'prod-eu' });
    expect(Object.keys(t)).toEqual(['cluster']);
  });

  it('has no hint of its own (the command parser adds the usage)', () => {
    expect(errorOf(() => parseWhereTarget('A')).hint).toBeUndefined();
  });
});

describe('describeCommand', () => {
  it.each<[Command, string]>([
    [{ name: 'help' }, 'help'],
    [{ name: 'help', topic: 'where' }, 'help where'],
    [{ name: 'status' }, 'status'],
    [parseCommand(`digest ${DIGEST}`), `digest ${DIGEST}`],
    [parseCommand('digest 8e6b01234567'), 'digest 8e6b01234567'],
    [parseCommand(`digest ghcr.io/org/app:v2@${DIGEST}`), `digest ghcr.io/org/app@${DIGEST}`],
    [parseCommand('image nginx:1.25'), 'image docker.io/library/nginx:1.25'],
    [parseCommand('image ghcr.io/org/app'), 'image ghcr.io/org/app'],
    [parseCommand('where prod-eu'), 'where prod-eu'],
    [parseCommand('where prod-eu/payments/api'), 'where prod-eu/payments/api'],
    [parseCommand('where prod-eu/payments/deployment/api'), 'where prod-eu/payments/deployment/api'],
  ])('%j → %s', (cmd, text) => {
    expect(describeCommand(cmd)).toBe(text);
  });

  it.each([
    'help',
    'help image',
    'status',
    `digest ${DIGEST}`,
    'digest sha256:8e6b01234567',
    `digest registry.example.com/payments/api@${DIGEST}`,
    `digest localhost:5000/team/app:1.2@${DIGEST}`,
    'image vendor/agent:5.2',
    'image quay.io/org/app',
    'where prod-eu/payments',
    'where prod-eu/payments/cronjob/nightly',
  ])('parses back to the same command: %s', (text) => {
    const cmd = parseCommand(text);
    const described = describeCommand(cmd);
    const again = parseCommand(described);
    // The pinned-image form keeps repository and digest (the tag is informational).
    if (cmd.name === 'digest' && cmd.query.kind === 'image') {
      expect(again).toEqual({
        name: 'digest',
        query: { kind: 'image', ref: { ...cmd.query.ref, tag: undefined } },
      });
      expect(again.name === 'digest' && again.query.kind === 'image' && again.query.ref.registry).toBe(
        cmd.query.ref.registry,
      );
    } else {
      expect(again).toEqual(cmd);
    }
  });
});

describe('COMMANDS', () => {
  it('has a spec, usage and example for every command name, each example parsing cleanly', () => {
    expect(COMMANDS.map((c) => c.name).sort()).toEqual([
      'advisories',
      'advisory',
      'audit',
      'diff',
      'digest',
      'freeze',
      'frozen',
      'guardrails',
      'help',
      'image',
      'log',
      'status',
      'unwatch',
      'verify',
      'watch',
      'where',
    ]);
    for (const c of COMMANDS) {
      expect(c.usage.startsWith(`/scope ${c.name}`)).toBe(true);
      expect(c.example.startsWith(`/scope ${c.name}`)).toBe(true);
    }
    for (const c of COMMANDS.filter((x) => x.name !== 'digest')) {
      expect(parseCommand(c.example.slice('/scope '.length)).name).toBe(c.name);
    }
  });
});

describe('truncate', () => {
  it('keeps short text and cuts long text with an ellipsis', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcd', 3)).toBe('abc…');
  });
});

describe('log', () => {
  it('parses /scope log [n] with 1 ≤ n ≤ 50, default 10', () => {
    expect(parseCommand('log')).toEqual({ name: 'log', count: 10 });
    expect(parseCommand('log 25')).toEqual({ name: 'log', count: 25 });
    for (const bad of ['log 0', 'log 51', 'log x', 'log 2.5', 'log 1 2'])
      expect(() => parseCommand(bad), bad).toThrow(/log/);
  });
});
