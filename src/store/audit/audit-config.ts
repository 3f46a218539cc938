import { z } from 'zod';
import { ScopeError } from '../../errors.ts';

/** The `audit` section of the configuration (the HMAC key itself comes from env SCOPE_AUDIT_KEY). */
export const auditConfigSchema = z
  .object({
    /** HMAC-SHA256 key for the chain; set it through SCOPE_AUDIT_KEY, never in the file. */
    hmacSecret: z.string().min(32, 'at least 32 characters (e.g. openssl rand -hex 32)').optional(),
    /** Refuse to start without a key (always on when NODE_ENV=production). */
    requireKey: z.boolean().default(false),
    /** Append-only JSONL file that records the chain head after every write and at intervals. */
    witnessFile: z.string().min(1).optional(),
    /** Slack channel id where the chain head is posted at intervals and after approvals and actions. */
    witnessChannel: z
      .string()
      .regex(/^[CG][A-Z0-9]+$/, 'a channel id such as C0123ABCD')
      .optional(),
    witnessIntervalSeconds: z.number().int().min(5).max(86_400).default(300),
    /** Entries kept in memory while Redis is unreachable; beyond this they are logged as lost. */
    bufferMax: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .strict()
  .default({ requireKey: false, witnessIntervalSeconds: 300, bufferMax: 10_000 });

export type AuditConfig = z.infer<typeof auditConfigSchema>;

/** A well-known development key: the chain is then only as good as an unkeyed one, and scope says so. */
export const DEV_AUDIT_KEY = 'scope-development-audit-key-not-secret';

/** Returns the key to sign with, or throws the start-up error when production needs one and none is set. */
export function auditKey(
  audit: AuditConfig,
  env: NodeJS.ProcessEnv = process.env,
): { key: string; development: boolean } {
  if (audit.hmacSecret) return { key: audit.hmacSecret, development: false };
  if (audit.requireKey || env.NODE_ENV === 'production') {
    throw new ScopeError(
      'CONFIG_INVALID',
      'the audit trail needs an HMAC key: set SCOPE_AUDIT_KEY (at least 32 characters, e.g. `openssl rand -hex 32`), the same for the bot and every worker, and keep it outside Redis',
    );
  }
  return { key: DEV_AUDIT_KEY, development: true };
}
