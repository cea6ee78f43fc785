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
import { CaseActivity } from '../custody/case-activity.ts';
import { FileRequests } from '../requests/file-requests.ts';
import { Notifications } from '../notifications/notifications.ts';
import { Departments } from '../departments/departments.ts';
import { smtpMailer, type MailSettings } from '../notifications/mailer.ts';
import { createLogger, type Logger } from '../../sync-server/logger.ts';

export interface Identity {
  service: AuthService;
  cases: CaseAccessService;
  /** Links for people without accounts (file requests, camera owners) build on these. */
  links: CapabilityLinks;
  audit: AuditLog;
  /** Devices' keys and signed custody logs, and the custody reports built from the trail. */
  custody: { devices: DeviceCustody; reports: CustodyReports; activity: CaseActivity };
  /** Public file requests and their submissions. */
  fileRequests: FileRequests;
  /** In-app notifications, mailed too where SMTP is configured. */
  notifications: Notifications;
  /** The departments cases belong to, kept by administrators. */
  departments: Departments;
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
  /** Notification mail (SMTP_URL); without it notifications stay in the app. */
  mail?: MailSettings | undefined;
  log?: Logger;
  /** The largest file the server takes (MAX_FILE_BYTES), for what public pages say. */
  maxFileBytes?: number;
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
  const fileRequests = new FileRequests({
    db: store.database,
    audit,
    cases,
    identity: store,
    maxFileBytes: options.maxFileBytes ?? 5 * 1024 ** 4,
  });
  const notifications = new Notifications({
    db: store.database,
    users: store,
    caseMembers: cases.records,
    log: options.log ?? createLogger('notifications'),
    ...(options.mail ? { mailer: smtpMailer(options.mail) } : {}),
  });
  return {
    service,
    cases,
    links,
    audit,
    custody: { devices, reports, activity: new CaseActivity({ audit, cases, identity: store }) },
    fileRequests,
    notifications,
    departments: new Departments({ db: store.database, audit }),
    async close() {
      await notifications.close();
      cases.close();
      await store.close();
      await audit.close();
    },
  };
}
