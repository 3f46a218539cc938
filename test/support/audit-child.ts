// Child process for the audit outage test: appends entries while Redis is unreachable, then exits.
import { Redis } from 'ioredis';
import { AuditLog } from '../../src/store/audit/audit-log.ts';

const [url = '', prefix = '{x}'] = process.argv.slice(2);
const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
redis.on('error', () => {});
redis.connect().catch(() => {});
const audit = new AuditLog(redis, prefix, { key: 'child-key-0123456789abcdef0123456789abcdef' });
for (let i = 1; i <= 3; i++)
  await audit.append({ kind: 'refusal', actor: 'U1', command: 'bogus', correlationId: `lost-${i}` });
process.stdout.write(`appended ${audit.pending}\n`);
process.exit(0);
