import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tus from 'tus-js-client';
import { createBlobServer } from '../../blob-server/server.ts';
import { createFsStore } from '../../blob-server/storage/fs-store.ts';
import { identitySyncAuth } from '../../blob-server/identity/sync-auth.ts';
import { createSyncServer, type SyncServer } from '../../sync-server/server.ts';
import type { Logger } from '../../sync-server/logger.ts';
import { initCase, readEvidence } from '../../web/lib/shared/case-doc.ts';
import { testIdentity } from '../helpers/identity.ts';
import { TestPeer, waitFor } from '../helpers/sync-client.ts';
import { within } from '../helpers/async.ts';

const quiet = { info() {}, warn() {}, error() {} } as unknown as Logger;
const CASE_ID = 'case-dock-000001';

test('a file from any tus client appears verified in its case document, live', () =>
  within(60_000, 'upload into case', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exhibit-upload-case-'));
    const ids = await testIdentity();
    const holder: { sync?: SyncServer } = {};
    const blob = await createBlobServer({
      store: await createFsStore(join(dir, 'blobs')),
      maxUploadBytes: 1 << 20,
      log: quiet,
      auth: { service: ids.identity.service, cases: ids.identity.cases, refreshTtlMs: 60_000 },
      caseDocuments: { change: (name, edit) => holder.sync!.change(name, edit) },
    });
    holder.sync = await createSyncServer({
      dataDir: dir,
      server: blob.httpServer,
      maxMessageBytes: 1 << 20,
      log: quiet,
      auth: identitySyncAuth(ids.identity.service, ids.identity.cases, ids.identity.audit),
    });
    const peer = new TestPeer(
      `ws://127.0.0.1:${blob.port}/sync`,
      `case.${CASE_ID}`,
      ids.adminToken,
    );
    try {
      await peer.synced();
      initCase(peer.doc, {
        id: CASE_ID,
        title: 'Dock station delivery',
        description: '',
        tags: [],
        now: new Date().toISOString(),
      });
      await peer.savedOnServer();
      const file = randomBytes(3 << 20);
      await new Promise<void>((resolve, reject) => {
        new tus.Upload(file, {
          endpoint: `http://127.0.0.1:${blob.port}/api/uploads`,
          headers: { Authorization: `Bearer ${ids.adminToken}` },
          metadata: { case: CASE_ID, filename: 'bodycam-0042.mp4', filetype: 'video/mp4' },
          retryDelays: [],
          onError: reject,
          onSuccess: () => resolve(),
        }).start();
      });
      const digest = createHash('sha256').update(file).digest('hex');
      await waitFor(() => readEvidence(peer.doc).length === 1, 'the evidence record');
      const [record] = readEvidence(peer.doc);
      assert.is(record?.name, 'bodycam-0042.mp4');
      assert.is(record?.state, 'verified');
      assert.is(record?.serverSha256, digest);
      assert.is(record?.size, file.length);
      assert.equal(record?.addedBy, {
        id: (await ids.identity.service.authenticate(ids.adminToken)).user.id,
        name: 'Admin',
      });
    } finally {
      peer.destroy();
      await holder.sync.close();
      await blob.close();
      await ids.close();
      await rm(dir, { recursive: true, force: true });
    }
  }));

test.run();
