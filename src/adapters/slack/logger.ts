import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from '../../log.ts';

/**
 * Adapts our pino logger to the Slack SDKs' logger interface (Bolt and the Web API client), so their warnings
 * (rate limits, retries) are structured and redacted like every other line.
 */
export function slackLogger(log: Logger, component = 'slack'): SlackLogger {
  const child = log.child({ component });
  let level = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => child.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => child.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => child.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => child.error(m.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
