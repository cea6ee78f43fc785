import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import {
  addEvidence,
  dropPurgedEvidence,
  evidenceDigests,
  getEvidence,
  initCase,
  isInitialised,
  readCaseSummary,
  readEvidence,
  readLegalHold,
  readMeta,
  readTags,
  removeEvidence,
  sameSummary,
  setEvidenceCategory,
  setEvidenceDeletion,
  setEvidenceProxy,
  setEvidenceState,
  setLegalHold,
  updateEvidence,
  updateMeta,
} from './case-doc.ts';

function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

const init = suite('initCase');

init('writes a case that reads back whole', () => {
  const doc = new Y.Doc();
  assert.not.ok(isInitialised(doc));
  initCase(doc, {
    id: 'c1',
    title: 'Theft',
    description: 'Bike',
    tags: ['bike', 'theft'],
    now: '2026-01-01T00:00:00Z',
  });
  assert.ok(isInitialised(doc));
  assert.equal(readMeta(doc), {
    id: 'c1',
    title: 'Theft',
    status: 'open',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  });
  assert.equal(readTags(doc), ['bike', 'theft']);
});

init.run();

const merge = suite('case documents edited offline');

merge('keep tags and evidence added on two devices', () => {
  const a = new Y.Doc();
  initCase(a, { id: 'c1', title: 'Theft', description: '', tags: ['bike'], now: 't0' });
  const b = new Y.Doc();
  sync(a, b);
  updateMeta(a, { status: 'under-review' }, 't1');
  addEvidence(a, {
    id: 'e1',
    name: 'a.jpg',
    type: 'image/jpeg',
    size: 1,
    sha256: 'x',
    addedAt: 't1',
    state: 'queued',
  });
  b.getMap<true>('tags').set('night', true);
  addEvidence(b, {
    id: 'e2',
    name: 'b.mp4',
    type: 'video/mp4',
    size: 2,
    sha256: 'y',
    addedAt: 't2',
    state: 'queued',
  });
  sync(a, b);
  for (const doc of [a, b]) {
    assert.equal(readTags(doc), ['bike', 'night']);
    assert.equal(
      readEvidence(doc).map((e) => e.id),
      ['e1', 'e2'],
    );
    assert.is(readMeta(doc).status, 'under-review');
  }
});

merge.run();

const evidence = suite('evidence records');

evidence('records the state and a reason, and clears the reason on success', () => {
  const doc = new Y.Doc();
  addEvidence(doc, {
    id: 'e1',
    name: 'a',
    type: 't',
    size: 1,
    sha256: 'h',
    addedAt: 't',
    state: 'queued',
  });
  setEvidenceState(doc, 'e1', 'failed', 'the server computed another SHA-256');
  assert.equal(readEvidence(doc)[0]?.error, 'the server computed another SHA-256');
  setEvidenceState(doc, 'e1', 'verified');
  assert.is(readEvidence(doc)[0]?.state, 'verified');
  assert.is(readEvidence(doc)[0]?.error, undefined);
});

const FILE = 'a'.repeat(64);
const THUMB = 'b'.repeat(64);
const queued = {
  name: 'cctv.mp4',
  type: 'video/mp4',
  size: 5,
  addedAt: '2026-01-01T00:00:00Z',
  state: 'queued',
} as const;

evidence('a record is listed at once, before its digest is known, and filled in later', () => {
  const doc = new Y.Doc();
  addEvidence(doc, { ...queued, id: 'e1', addedBy: { id: 'u1', name: 'Ivy Investigator' } });
  assert.equal(readEvidence(doc), [
    { ...queued, id: 'e1', addedBy: { id: 'u1', name: 'Ivy Investigator' } },
  ]);
  updateEvidence(doc, 'e1', {
    metadata: { width: 1920, height: 1080, durationSeconds: 12.5, videoCodec: 'avc' },
    thumbnail: THUMB,
  });
  doc.transact(() => {
    updateEvidence(doc, 'e1', { sha256: FILE, serverSha256: FILE, verifiedAt: 't2' });
    setEvidenceState(doc, 'e1', 'verified');
  });
  const [record] = readEvidence(doc);
  assert.equal(record, {
    ...queued,
    id: 'e1',
    addedBy: { id: 'u1', name: 'Ivy Investigator' },
    state: 'verified',
    sha256: FILE,
    serverSha256: FILE,
    verifiedAt: 't2',
    metadata: { width: 1920, height: 1080, durationSeconds: 12.5, videoCodec: 'avc' },
    thumbnail: THUMB,
  });
});

