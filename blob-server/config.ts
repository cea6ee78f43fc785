import { z } from 'zod';
import { parseEnv, syncConfigSchema } from '../sync-server/config.ts';
import { ConfigError } from '../sync-server/data-dir.ts';
import { ROLES, isRole, type Role } from '../web/lib/shared/roles.ts';
import { MAX_RETENTION_DAYS } from '../web/lib/shared/retention.ts';
import type { MailSettings } from './notifications/mailer.ts';

const bytes = z.coerce
  .number({ error: 'must be a number of bytes' })
  .int()
  .positive('must be positive');

const blobSchema = z.object({
  PORT: syncConfigSchema.shape.PORT.unwrap().default(8080),
  HOST: syncConfigSchema.shape.HOST,
  DATA_DIR: syncConfigSchema.shape.DATA_DIR,
  LOG_LEVEL: syncConfigSchema.shape.LOG_LEVEL,
  WEB_ROOT: z.string().min(1).default('./build'),
  MAX_UPLOAD_BYTES: bytes.default(1024 * 1024 * 1024),
  MAX_FILE_BYTES: bytes.default(5 * 1024 ** 4),
  UPLOAD_EXPIRY_HOURS: z.coerce
    .number({ error: 'must be a number of hours' })
    .positive('must be positive')
    .max(24 * 90, 'must be at most 2160 (90 days)')
    .default(24),
  UPLOAD_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const origins = value
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== '');
      for (const origin of origins) {
        if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
          ctx.addIssue({
            code: 'custom',
            message: `"${origin}" is not an origin like https://intranet.example.org`,
          });
        }
      }
      return origins;
    }),
  S3_ENDPOINT: z.url({ error: 'must be a URL such as http://127.0.0.1:9000' }).optional(),
  S3_ACCESS_KEY: z.string().min(1).optional(),
  S3_SECRET_KEY: z.string().min(1).optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .default('exhibit'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_OBJECT_LOCK: z
    .enum(['off', 'governance', 'compliance'], {
      error: 'must be off, governance or compliance',
    })
    .default('off'),
  EVIDENCE_RETENTION_DAYS: z.coerce
    .number({ error: 'must be a number of days' })
    .int()
    .positive('must be positive')
    .max(36_500, 'must be at most 36500 (a hundred years)')
    .default(3650),
  DEFAULT_RETENTION_DAYS: z
    .string()
    .trim()
    .default('indefinite')
    .transform((value, ctx) => {
      if (value === 'indefinite') return null;
      const days = /^\d+$/.test(value) ? Number(value) : NaN;
      if (!(days <= MAX_RETENTION_DAYS)) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a number of days (0-${MAX_RETENTION_DAYS}) or "indefinite"`,
        });
        return z.NEVER;
      }
      return days;
    }),
  RECYCLE_BIN_DAYS: z.coerce
    .number({ error: 'must be a number of days' })
    .int('must be a whole number of days')
    .min(0, 'must be 0 or more')
    .max(3650, 'must be at most 3650')
    .default(30),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int()
    .min(30, 'must be at least 30')
    .max(3600, 'must be at most 3600 (an hour)')
    .default(600),
  SESSION_TTL_DAYS: z.coerce
    .number({ error: 'must be a number of days' })
    .positive('must be positive')
    .max(365, 'must be at most 365')
    .default(30),
  PUBLIC_URL: z.url({ error: 'must be a URL such as https://exhibit.example.org' }).optional(),
  SMTP_URL: z
    .url({ error: 'must be a URL such as smtp://user:password@mail.example.org:587' })
    .refine(
      (url) => !URL.canParse(url) || /^smtps?:$/.test(new URL(url).protocol),
      'must start with smtp:// (STARTTLS when offered) or smtps:// (TLS from the start)',
    )
    .optional(),
  MAIL_FROM: z
    .string()
    .trim()
    .regex(
      /^(?:[^<>@\r\n]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/,
      'must be an address, optionally with a name: Exhibit <exhibit@example.org>',
    )
    .default('Exhibit <exhibit@localhost>'),
  TRUST_PROXY: z.string().min(1).optional(),
  SYNC_SERVICE_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  OIDC_ISSUER: z
    .url({ error: 'must be a URL such as https://login.example.org/realms/staff' })
    .refine(secureOrLoopback, 'must be https (http is allowed only for 127.0.0.1 or localhost)')
    .optional(),
  OIDC_CLIENT_ID: z.string().min(1, 'must not be empty').optional(),
  OIDC_CLIENT_SECRET: z.string().min(1, 'must not be empty').optional(),
  OIDC_LABEL: z.string().trim().min(1, 'must not be empty').default('Sign in with single sign-on'),
  OIDC_ROLE_CLAIM: z.string().trim().min(1, 'must not be empty').default('roles'),
  OIDC_ROLE_MAP: z
    .string()
    .default('')
    .superRefine((value, ctx) => {
      const problem = roleMapProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  OIDC_DEFAULT_ROLE: z
    .enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` })
    .default('guest'),
});

