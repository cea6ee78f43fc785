// The whole system in one process: the PWA, the blob/API server and the sync endpoint on PORT.
// `npm start` builds the PWA and runs this; `node --import tsx blob-server/bin/exhibit.ts` runs it alone.
import { join } from 'node:path';
import { readBlobConfig } from '../config.ts';
import { createBlobServer } from '../server.ts';
import { createBlobStore } from '../storage/index.ts';
import { openIdentity } from '../identity/index.ts';
import { identityServerOptions } from '../identity/server-options.ts';
import { announceSetup } from '../identity/setup-link.ts';
import { identitySyncAuth } from '../identity/sync-auth.ts';
import { readSyncConfig } from '../../sync-server/config.ts';
import { ensureWritableDir } from '../../sync-server/data-dir.ts';
import { createLogger } from '../../sync-server/logger.ts';
import { createSyncServer, type SyncServer } from '../../sync-server/server.ts';
import { runUntilSignal } from '../../sync-server/process.ts';

await runUntilSignal('exhibit', async () => {
  const config = readBlobConfig();
  const syncConfig = readSyncConfig({ ...process.env, PORT: String(config.port) });
  const log = createLogger('exhibit', config.logLevel);
  const dataDir = await ensureWritableDir(config.dataDir, 'DATA_DIR');
  const store = await createBlobStore(
    config.store.kind === 'fs' ? { kind: 'fs', dir: join(dataDir, 'blobs') } : config.store,
  );
  const storage = await store.health();
  if (!storage.ok) log.warn('storage.unavailable', { detail: storage.detail, retrying: true });
  const identity = await openIdentity({
    dataDir,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    sessionTtlMs: config.sessionTtlMs,
    mail: config.mail,
    log,
    maxFileBytes: config.uploads.maxFileBytes,
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  // Created after the HTTP server it attaches to; health reads it through this holder.
  const holder: { sync?: SyncServer } = {};
  const blob = await createBlobServer({
    store,
    maxUploadBytes: config.maxUploadBytes,
    webRoot: config.webRoot,
    port: config.port,
    host: config.host,
    log,
    ...identityServerOptions(config, identity),
    syncHealth: () => holder.sync?.health(),
    caseDocuments: {
      change: async (name, edit) => {
        if (!holder.sync) throw new Error('the sync-server is not running yet');
        await holder.sync.change(name, edit);
      },
    },
  }).catch(async (err: unknown) => {
    await identity.close();
    await store.close();
    throw err;
  });
  const sync = await createSyncServer({
    dataDir,
    server: blob.httpServer,
    maxMessageBytes: syncConfig.SYNC_MAX_MESSAGE_BYTES,
    log,
    auth: identitySyncAuth(identity.service, identity.cases, identity.audit, {
      notifications: identity.notifications,
    }),
  });
  log.info('exhibit.listening', {
    url: `http://${config.host ?? 'localhost'}:${blob.port}/`,
    dataDir,
    storage: config.store.kind,
    singleSignOn: config.oidc?.issuer ?? 'off',
  });
  holder.sync = sync;
  await announceSetup(identity.service, config.publicUrl ?? `http://localhost:${blob.port}`, log);
  return {
    async close() {
      await sync.close();
      await blob.close();
      await identity.close();
      await store.close();
    },
  };
});
