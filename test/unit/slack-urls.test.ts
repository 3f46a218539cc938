import { describe, expect, it } from 'vitest';
import { apiUrlProblem, isLoopbackHost, responseUrlProblem } from '../../src/domain/slack/urls.ts';

const slack = { responseUrlHosts: ['hooks.slack.com'], allowLoopback: false };
const gov = { responseUrlHosts: ['hooks.slack.com', 'hooks.slack-gov.com'], allowLoopback: false };
const testing = { ...slack, allowLoopback: true };

describe('response_url allow-list', () => {
  it.each([
    ['https://hooks.slack.com/commands/T0/1/abc', slack],
    ['https://HOOKS.slack.com./commands/T0/1/abc', slack],
    ['https://hooks.slack-gov.com/commands/T0/1/abc', gov],
    ['http://127.0.0.1:4000/response/R1', testing],
    ['http://localhost:4000/response/R1', testing],
    ['http://[::1]:4000/response/R1', testing],
  ])('accepts %s', (url, policy) => {
    expect(responseUrlProblem(url, policy)).toBeUndefined();
  });

  it.each([
    ['http://hooks.slack.com/commands/1', slack, 'scheme http'],
    ['https://hooks.slack.com:8443/commands/1', slack, 'port 8443'],
    ['https://hooks.slack.com.evil.example/commands/1', slack, 'not one of'],
    ['https://evil.example/hooks.slack.com', slack, 'host evil.example'],
    ['https://user:pw@hooks.slack.com/commands/1', slack, 'credentials'],
    ['https://hooks.slack-gov.com/commands/1', slack, 'not one of'],
    ['http://127.0.0.1:4000/latest/meta-data/iam', slack, 'scheme http'],
    ['https://127.0.0.1/latest/meta-data/iam', slack, 'host 127.0.0.1'],
    ['http://169.254.169.254/latest/meta-data/', testing, 'scheme http'],
    ['file:///etc/passwd', testing, 'scheme file'],
    ['not a url', slack, 'not a URL'],
  ])('refuses %s', (url, policy, reason) => {
    expect(responseUrlProblem(url, policy)).toContain(reason);
  });

  it('knows loopback names', () => {
    expect(['127.0.0.1', 'LOCALHOST', 'localhost.', '::1', '[::1]'].map(isLoopbackHost)).toEqual(
      Array(5).fill(true),
    );
    expect(['127.0.0.2', '10.0.0.1', 'localhost.example'].map(isLoopbackHost)).toEqual([false, false, false]);
  });
});

describe('Web API base URL', () => {
  it('allows https anywhere and plain http to loopback only', () => {
    expect(apiUrlProblem('https://slack.com/api/')).toBeUndefined();
    expect(apiUrlProblem('http://127.0.0.1:3000/api/')).toBeUndefined();
    expect(apiUrlProblem('http://slack.internal/api/')).toContain('in clear');
    expect(apiUrlProblem('ws://127.0.0.1/api/')).toContain('scheme ws');
    expect(apiUrlProblem('::')).toBe('not a URL');
  });
});