export type BlobStoreChoice =
  | { kind: 'fs'; dir: string }
  | {
      kind: 's3';
      endPoint: string;
      accessKey: string;
      secretKey: string;
      bucket: string;
      region: string;
      objectLock?: 'GOVERNANCE' | 'COMPLIANCE';
    };

export interface BlobConfig {
  port: number;
  host: string | undefined;
  dataDir: string;
  logLevel: 'info' | 'warn' | 'error' | 'silent';
  webRoot: string;
  maxUploadBytes: number;
  /** Resumable uploads: the largest file, and how long an unfinished one is kept. */
  uploads: {
    maxFileBytes: number;
    expiryMs: number;
    corsOrigins: string[];
    /** How long originals stay write-once where the store can (S3 Object Lock). */
    retentionDays: number;
  };
  /** Retention policies and the recycle bin (see blob-server/retention). */
  retention: {
    /** Retention of evidence without a category; null keeps it indefinitely. */
    defaultRetentionDays: number | null;
    /** How long deleted evidence stays restorable before it is purged. */
    recycleBinDays: number;
  };
  /** S3 when S3_ENDPOINT is set, else files under DATA_DIR/blobs. */
  store: BlobStoreChoice;
  accessTokenTtlSeconds: number;
  sessionTtlMs: number;
  /** How users reach this server; used in links the server prints. */
  publicUrl: string | undefined;
  /** Express "trust proxy": 'true', a hop count, or a list of proxy addresses. */
  trustProxy: string | boolean;
  /** Notification mail; set when SMTP_URL is, else no mail is sent. */
  mail: MailSettings | undefined;
  /** Enables the internal routes a separately run sync-server calls. */
  syncServiceToken: string | undefined;
  /** Single sign-on with an OpenID Connect provider; set when OIDC_ISSUER is. */
  oidc: OidcConfig | undefined;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Absent for a public client, which proves itself with PKCE alone. */
  clientSecret: string | undefined;
  /** `${PUBLIC_URL}/api/auth/oidc/callback`, as registered at the provider. */
  redirectUri: string;
  label: string;
  /** The ID token claim (a dotted path for nested ones) naming the person's groups or roles. */
  roleClaim: string;
  /** Claim value to Exhibit role; the most powerful match wins. */
  roleMap: ReadonlyMap<string, Role>;
  /** The role of someone none of whose claim values is mapped. */
  defaultRole: Role;
}

export function readBlobConfig(env: NodeJS.ProcessEnv = process.env): BlobConfig {
  const raw = parseEnv(blobSchema, env);
  return {
    port: raw.PORT,
    host: raw.HOST,
    dataDir: raw.DATA_DIR,
    logLevel: raw.LOG_LEVEL,
    webRoot: raw.WEB_ROOT,
    maxUploadBytes: raw.MAX_UPLOAD_BYTES,
    uploads: {
      maxFileBytes: raw.MAX_FILE_BYTES,
      expiryMs: raw.UPLOAD_EXPIRY_HOURS * 60 * 60 * 1000,
      corsOrigins: raw.UPLOAD_CORS_ORIGINS,
      retentionDays: raw.EVIDENCE_RETENTION_DAYS,
    },
    retention: {
      defaultRetentionDays: raw.DEFAULT_RETENTION_DAYS,
      recycleBinDays: raw.RECYCLE_BIN_DAYS,
    },
    store: storeChoice(raw),
    accessTokenTtlSeconds: raw.ACCESS_TOKEN_TTL_SECONDS,
    sessionTtlMs: raw.SESSION_TTL_DAYS * 24 * 60 * 60 * 1000,
    publicUrl: raw.PUBLIC_URL,
    trustProxy: raw.TRUST_PROXY === 'true' ? true : (raw.TRUST_PROXY ?? false),
    mail: raw.SMTP_URL
      ? {
          smtpUrl: raw.SMTP_URL,
          from: raw.MAIL_FROM,
          publicUrl: raw.PUBLIC_URL ?? `http://localhost:${raw.PORT}`,
        }
      : undefined,
    syncServiceToken: raw.SYNC_SERVICE_TOKEN,
    oidc: oidcConfig(raw),
  };
}

