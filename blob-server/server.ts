import http from 'node:http';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { BlobStore } from './storage/blob-store.ts';
import { blobRoutes } from './routes/blobs.ts';
import { authRoutes } from './routes/auth.ts';
import { oidcRoutes } from './routes/oidc.ts';
import { syncInternalRoutes } from './routes/sync-internal.ts';
import { caseRoutes } from './routes/cases.ts';
import { auditRoutes } from './routes/audit.ts';
import { retentionRoutes } from './routes/retention.ts';
import { RetentionService } from './retention/retention-service.ts';
import { custodyRoutes, deviceRoutes } from './routes/devices.ts';
import type { DeviceCustody } from './custody/device-custody.ts';
import type { CustodyReports } from './custody/custody-report.ts';
import type { CaseActivity } from './custody/case-activity.ts';
import type { SyncAuth } from '../sync-server/auth.ts';
import type { AuthService } from './identity/auth-service.ts';
import type { CaseAccessService } from './identity/case-access.ts';
import type { SingleSignOn } from './identity/oidc.ts';
import type { Notifications } from './notifications/notifications.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { departmentRoutes } from './routes/departments.ts';
import type { Departments } from './departments/departments.ts';
import { mentionRoutes } from './routes/mentions.ts';
import { ExhibitError, RouteNotFound, TooManyAttempts, httpStatusOf } from './errors.ts';
import { createLogger, type Logger } from '../sync-server/logger.ts';
import type { AuditLog } from './audit/audit-log.ts';
import { EvidenceRefs } from './uploads/evidence-refs.ts';
import { recordVerifiedUpload } from './uploads/case-evidence.ts';
import { encodeDocName } from '../web/lib/shared/doc-names.ts';
import type * as Y from 'yjs';
import { accountGate, tusRoutes } from './uploads/tus-routes.ts';
import type { FileRequests } from './requests/file-requests.ts';
import {
  fileRequestRoutes,
  publicRequestRoutes,
  type PublicLimits,
} from './routes/file-requests.ts';
import { UploadService } from './uploads/upload-service.ts';
import type { UploadRecord } from './uploads/upload-record.ts';

const DEFAULT_MAX_FILE_BYTES = 5 * 1024 ** 4;
const DEFAULT_UPLOAD_EXPIRY_MS = 24 * 60 * 60 * 1000;
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
const DEFAULT_RECYCLE_BIN_DAYS = 30;
import { listen } from '../sync-server/server.ts';
import type { SyncHealth } from '../sync-server/server.ts';

export interface BlobServerOptions {
  store: BlobStore;
  /** Largest body a single PUT may carry. */
  maxUploadBytes: number;
  /** The built PWA; when set, it is served with an SPA fallback to index.html. */
  webRoot?: string;
  port?: number;
  host?: string;
  log?: Logger;
  /** Accounts and sessions: every route but health and the app shell needs a signed-in caller. */
  auth: { service: AuthService; cases: CaseAccessService; refreshTtlMs: number };
  /** Sign-in through an OpenID Connect provider, when one is configured. */
  sso?: SingleSignOn;
  /** Routes a separately run sync-server calls, guarded by the shared service token. */
  syncService?: { auth: SyncAuth; serviceToken: string };
  /** Express's "trust proxy": which proxies may tell us the client's address. */
  trustProxy?: string | boolean;
  /** The sync-server's health, when it runs in this process. */
  syncHealth?: () => SyncHealth | undefined;
  /** Where evidence events are recorded. */
  audit?: AuditLog;
  /** Device keys, their signed custody logs, and per-item custody reports. */
  custody?: { devices: DeviceCustody; reports: CustodyReports; activity?: CaseActivity };
  /** Public file requests: their investigators' routes, the public routes and upload endpoint. */
  fileRequests?: { requests: FileRequests; limits?: Partial<PublicLimits> };
  /** In-app (and mailed) notifications: `/api/notifications`, and news of verified uploads. */
  notifications?: Notifications;
  /** Departments (`/api/admin/departments`), kept by administrators. */
  departments?: Departments;
  /** Mention requests one person may send per window (`POST /api/cases/:id/mentions`). */
  mentionLimit?: { limit: number; windowMs: number };
  /**
   * The case documents, when the sync-server runs in this process: verified uploads are written
   * into their case by the server itself. Without it the uploading client records them.
   */
  caseDocuments?: { change(name: string, edit: (doc: Y.Doc) => void): Promise<void> };
  /** Retention policies and the recycle bin; without it, uncategorised evidence is kept indefinitely. */
  retention?: {
    /** Retention of evidence without a category; null keeps it indefinitely. */
    defaultRetentionDays: number | null;
    recycleBinDays: number;
    /** How often the recycle bin is checked for evidence due to be purged. */
    sweepIntervalMs?: number;
    now?: () => Date;
  };
  /** Resumable uploads (tus at /api/uploads). */
  uploads?: {
    maxFileBytes: number;
    expiryMs: number;
    sweepIntervalMs?: number;
    /** Other web origins allowed to upload with tus from a browser (CORS). */
    corsOrigins?: readonly string[];
    /** Originals are locked this long where the store can (S3 Object Lock). */
    retentionDays?: number;
  };
}

