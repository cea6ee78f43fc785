import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import {
  addEvidence,
  initCase,
  isInitialised,
  readCaseSummary,
  readEvidence,
  readMeta,
  readTags,
  sameSummary,
  setEvidenceState,
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

const evidence = suite('setEvidenceState');

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

evidence('ignores an unknown evidence id', () => {
  const doc = new Y.Doc();
  setEvidenceState(doc, 'nope', 'verified');
  assert.equal(readEvidence(doc), []);
});

evidence.run();

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