function oidcConfig(raw: z.infer<typeof blobSchema>): OidcConfig | undefined {
  if (!raw.OIDC_ISSUER) return undefined;
  const missing = (['OIDC_CLIENT_ID', 'PUBLIC_URL'] as const).filter((k) => !raw[k]);
  if (missing.length > 0) {
    throw new ConfigError(
      `invalid configuration: single sign-on (OIDC_ISSUER) also needs ${missing.join(', ')}`,
    );
  }
  return {
    issuer: raw.OIDC_ISSUER,
    clientId: raw.OIDC_CLIENT_ID as string,
    clientSecret: raw.OIDC_CLIENT_SECRET,
    redirectUri: new URL('api/auth/oidc/callback', withSlash(raw.PUBLIC_URL as string)).href,
    label: raw.OIDC_LABEL,
    roleClaim: raw.OIDC_ROLE_CLAIM,
    roleMap: parseRoleMap(raw.OIDC_ROLE_MAP),
    defaultRole: raw.OIDC_DEFAULT_ROLE,
  };
}

/** True for https URLs, and for http ones on the loopback interface (a provider run for tests). */
export function secureOrLoopback(url: string): boolean {
  if (!URL.canParse(url)) return true; // reported as "must be a URL"
  const { protocol, hostname } = new URL(url);
  return protocol === 'https:' || (protocol === 'http:' && isLoopback(hostname));
}

export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** `group=role,group=role`; a claim value may contain anything but `,` and `=`. */
function roleMapEntries(value: string): [string, string][] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const at = entry.lastIndexOf('=');
      return at < 0 ? [entry, ''] : [entry.slice(0, at).trim(), entry.slice(at + 1).trim()];
    });
}

function roleMapProblem(value: string): string | undefined {
  for (const [claim, role] of roleMapEntries(value)) {
    if (!claim || !role) return `"${claim || role}" must be written claim-value=role`;
    if (!isRole(role)) return `"${role}" is not a role; use one of ${ROLES.join(', ')}`;
  }
  return undefined;
}

function parseRoleMap(value: string): Map<string, Role> {
  return new Map(roleMapEntries(value).filter((e): e is [string, Role] => isRole(e[1])));
}

function storeChoice(raw: z.infer<typeof blobSchema>): BlobStoreChoice {
  const anyS3 = raw.S3_ENDPOINT ?? raw.S3_ACCESS_KEY ?? raw.S3_SECRET_KEY;
  if (!anyS3) {
    if (raw.S3_OBJECT_LOCK !== 'off') {
      throw new ConfigError(
        'invalid configuration: S3_OBJECT_LOCK needs S3 storage (S3_ENDPOINT); the filesystem store cannot make files write-once',
      );
    }
    return { kind: 'fs', dir: `${raw.DATA_DIR}/blobs` };
  }
  const missing = (['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const).filter(
    (k) => !raw[k],
  );
  if (missing.length > 0) {
    throw new ConfigError(`invalid configuration: S3 storage also needs ${missing.join(', ')}`);
  }
  return {
    kind: 's3',
    endPoint: raw.S3_ENDPOINT as string,
    accessKey: raw.S3_ACCESS_KEY as string,
    secretKey: raw.S3_SECRET_KEY as string,
    bucket: raw.S3_BUCKET,
    region: raw.S3_REGION,
    ...(raw.S3_OBJECT_LOCK !== 'off'
      ? { objectLock: raw.S3_OBJECT_LOCK === 'governance' ? 'GOVERNANCE' : 'COMPLIANCE' }
      : {}),
  };
}
