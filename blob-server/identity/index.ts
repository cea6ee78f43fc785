import { join } from 'node:path';
import { AuditLog } from '../audit/audit-log.ts';
import { AuthService } from './auth-service.ts';
import { IdentityStore } from './identity-store.ts';
import { LoginThrottle } from './login-throttle.ts';
import { TokenService } from './tokens.ts';
import { CaseAccessService } from './case-access.ts';
import { CaseAccessStore } from './case-access-store.ts';
import { CapabilityLinks } from './capability-links.ts';
import { DeviceCustody } from '../custody/device-custody.ts';
import { CustodyReports } from '../custody/custody-report.ts';

export interface Identity {
  service: AuthService;
  cases: CaseAccessService;
  /** Links for people without accounts (file requests, camera owners) build on these. */
  links: CapabilityLinks;
  audit: AuditLog;
  /** Devices' keys and signed custody logs, and the custody reports built from the trail. */
  custody: { devices: DeviceCustody; reports: CustodyReports };
  close(): Promise<void>;
}

/**
 * Opens everything sign-in needs under the data directory: accounts and sessions
 * (`identity/`), the token signing key (`keys/`) and the audit record (`audit/`).
 */
export async function openIdentity(options: {
  dataDir: string;
  accessTokenTtlSeconds: number;
  sessionTtlMs: number;
}): Promise<Identity> {
  const tokens = await TokenService.open({
    keyDir: join(options.dataDir, 'keys'),
    issuer: 'exhibit',
    audience: 'exhibit',
    ttlSeconds: options.accessTokenTtlSeconds,
  });
  const store = await IdentityStore.open(join(options.dataDir, 'identity'));
  const audit = await AuditLog.open(join(options.dataDir, 'audit'), {
    keyDir: join(options.dataDir, 'keys'),
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const service = new AuthService({
    store,
    tokens,
    audit,
    throttle: new LoginThrottle(),
    refreshTtlMs: options.sessionTtlMs,
  });
  const cases = new CaseAccessService({
    store: new CaseAccessStore(store.database),
    identity: store,
    audit,
  });
  const links = new CapabilityLinks(store.database, audit);
  const devices = new DeviceCustody({ db: store.database, audit, cases });
  const reports = new CustodyReports({ audit, devices, cases, identity: store });
  return {
    service,
    cases,
    links,
    audit,
    custody: { devices, reports },
    async close() {
      cases.close();
      await store.close();
      await audit.close();
    },
  };
}
