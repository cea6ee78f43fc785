import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createBlobServer,
  type BlobServer,
  type BlobServerOptions,
} from '../../blob-server/server.ts';
import { createFsStore } from '../../blob-server/storage/fs-store.ts';
import type { Identity } from '../../blob-server/identity/index.ts';
import type { Logger } from '../../sync-server/logger.ts';

const quiet: Logger = { info() {}, warn() {}, error() {} };

/**
 * The API server in this process on a free port, with a filesystem store in a temp dir and the
 * given identity's accounts, cases and audit trail; `options` adds or overrides the rest.
 */
export async function apiServer(
  identity: Identity,
  options: Partial<BlobServerOptions> = {},
): Promise<{ server: BlobServer; base: string; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'exhibit-api-'));
  const server = await createBlobServer({
    store: await createFsStore(join(dir, 'blobs')),
    maxUploadBytes: 1024 * 1024,
    log: quiet,
    auth: { service: identity.service, cases: identity.cases, refreshTtlMs: 3600_000 },
    audit: identity.audit,
    ...options,
  });
  return {
    server,
    base: `http://127.0.0.1:${server.port}`,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