evidence('reads what another device wrote defensively', () => {
  const doc = new Y.Doc();
  addEvidence(doc, { ...queued, id: 'e1' });
  const item = doc.getMap<Y.Map<unknown>>('evidence').get('e1') as Y.Map<unknown>;
  item.set('metadata', { width: '1920', camera: 'Canon', location: { latitude: 'north' } });
  item.set('addedBy', 'someone');
  item.set('sha256', 42);
  const [record] = readEvidence(doc);
  assert.equal(record?.metadata, { camera: 'Canon' });
  assert.is(record?.addedBy, undefined);
  assert.is(record?.sha256, undefined);
});

evidence('removeEvidence drops a cancelled record but never a verified one', () => {
  const doc = new Y.Doc();
  addEvidence(doc, { ...queued, id: 'e1' });
  addEvidence(doc, { ...queued, id: 'e2', state: 'verified', sha256: FILE });
  removeEvidence(doc, 'e1');
  removeEvidence(doc, 'e2');
  assert.equal(
    readEvidence(doc).map((e) => e.id),
    ['e2'],
  );
});

evidence('ignores an unknown evidence id', () => {
  const doc = new Y.Doc();
  setEvidenceState(doc, 'nope', 'verified');
  assert.equal(readEvidence(doc), []);
});

evidence.run();

const digests = suite('evidenceDigests');

digests('names verified files (the server digest first) and thumbnails, nothing else', () => {
  const other = 'c'.repeat(64);
  assert.equal(
    evidenceDigests([
      { ...queued, id: 'e1' },
      { ...queued, id: 'e2', state: 'uploading', sha256: other, thumbnail: THUMB },
      { ...queued, id: 'e3', state: 'verified', sha256: other, serverSha256: FILE },
      { ...queued, id: 'e4', state: 'failed', sha256: other },
      { ...queued, id: 'e5', state: 'verified', sha256: 'not a digest' },
      { ...queued, id: 'e6', state: 'verified', sha256: FILE },
    ]),
    [THUMB, FILE],
  );
});

digests.run();

const summary = suite('readCaseSummary');

summary('reads unknown status values as open rather than passing them on', () => {
  const doc = new Y.Doc();
  initCase(doc, { id: 'c1', title: 'T', description: '', tags: [], now: 't' });
  doc.getMap('meta').set('status', 'deleted-by-hacker');
  assert.is(readCaseSummary(doc).status, 'open');
});

summary('sameSummary notices any change', () => {
  const doc = new Y.Doc();
  initCase(doc, { id: 'c1', title: 'T', description: '', tags: ['a'], now: 't' });
  const before = readCaseSummary(doc);
  assert.ok(sameSummary(before, readCaseSummary(doc)));
  doc.getMap<true>('tags').set('b', true);
  assert.not.ok(sameSummary(before, readCaseSummary(doc)));
  assert.not.ok(sameSummary(undefined, before));
});

summary.run();

const retention = suite('retention accessors');

