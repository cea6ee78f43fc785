import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPACT_THRESHOLD, DocStoreUnavailable, openDocStore } from './doc-store.ts';
import { collect } from '../tests/helpers/async.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'exhibit-docstore-'));
}

function textUpdates(count: number): { updates: Uint8Array[]; text: string } {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < count; i++) doc.getText('t').insert(doc.getText('t').length, `${i},`);
  return { updates, text: doc.getText('t').toString() };
}

function replay(updates: Uint8Array[]): string {
  const doc = new Y.Doc();
  for (const u of updates) Y.applyUpdate(doc, u);
  return doc.getText('t').toString();
}

const load = suite('DocStore.load');

load('returns appended updates in order, across a reopen', async () => {
  const dir = await tempDir();
  const { updates, text } = textUpdates(20);
  let store = await openDocStore(dir);
  for (const u of updates) await store.append('case.aaaaaaaa', u);
  await store.close();
  store = await openDocStore(dir);
  const loaded = await store.load('case.aaaaaaaa');
  assert.is(loaded.length, 20);
  assert.is(replay(loaded), text);
  await store.close();
  await rm(dir, { recursive: true });
});

load('merges many updates into one without losing content', async () => {
  const dir = await tempDir();
  const { updates, text } = textUpdates(COMPACT_THRESHOLD + 5);
  const store = await openDocStore(dir);
  for (const u of updates) await store.append('case.bbbbbbbb', u);
  const before = await store.lastSeq('case.bbbbbbbb');
  const loaded = await store.load('case.bbbbbbbb');
  assert.is(loaded.length, 1);
  assert.is(replay(loaded), text);
  assert.is(replay(await store.load('case.bbbbbbbb')), text);
  assert.is(await store.lastSeq('case.bbbbbbbb'), before, 'sequence numbers never go back');
  await store.close();
  await rm(dir, { recursive: true });
});

load('keeps documents apart, even when one name is a prefix of another', async () => {
  const dir = await tempDir();
  const store = await openDocStore(dir);
  const a = textUpdates(3);
  const b = textUpdates(4);
  for (const u of a.updates) await store.append('case.abcdefgh', u);
  for (const u of b.updates) await store.append('case.abcdefghi', u);
  assert.is((await store.load('case.abcdefgh')).length, 3);
  assert.is((await store.load('case.abcdefghi')).length, 4);
  assert.equal(await collect(store.names()), ['case.abcdefgh', 'case.abcdefghi']);
  await store.close();
  await rm(dir, { recursive: true });
});

load.run();

const compact = suite('DocStore.compact');

compact('appends after a compaction continue after the kept sequence number', async () => {
  const dir = await tempDir();
  const store = await openDocStore(dir);
  const { updates, text } = textUpdates(10);
  for (const u of updates.slice(0, 6)) await store.append('case.cccccccc', u);
  await store.compact('case.cccccccc');
  for (const u of updates.slice(6)) await store.append('case.cccccccc', u);
  assert.is(await store.lastSeq('case.cccccccc'), 9);
  assert.is(replay(await store.load('case.cccccccc')), text);
  await store.close();
  await rm(dir, { recursive: true });
});

compact.run();

const markers = suite('DocStore markers');

markers('stores numbers per document and key', async () => {
  const dir = await tempDir();
  const store = await openDocStore(dir);
  assert.is(await store.getMarker('case.dddddddd', 'k'), undefined);
  await store.setMarker('case.dddddddd', 'k', 42);
  assert.is(await store.getMarker('case.dddddddd', 'k'), 42);
  assert.equal(await collect(store.names()), [], 'markers are not documents');
  await store.close();
  await rm(dir, { recursive: true });
});

markers.run();

const open = suite('openDocStore');

open('refuses a database another process holds, naming the directory', async () => {
  const dir = await tempDir();
  const store = await openDocStore(dir);
  try {
    await openDocStore(dir);
    assert.unreachable('second open should fail');
  } catch (err) {
    assert.instance(err, DocStoreUnavailable);
    assert.match((err as Error).message, dir);
    assert.match((err as Error).message, 'in use');
  }
  await store.close();
  await rm(dir, { recursive: true });
});

open.run();
