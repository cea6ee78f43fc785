// Runs the sync-server on its own: `node --import tsx sync-server/bin/sync-server.ts`.
import { readSyncConfig } from '../config.ts';
import { ConfigError, ensureWritableDir } from '../data-dir.ts';
import { apiSyncAuth } from '../http-auth.ts';
import { createLogger } from '../logger.ts';
import { createSyncServer } from '../server.ts';
import { runUntilSignal } from '../process.ts';

await runUntilSignal('sync-server', async () => {
  const config = readSyncConfig();
  if (!config.API_URL) {
    throw new ConfigError(
      'invalid configuration: API_URL is required: the address of the blob/API server that checks sign-ins',
    );
  }
  const log = createLogger('sync-server', config.LOG_LEVEL);
  const dataDir = await ensureWritableDir(config.DATA_DIR, 'DATA_DIR');
  const server = await createSyncServer({
    dataDir,
    port: config.PORT,
    host: config.HOST,
    maxMessageBytes: config.SYNC_MAX_MESSAGE_BYTES,
    log,
    auth: apiSyncAuth(config.API_URL),
  });
  log.info('sync.listening', { port: server.port, dataDir });
  return server;
});
