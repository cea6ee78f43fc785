import { z } from 'zod';
import { ConfigError } from './data-dir.ts';

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must be 0-65535')
  .max(65535, 'must be 0-65535');

const bytes = z.coerce
  .number({ error: 'must be a number of bytes' })
  .int()
  .positive('must be positive');

export const syncConfigSchema = z.object({
  PORT: port.default(8081),
  HOST: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
  SYNC_MAX_MESSAGE_BYTES: bytes.default(16 * 1024 * 1024),
  LOG_LEVEL: z.enum(['info', 'warn', 'error', 'silent']).default('info'),
  /** Where a separately run sync-server checks sign-ins (the blob/API server). */
  API_URL: z.url({ error: 'must be a URL such as http://127.0.0.1:8080' }).optional(),
  /** Shared with the blob/API server; lets a separate sync-server ask it who may do what. */
  SYNC_SERVICE_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
});

export type SyncConfig = z.infer<typeof syncConfigSchema>;

export function readSyncConfig(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  return parseEnv(syncConfigSchema, env);
}

/** Validates the environment and names every bad variable in one message. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.');
    return `${variable}=${JSON.stringify(env[variable] ?? '')}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}
