/**
 * Which outbound Slack URLs scope may call. A response_url comes from a request (and again from a job read back
 * from Redis), so it is an SSRF path unless it is pinned to Slack's own response hosts.
 */
export type SlackUrlPolicy = {
  /** Hosts a response_url may point to over https (Slack: hooks.slack.com; GovSlack: hooks.slack-gov.com). */
  readonly responseUrlHosts: readonly string[];
  /** Tests and the demo only: also allow http(s) to 127.0.0.1, ::1 and localhost (the fake Slack). */
  readonly allowLoopback: boolean;
};

export const DEFAULT_RESPONSE_URL_HOSTS = ['hooks.slack.com'] as const;

const LOOPBACK = new Set(['127.0.0.1', '[::1]', '::1', 'localhost']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname.toLowerCase().replace(/\.$/, ''));
}

/** Returns why a response_url is refused, or undefined when scope may POST to it. Never throws. */
export function responseUrlProblem(raw: string, policy: SlackUrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.username || url.password) return 'credentials in the URL';
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (policy.allowLoopback && isLoopbackHost(host) && (url.protocol === 'http:' || url.protocol === 'https:'))
    return undefined;
  if (url.protocol !== 'https:') return `scheme ${url.protocol.replace(/:$/, '')} (https only)`;
  if (url.port !== '') return `port ${url.port} (Slack's response hosts use 443)`;
  if (!policy.responseUrlHosts.some((h) => h.toLowerCase() === host))
    return `host ${host} is not one of Slack's response hosts (slack.responseUrlHosts)`;
  return undefined;
}

/** The Web API base URL carries the bot token: plain http is only acceptable to loopback (the fake Slack). */
export function apiUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return url.protocol === 'http:'
    ? `plain http to ${url.hostname} would send the bot token in clear; use https (http only to loopback)`
    : `scheme ${url.protocol.replace(/:$/, '')} (https only)`;
}
