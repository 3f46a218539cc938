import { describe, expect, it } from 'vitest';
import { COMMANDS, describeCommand, parseCommand } from '../../src/domain/command.ts';
import { type CommandJobData, checkCommandJob, commandJobId } from '../../src/jobs/definitions.ts';

const rules = {
  allowedChannels: ['*'],
  urls: { responseUrlHosts: ['hooks.slack.com'], allowLoopback: false },
};

function job(text: string): CommandJobData {
  const command = parseCommand(text);
  return {
    command,
    commandText: describeCommand(command),
    requester: { userId: 'U0RESPONDER', userName: 'responder', teamId: 'T0SCOPE01' },
    reply: {
      channelId: 'C0INCIDENT',
      responseUrl: 'https://hooks.slack.com/commands/T0/1/abc',
      ...(command.name === 'log' ? { ephemeralTo: 'U0RESPONDER' } : {}),
    },
    correlationId: '0123456789abcdef',
    requestedAt: new Date().toISOString(),
  };
}

describe('checkCommandJob', () => {
  it('refuses an audit-log job that would post in the channel or to someone else', () => {
    const inChannel = job('log 5');
    inChannel.reply = { channelId: 'C0INCIDENT' };
    expect(
      checkCommandJob(inChannel, undefined, {
        allowedChannels: ['*'],
        urls: { responseUrlHosts: ['hooks.slack.com'], allowLoopback: false },
      }),
    ).toEqual({
      reason: 'the audit log is only ever shown to the requester',
    });
    const other = job('log 5');
    other.reply = { channelId: 'C0INCIDENT', ephemeralTo: 'U0SOMEONE' };
    expect(
      checkCommandJob(other, undefined, {
        allowedChannels: ['*'],
        urls: { responseUrlHosts: ['hooks.slack.com'], allowLoopback: false },
      }),
    ).toEqual({
      reason: 'an ephemeral reply may only go to the requester',
    });
  });

  const queued = [
    ...COMMANDS.filter((c) => c.name !== 'help').map((c) => c.example.replace(/^\/scope /, '')),
    'digest sha256:50d858e0985e',
    `digest registry.example.com/a/api@sha256:${'a'.repeat(64)}`,
    'image registry.example.com/vendor/agent',
    'where prod-eu',
    'where prod-eu/payments',
  ];

  it.each(queued)('accepts the job the bot writes for "%s"', (text) => {
    const checked = checkCommandJob(
      JSON.parse(JSON.stringify(job(text))),
      commandJobId('0123456789abcdef'),
      rules,
    );
    expect(checked).not.toHaveProperty('reason');
    expect('command' in checked && checked.command).toEqual(parseCommand(text));
  });

  it('re-parses the command from its text instead of trusting the stored object', () => {
    const forged = { ...job('status'), command: { name: 'status', extra: 'x' } };
    const checked = checkCommandJob(forged, 'cmd-0123456789abcdef', rules);
    expect('command' in checked && checked.command).toEqual({ name: 'status' });
  });

  it.each([
    ['a job id that is not the correlation id', job('status'), 'cmd-ffffffffffffffff', 'job id'],
    ['a channel off the allow-list', job('status'), undefined, 'allow-list'],
    ['an unparseable command text', { ...job('status'), commandText: 'digest' }, undefined, 'does not parse'],
    [
      'help, which is never queued',
      { ...job('status'), command: { name: 'help' }, commandText: 'help' },
      undefined,
      'does not match',
    ],
    [
      'a response_url elsewhere',
      { ...job('status'), reply: { channelId: 'C0INCIDENT', responseUrl: 'https://evil.example/x' } },
      undefined,
      'response_url refused',
    ],
    ['not an object', 'status', undefined, 'malformed job data ((root))'],
  ])('refuses %s', (_n, data, id, reason) => {
    const r = checkCommandJob(data, id, {
      ...rules,
      allowedChannels: _n.includes('allow-list') ? ['C0OTHER'] : ['*'],
    });
    expect('reason' in r && r.reason).toContain(reason);
  });
});
