// Runs the blob/API server on its own (no PWA, no sync): `node --import tsx blob-server/bin/blob-server.ts`.
import { readBlobConfig } from '../config.ts';
import { createBlobServer } from '../server.ts';
import { createBlobStore } from '../storage/index.ts';
import { openIdentity } from '../identity/index.ts';
import { identityServerOptions } from '../identity/server-options.ts';
import { announceSetup } from '../identity/setup-link.ts';
import { identitySyncAuth } from '../identity/sync-auth.ts';
import { ensureWritableDir } from '../../sync-server/data-dir.ts';
import { createLogger } from '../../sync-server/logger.ts';
import { runUntilSignal } from '../../sync-server/process.ts';

await runUntilSignal('blob-server', async () => {
  const config = readBlobConfig();
  const log = createLogger('blob-server', config.logLevel);
  if (config.store.kind === 'fs') await ensureWritableDir(config.store.dir, 'DATA_DIR');
  const store = await createBlobStore(config.store);
  const storage = await store.health();
  if (!storage.ok) log.warn('storage.unavailable', { detail: storage.detail, retrying: true });
  const dataDir = await ensureWritableDir(config.dataDir, 'DATA_DIR');
  const identity = await openIdentity({
    dataDir,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    sessionTtlMs: config.sessionTtlMs,
    mail: config.mail,
    log,
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const server = await createBlobServer({
    store,
    maxUploadBytes: config.maxUploadBytes,
    port: config.port,
    host: config.host,
    log,
    ...identityServerOptions(config, identity),
    ...(config.syncServiceToken
      ? {
          syncService: {
            auth: identitySyncAuth(identity.service, identity.cases, identity.audit),
            serviceToken: config.syncServiceToken,
          },
        }
      : {}),
  }).catch(async (err: unknown) => {
    await identity.close();
    await store.close();
    throw err;
  });
  await announceSetup(identity.service, config.publicUrl ?? `http://localhost:${server.port}`, log);
  log.info('blob.listening', { port: server.port, storage: config.store.kind });
  return {
    async close() {
      await server.close();
      await identity.close();
      await store.close();
    },
  };
});