retention('mirror category, deletion and legal hold, and deleted items stop counting', () => {
  const doc = new Y.Doc();
  initCase(doc, { id: 'c1', title: 'T', description: '', tags: [], now: 't' });
  for (const id of ['e1', 'e2']) {
    addEvidence(doc, {
      id,
      name: id,
      type: 'image/jpeg',
      size: 1,
      addedAt: 't',
      state: 'verified',
    });
  }
  setEvidenceCategory(doc, 'e1', 'cat-1');
  const deletion = {
    at: '2026-11-25T00:00:00.000Z',
    by: { id: 'u1', name: 'Mara Manager' },
    reason: 'uploaded twice',
    purgeAt: '2026-12-25T00:00:00.000Z',
  };
  setEvidenceDeletion(doc, 'e1', deletion);
  const [e1] = readEvidence(doc);
  assert.equal(
    [e1?.category, e1?.deletedAt, e1?.deletedBy, e1?.deleteReason, e1?.purgeAt],
    ['cat-1', deletion.at, deletion.by, deletion.reason, deletion.purgeAt],
  );
  assert.is(readCaseSummary(doc).evidenceCount, 1);
  assert.is(evidenceDigests(readEvidence(doc)).length, 0);

  setEvidenceDeletion(doc, 'e1', undefined);
  assert.is(readEvidence(doc)[0]?.deletedAt, undefined);
  assert.is(readCaseSummary(doc).evidenceCount, 2);
  dropPurgedEvidence(doc, 'e2');
  assert.equal(
    readEvidence(doc).map((e) => e.id),
    ['e1'],
  );

  const hold = { reason: 'subpoena', setAt: 't', setBy: { id: 'u1', name: 'Mara Manager' } };
  setLegalHold(doc, hold);
  assert.equal(readLegalHold(doc), hold);
  setLegalHold(doc, undefined);
  assert.is(readLegalHold(doc), undefined);
});

retention.run();

const proxy = suite('setEvidenceProxy');

const ORIGINAL = 'a'.repeat(64);
const COPY = 'b'.repeat(64);

proxy('records the playable copy on the evidence, where another device reads it', () => {
  const a = new Y.Doc();
  const b = new Y.Doc();
  addEvidence(a, {
    id: 'e1',
    name: 'cam.avi',
    type: 'video/x-msvideo',
    size: 1,
    sha256: ORIGINAL,
    addedAt: 't',
    state: 'verified',
  });
  const made = {
    sha256: COPY,
    type: 'video/mp4',
    size: 2,
    madeAt: '2024-05-01T10:00:00.000Z',
    madeBy: { id: 'u1', name: 'Ivy Investigator' },
    from: ORIGINAL,
    method: 'transcode' as const,
  };
  setEvidenceProxy(a, 'e1', made);
  sync(a, b);
  const [record] = readEvidence(b);
  assert.equal(record?.proxy, made);
  assert.is(record?.sha256, ORIGINAL);
  assert.equal(evidenceDigests(readEvidence(b)), [ORIGINAL, COPY]);
  setEvidenceProxy(a, 'e1', undefined);
  assert.is(readEvidence(a)[0]?.proxy, undefined);
});

proxy('ignores a proxy another device wrote malformed', () => {
  const doc = new Y.Doc();
  addEvidence(doc, { id: 'e1', name: 'a', type: 't', size: 1, addedAt: 't', state: 'queued' });
  getEvidence(doc).get('e1')?.set('proxy', { sha256: 'nope', from: 1 });
  assert.is(readEvidence(doc)[0]?.proxy, undefined);
});

proxy.run();

const redaction = suite('redacted copies');

redaction(
  'a copy added with its source reads back linked to the original on another device',
  () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    const source = {
      evidenceId: 'e1',
      sha256: ORIGINAL,
      recipe: '{"version":1}',
      renderedBy: { id: 'u1', name: 'Ivy Investigator' },
      renderedAt: '2026-11-26T03:00:00.000Z',
    };
    addEvidence(a, {
      id: 'e2',
      name: 'cam (redacted).mp4',
      type: 'video/mp4',
      size: 2,
      addedAt: 't',
      state: 'queued',
      redactionOf: source,
    });
    sync(a, b);
    assert.equal(readEvidence(b)[0]?.redactionOf, source);
  },
);

redaction('ignores a source another device wrote malformed', () => {
  const doc = new Y.Doc();
  addEvidence(doc, { id: 'e1', name: 'a', type: 't', size: 1, addedAt: 't', state: 'queued' });
  getEvidence(doc).get('e1')?.set('redactionOf', { evidenceId: 'e0', sha256: 'short' });
  assert.is(readEvidence(doc)[0]?.redactionOf, undefined);
});

redaction.run();
