// Runs the sync-server on its own: `node --import tsx sync-server/bin/sync-server.ts`.
import { readSyncConfig } from '../config.ts';
import { ConfigError, ensureWritableDir } from '../data-dir.ts';
import { apiSyncAuth } from '../http-auth.ts';
import { createLogger } from '../logger.ts';
import { createSyncServer } from '../server.ts';
import { runUntilSignal } from '../process.ts';

await runUntilSignal('sync-server', async () => {
  const config = readSyncConfig();
  if (!config.API_URL || !config.SYNC_SERVICE_TOKEN) {
    throw new ConfigError(
      'invalid configuration: API_URL and SYNC_SERVICE_TOKEN are required: the blob/API server that checks sign-ins, and the secret it shares with this server',
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
    auth: apiSyncAuth(config.API_URL, config.SYNC_SERVICE_TOKEN),
  });
  log.info('sync.listening', { port: server.port, dataDir });
  return server;
});
