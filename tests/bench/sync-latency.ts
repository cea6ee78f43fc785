// `npm run bench:sync`: how long until a second client sees a case another client created
// (through storage, the server's case index and sync), and how long an edit takes to reach a
// peer of the same case. Real sync-server on LevelDB in a temp dir; clients are y-websocket.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncServer } from '../../sync-server/server.ts';
import { createLogger } from '../../sync-server/logger.ts';
import { initCase, readCaseIndex, readMeta, updateMeta } from '../../web/lib/shared/case-doc.ts';
import { newId } from '../../web/lib/shared/doc-names.ts';
import { TestPeer, waitFor } from '../helpers/sync-client.ts';
import { tableSyncAuth } from '../helpers/sync-auth.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 50);

function stats(name: string, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  console.log(
    `${name}: n=${sorted.length} p50=${at(0.5).toFixed(1)} ms p95=${at(0.95).toFixed(1)} ms max=${(sorted.at(-1) ?? 0).toFixed(1)} ms`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'exhibit-bench-'));
const auth = tableSyncAuth();
const { token } = auth.issue('investigator');
const server = await createSyncServer({
  auth,
  dataDir: dir,
  maxMessageBytes: 16 * 1024 * 1024,
  log: createLogger('bench', 'error'),
});
const url = `ws://127.0.0.1:${server.port}/sync`;
const watcher = new TestPeer(url, 'cases', token);
await watcher.synced();

const appear: number[] = [];
const edits: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const id = newId();
  const author = new TestPeer(url, `case.${id}`, token);
  const reader = new TestPeer(url, `case.${id}`, token);
  await Promise.all([author.synced(), reader.synced()]);

  const t0 = performance.now();
  initCase(author.doc, {
    id,
    title: `Case ${i}`,
    description: '',
    tags: [],
    now: new Date().toISOString(),
  });
  await waitFor(
    () => readCaseIndex(watcher.doc).some((c) => c.id === id),
    'the index entry',
    10_000,
  );
  appear.push(performance.now() - t0);

  const t1 = performance.now();
  updateMeta(author.doc, { status: 'closed' }, new Date().toISOString());
  await waitFor(() => readMeta(reader.doc).status === 'closed', 'the edit', 10_000);
  edits.push(performance.now() - t1);

  author.destroy();
  reader.destroy();
}

stats('new case visible to a second client (case list)', appear);
stats('edit visible to a peer of the same case', edits);
watcher.destroy();
await server.close();
await rm(dir, { recursive: true, force: true });
