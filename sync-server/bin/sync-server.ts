// Runs the sync-server on its own: `node --import tsx sync-server/bin/sync-server.ts`.
import { readSyncConfig } from '../config.ts';
import { ensureWritableDir } from '../data-dir.ts';
import { createLogger } from '../logger.ts';
import { createSyncServer } from '../server.ts';
import { runUntilSignal } from '../process.ts';

await runUntilSignal('sync-server', async () => {
  const config = readSyncConfig();
  const log = createLogger('sync-server', config.LOG_LEVEL);
  const dataDir = await ensureWritableDir(config.DATA_DIR, 'DATA_DIR');
  const server = await createSyncServer({
    dataDir,
    port: config.PORT,
    host: config.HOST,
    maxMessageBytes: config.SYNC_MAX_MESSAGE_BYTES,
    log,
  });
  log.info('sync.listening', { port: server.port, dataDir });
  return server;
});
