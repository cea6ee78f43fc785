import type { BlobConfig } from '../config.ts';
import type { BlobServerOptions } from '../server.ts';
import type { Identity } from './index.ts';
import { SingleSignOn } from './oidc.ts';

/** The sign-in and access parts of the blob server's options, the same for every entry script. */
export function identityServerOptions(
  config: BlobConfig,
  identity: Identity,
): Pick<
  BlobServerOptions,
  | 'auth'
  | 'sso'
  | 'trustProxy'
  | 'audit'
  | 'uploads'
  | 'custody'
  | 'retention'
  | 'notifications'
  | 'departments'
  | 'fileRequests'
> {
  return {
    audit: identity.audit,
    custody: identity.custody,
    notifications: identity.notifications,
    departments: identity.departments,
    fileRequests: { requests: identity.fileRequests },
    uploads: config.uploads,
    retention: config.retention,
    auth: {
      service: identity.service,
      cases: identity.cases,
      refreshTtlMs: config.sessionTtlMs,
    },
    ...(config.oidc
      ? {
          sso: new SingleSignOn({
            config: config.oidc,
            auth: identity.service,
            audit: identity.audit,
          }),
        }
      : {}),
    trustProxy: config.trustProxy,
  };
}
