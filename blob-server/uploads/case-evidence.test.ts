import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import { addEvidence, evidenceDigests, readEvidence } from '../../web/lib/shared/case-doc.ts';
import { recordVerifiedUpload } from './case-evidence.ts';
import type { UploadRecord } from './upload-record.ts';

const DIGEST = 'a'.repeat(64);
const NOW = '2026-11-25T12:00:00.000Z';

function upload(change: Partial<UploadRecord> = {}): UploadRecord {
  return {
    id: 'AAAAAAAAAAAAAAAAAAAAAA',
    owner: 'user:u1',
    ownerName: 'Dana Investigator',
    caseId: 'case-0001',
    metadata: '',
    length: 42,
    offset: 42,
    partSize: 8 << 20,
    objectKey: 'evidence/AAAAAAAAAAAAAAAAAAAAAA',
    parts: [],
    tailLength: 0,
    createdAt: '2026-11-25T11:00:00.000Z',
    expiresAt: '2026-11-26T11:00:00.000Z',
    state: 'verified',
    joined: true,
    sha256: DIGEST,
    clientSha256: DIGEST,
    filename: 'dock-export.mp4',
    filetype: 'video/mp4',
    ...change,
  };
}

test('marks the record the PWA made as verified, with the server digest', () => {
  const doc = new Y.Doc();
  addEvidence(doc, {
    id: 'evidence-0001',
    name: 'clip.mp4',
    type: 'video/mp4',
    size: 42,
    addedAt: '2026-11-25T11:00:00.000Z',
    addedBy: { id: 'u1', name: 'Dana' },
    state: 'uploading',
  });
  recordVerifiedUpload(doc, upload({ evidenceId: 'evidence-0001' }), NOW);
  const [record] = readEvidence(doc);
  assert.is(record?.state, 'verified');
  assert.is(record?.serverSha256, DIGEST);
  assert.is(record?.sha256, DIGEST);
  assert.is(record?.verifiedAt, NOW);
  assert.is(record?.name, 'clip.mp4');
  assert.equal(evidenceDigests(readEvidence(doc)), [DIGEST]);
});

test('adds a record for an upload from another tus client', () => {
  const doc = new Y.Doc();
  recordVerifiedUpload(doc, upload(), NOW);
  const [record] = readEvidence(doc);
  assert.is(record?.id, 'AAAAAAAAAAAAAAAAAAAAAA');
  assert.is(record?.name, 'dock-export.mp4');
  assert.is(record?.type, 'video/mp4');
  assert.is(record?.size, 42);
  assert.is(record?.state, 'verified');
  assert.equal(record?.addedBy, { id: 'u1', name: 'Dana Investigator' });
});

test('refuses an upload that is not verified', () => {
  assert.throws(() => recordVerifiedUpload(new Y.Doc(), upload({ sha256: undefined }), NOW));
});

test.run();