export interface BlobServer {
  readonly httpServer: http.Server;
  readonly uploads: UploadService;
  readonly retention: RetentionService;
  readonly port: number;
  close(): Promise<void>;
}

export async function createBlobServer(options: BlobServerOptions): Promise<BlobServer> {
  const log = options.log ?? createLogger('blob-server');
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // The app's own CSP is a meta tag in the page; framing can only be refused by a header.
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  });

  app.get('/api/health', async (_req, res) => {
    const storage = await options.store.health();
    const sync = options.syncHealth?.();
    const ok = storage.ok && (sync?.ok ?? true);
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'degraded',
      storage: { backend: options.store.kind, protection: options.store.protection, ...storage },
      sync: sync ?? { ok: true, detail: 'runs as a separate service' },
    });
  });
  const refs = new EvidenceRefs(options.store);
  const retention = new RetentionService({
    cases: options.auth.cases,
    store: options.store,
    refs,
    log,
    defaultRetentionDays: options.retention?.defaultRetentionDays ?? null,
    recycleBinDays: options.retention?.recycleBinDays ?? DEFAULT_RECYCLE_BIN_DAYS,
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.caseDocuments ? { caseDocuments: options.caseDocuments } : {}),
    ...(options.retention?.now ? { now: options.retention.now } : {}),
  });
  /**
   * Tells the case's other members about evidence a signed-in user added. Uploads through a
   * file request (`submission:` owners) are announced by `announceSubmission` below.
   */
  const notifyEvidenceAdded = async (upload: UploadRecord) => {
    if (!options.notifications || !upload.owner.startsWith('user:')) return;
    const who = upload.ownerName ?? 'A colleague';
    await options.notifications
      .notifyCase(upload.caseId, {
        kind: 'evidence.added',
        title: `New evidence: ${upload.filename ?? 'a file'}`,
        body: `${who} added ${upload.filename ?? 'a file'} to a case you work on.`,
        link: `/cases/${upload.caseId}`,
        actorId: upload.owner.slice('user:'.length),
      })
      .catch((err: unknown) => {
        log.warn('notification.failed', { upload: upload.id, error: String(err) });
      });
  };
  /** News for the case of a file from the public, arrived whole. */
  const announceSubmission = async (
    upload: UploadRecord,
    received: Awaited<ReturnType<FileRequests['fileVerified']>>,
  ) => {
    if (!received || !options.notifications) return;
    const { request, submission } = received;
    const from = submission.contact.name ?? submission.contact.email ?? 'an anonymous sender';
    await options.notifications
      .notifyCase(upload.caseId, {
        kind: 'request.file_received',
        title: `Public submission: ${upload.filename ?? 'a file'}`,
        body: `${submission.reference}, from ${from}, through the request “${request.title}”.`,
        link: `/cases/${upload.caseId}`,
      })
      .catch((err: unknown) => {
        log.warn('notification.failed', { upload: upload.id, error: String(err) });
      });
  };
  const uploads = new UploadService({
    store: options.store,
    refs,
    log,
    maxLength: options.uploads?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    expiryMs: options.uploads?.expiryMs ?? DEFAULT_UPLOAD_EXPIRY_MS,
    ...(options.uploads?.retentionDays !== undefined
      ? { retentionDays: options.uploads.retentionDays }
      : {}),
    onVerified: async (upload) => {
      await options.auth.cases.addEvidence(upload.caseId, upload.sha256!, {
        evidenceId: upload.evidenceId ?? upload.id,
        addedAt: new Date().toISOString(),
        addedBy: upload.owner.replace(/^user:/, ''),
      });
      await retention.evidenceStored(upload.caseId, upload.sha256!);
      // A file from the public goes on its sender's receipt first, so the case can name it.
      const received = upload.owner.startsWith('submission:')
        ? await options.fileRequests?.requests.fileVerified(upload)
        : undefined;
      const name = encodeDocName({ kind: 'case', id: upload.caseId });
      const submission = received
        ? { request: received.request.id, reference: received.submission.reference }
        : undefined;
      await options.caseDocuments
        ?.change(name, (doc) =>
          recordVerifiedUpload(doc, upload, new Date().toISOString(), submission),
        )
        .catch((err: unknown) => {
          // The file is stored and verified; the uploading client still records it itself.
          log.warn('upload.case_record_failed', { id: upload.id, error: String(err) });
        });
      await options.audit?.record({
        action: 'evidence.stored',
        actor: actorOfOwner(upload.owner),
        target: `case:${upload.caseId}`,
        details: {
          sha256: upload.sha256,
          clientSha256: upload.clientSha256,
          size: upload.length,
          filename: upload.filename,
          evidenceId: upload.evidenceId,
          upload: upload.id,
        },
      });
      await notifyEvidenceAdded(upload);
      await announceSubmission(upload, received);
    },
    onRejected: async (upload) => {
      await options.fileRequests?.requests.fileDropped(upload, upload.failure ?? 'refused');
      await options.audit?.record({
        action: 'evidence.rejected',
        actor: actorOfOwner(upload.owner),
        target: `case:${upload.caseId}`,
        details: {
          reason: upload.failure,
          sha256: upload.sha256,
          clientSha256: upload.clientSha256,
          upload: upload.id,
        },
      });
    },
  });
  app.use(
    '/api/uploads',
    tusRoutes({
      uploads,
      gate: accountGate(options.auth.service, options.auth.cases),
      corsOrigins: options.uploads?.corsOrigins ?? [],
      ...(options.audit ? { audit: options.audit } : {}),
    }),
  );
  app.use(
    '/api/blobs',
    blobRoutes({
      refs,
      ...(options.audit ? { audit: options.audit } : {}),
      store: options.store,
      maxUploadBytes: options.maxUploadBytes,
      log,
      auth: options.auth.service,
      cases: options.auth.cases,
    }),
  );
  if (options.audit) {
    app.use('/api/admin/audit', auditRoutes({ auth: options.auth.service, audit: options.audit }));
  }
  if (options.custody) {
    app.use(
      '/api/devices',
      deviceRoutes({ auth: options.auth.service, devices: options.custody.devices }),
    );
    app.use(
      '/api/cases',
      custodyRoutes({
        auth: options.auth.service,
        reports: options.custody.reports,
        ...(options.custody.activity ? { activity: options.custody.activity } : {}),
      }),
    );
  }
  if (options.fileRequests) {
    app.use(
      '/api/cases',
      fileRequestRoutes({ auth: options.auth.service, requests: options.fileRequests.requests }),
    );
    app.use(
      '/api/public',
      publicRequestRoutes({
        requests: options.fileRequests.requests,
        uploads,
        ...(options.audit ? { audit: options.audit } : {}),
        ...(options.fileRequests.limits ? { limits: options.fileRequests.limits } : {}),
      }),
    );
  }
  app.use('/api/cases', caseRoutes({ auth: options.auth.service, cases: options.auth.cases }));
  if (options.departments) {
    app.use(
      '/api/admin/departments',
      departmentRoutes({ auth: options.auth.service, departments: options.departments }),
    );
  }
  if (options.notifications) {
    app.use(
      '/api/notifications',
      notificationRoutes({ auth: options.auth.service, notifications: options.notifications }),
    );
    app.use(
      '/api/cases',
      mentionRoutes({
        auth: options.auth.service,
        cases: options.auth.cases,
        notifications: options.notifications,
        ...(options.audit ? { audit: options.audit } : {}),
        ...(options.mentionLimit ? { limit: options.mentionLimit } : {}),
      }),
    );
  }
  const retentionApi = retentionRoutes({ auth: options.auth.service, retention });
  app.use('/api/cases', retentionApi.cases);
  app.use('/api/admin/categories', retentionApi.categories);
  if (options.syncService) {
    app.use('/api/internal/sync', syncInternalRoutes(options.syncService));
  }
  app.use(
    '/api/auth/oidc',
    oidcRoutes({ sso: options.sso, refreshTtlMs: options.auth.refreshTtlMs }),
  );
  app.use(
    '/api',
    authRoutes({ auth: options.auth.service, refreshTtlMs: options.auth.refreshTtlMs }),
  );
  app.use('/api', (req) => {
    throw new RouteNotFound(`no API route ${req.method} ${req.originalUrl}`);
  });

  if (options.webRoot) mountPwa(app, resolve(options.webRoot));

  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = httpStatusOf(err);
    // A refused upload may still be arriving; do not keep reading it to reuse the connection.
    if (!req.complete) res.setHeader('Connection', 'close');
    if (err instanceof TooManyAttempts) res.setHeader('Retry-After', String(err.retryAfterSeconds));
    // RFC 6750: tell a client that a bearer token is what is missing or wrong.
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="exhibit"');
    const code =
      err instanceof ExhibitError
        ? err.code
        : status === 413
          ? 'payload_too_large'
          : status >= 500
            ? 'internal_error'
            : 'bad_request';
    const message =
      status >= 500 && !(err instanceof ExhibitError)
        ? 'the server failed to handle the request; it has been logged'
        : (bodyParserMessage(err) ?? (err as Error).message);
    if (status >= 500)
      log.error('http.failed', { method: req.method, url: req.originalUrl, error: String(err) });
    res.status(status).json({ error: code, message });
  });

  const httpServer = http.createServer(app);
  // A chunk of a large file may take longer than Node's default five minutes to arrive on a bad
  // line; dead clients are caught by the upload routes' own idle timeout instead.
  httpServer.requestTimeout = 0;
  await listen(httpServer, options.port ?? 0, options.host);
  const address = httpServer.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);

  // Expired uploads are removed and stuck ones finished: at start (after a crash) and then
  // periodically. A failing sweep (storage down) is only logged; the next one tries again.
  const sweep = () =>
    void uploads.sweep().catch((err: unknown) => {
      log.warn('upload.sweep_failed', { error: String(err) });
    });
  sweep();
  const sweeper = setInterval(sweep, options.uploads?.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
  sweeper.unref();
  // The recycle bin is purged the same way: due items at start, then periodically.
  const purge = () =>
    void retention.sweep().catch((err: unknown) => {
      log.warn('retention.sweep_failed', { error: String(err) });
    });
  purge();
  const purger = setInterval(purge, options.retention?.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
  purger.unref();

  return {
    httpServer,
    port,
    uploads,
    retention,
    async close() {
      clearInterval(sweeper);
      clearInterval(purger);
      await new Promise<void>((done) => {
        httpServer.close(() => done());
        httpServer.closeIdleConnections();
      });
    },
  };
}

/**
 * The PWA shell: hashed assets cached for a year, everything else revalidated so a new release
 * reaches users, and unknown paths answered with index.html for the client router.
 */
function mountPwa(app: express.Express, root: string): void {
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    throw new Error(`WEB_ROOT=${root} has no index.html; run "npm run build" first`);
  }
  // The app shell compressed (about a third of its size): the public upload page is opened on
  // phones over slow connections. Only here: evidence and uploads are never touched.
  app.use(compression());
  app.use(
    express.static(root, {
      index: false,
      setHeaders(res, path) {
        const immutable = path.includes(`${join(root, '_app', 'immutable')}`);
        res.setHeader(
          'Cache-Control',
          immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }),
  );
  app.get(/^\/(?!api\/|sync\/).*/, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
    res.sendFile(index);
  });
}

/** Who an upload's owner is, for the audit trail: a user, or a public sender (no account). */
function actorOfOwner(owner: string): { userId?: string } {
  return owner.startsWith('user:') ? { userId: owner.slice('user:'.length) } : {};
}

/** express.json's errors, in words for the caller. */
function bodyParserMessage(err: unknown): string | undefined {
  const type = (err as { type?: unknown }).type;
  if (type === 'entity.too.large') {
    return `the request body is larger than the ${String((err as { limit?: unknown }).limit)} bytes this route accepts`;
  }
  if (type === 'entity.parse.failed') return 'the request body is not valid JSON';
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return 'the request body must be UTF-8 JSON';
  }
  return undefined;
}
