import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import {
  addEvidence,
  assignCase,
  dropPurgedEvidence,
  observeEvidence,
  readEvidence,
  setEvidenceState,
  type EvidenceRecord,
  caseEventsOf,
  initCase,
  readAssignees,
  readCaseDetails,
  readCaseSummary,
  sameSummary,
  unassignCase,
  updateCaseDetails,
  updateMeta,
  type CaseEvents,
  type CaseStatus,
} from './case-doc.ts';
import { statusActions } from './case-workflow.ts';
import { bounded } from '../../../sync-server/case-index.ts';

const NOW = '2026-03-01T10:00:00.000Z';

function newCase(): Y.Doc {
  const doc = new Y.Doc();
  initCase(doc, { id: 'c1', title: 'Burglary', description: 'Shop', tags: [], now: NOW });
  return doc;
}

function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

const details = suite('updateCaseDetails');

details('sets, reads back and clears the incident fields', () => {
  const doc = newCase();
  const all = {
    incidentNumber: 'INC-2026-0042',
    incidentType: 'Burglary',
    location: { text: '12 High St', latitude: 51.5, longitude: -0.12 },
    incidentFrom: '2026-02-27',
    incidentTo: '2026-02-28',
    department: { id: 'd1', name: 'CID' },
  };
  updateCaseDetails(doc, all, '2026-03-02T00:00:00.000Z');
  assert.equal(readCaseDetails(doc), all);
  assert.is(readCaseSummary(doc).updatedAt, '2026-03-02T00:00:00.000Z');
  updateCaseDetails(doc, { incidentTo: null, department: null, incidentType: '' }, NOW);
  const after = readCaseDetails(doc);
  assert.is(after.incidentTo, undefined);
  assert.is(after.department, undefined);
  assert.is(after.incidentType, undefined);
  assert.is(after.incidentNumber, 'INC-2026-0042');
});

details('drops coordinates outside the globe and keeps the place name', () => {
  const doc = newCase();
  updateCaseDetails(doc, { location: { text: 'Pier', latitude: 123, longitude: 4 } }, NOW);
  assert.equal(readCaseDetails(doc).location, { text: 'Pier' });
});

details('two people editing different fields offline both keep theirs', () => {
  const a = newCase();
  const b = new Y.Doc();
  sync(a, b);
  updateCaseDetails(a, { incidentNumber: 'A-1' }, NOW);
  updateCaseDetails(b, { incidentType: 'Fraud' }, NOW);
  sync(a, b);
  assert.equal(readCaseDetails(a), { incidentNumber: 'A-1', incidentType: 'Fraud' });
  assert.equal(readCaseDetails(b), readCaseDetails(a));
});

const assignees = suite('assignCase');

assignees('keeps assignees as a set, sorted by name, merged across devices', () => {
  const a = newCase();
  const b = new Y.Doc();
  sync(a, b);
  assignCase(a, { id: 'u2', name: 'Zoe' }, NOW);
  assignCase(b, { id: 'u1', name: 'Ana' }, NOW);
  sync(a, b);
  assert.equal(readAssignees(a), [
    { id: 'u1', name: 'Ana' },
    { id: 'u2', name: 'Zoe' },
  ]);
  unassignCase(a, 'u2', NOW);
  assert.equal(
    readAssignees(a).map((p) => p.id),
    ['u1'],
  );
});

const events = suite('caseEventsOf');

function eventsOf(doc: Y.Doc, change: () => void): CaseEvents[] {
  const seen: CaseEvents[] = [];
  const listener = (transaction: Y.Transaction) => seen.push(caseEventsOf(doc, transaction));
  doc.on('afterTransaction', listener);
  change();
  doc.off('afterTransaction', listener);
  return seen;
}

events('names the status before and after a change', () => {
  const doc = newCase();
  assert.equal(
    eventsOf(doc, () => updateMeta(doc, { status: 'under-review' }, NOW)),
    [{ status: { from: 'open', to: 'under-review' }, title: 'Burglary' }],
  );
});

events('says nothing when the status is set to what it was, or other fields change', () => {
  const doc = newCase();
  assert.equal(
    eventsOf(doc, () => {
      updateMeta(doc, { status: 'open' }, NOW);
      updateMeta(doc, { title: 'Renamed' }, NOW);
    }),
    [{}, {}],
  );
});

events('lists who was assigned and unassigned', () => {
  const doc = newCase();
  assignCase(doc, { id: 'u1', name: 'Ana' }, NOW);
  const seen = eventsOf(doc, () =>
    doc.transact(() => {
      assignCase(doc, { id: 'u2', name: 'Ivy' }, NOW);
      unassignCase(doc, 'u1', NOW);
    }),
  );
  assert.equal(seen, [{ assigned: { added: ['u2'], removed: ['u1'] }, title: 'Burglary' }]);
});

events('reads changes that arrive as an update from another device', () => {
  const remote = newCase();
  const server = new Y.Doc();
  sync(remote, server);
  updateMeta(remote, { status: 'closed' }, NOW);
  assignCase(remote, { id: 'u3', name: 'Bo' }, NOW);
  const update = Y.encodeStateAsUpdate(remote, Y.encodeStateVector(server));
  assert.equal(
    eventsOf(server, () => Y.applyUpdate(server, update)),
    [
      {
        status: { from: 'open', to: 'closed' },
        assigned: { added: ['u3'], removed: [] },
        title: 'Burglary',
      },
    ],
  );
});

const summaries = suite('case summaries');

summaries('carry the incident fields, assignees and the start of the description', () => {
  const doc = newCase();
  updateCaseDetails(doc, { incidentNumber: 'N-1', department: { id: 'd', name: 'CID' } }, NOW);
  assignCase(doc, { id: 'u1', name: 'Ana' }, NOW);
  const before = readCaseSummary(doc);
  assert.is(before.incidentNumber, 'N-1');
  assert.is(before.description, 'Shop');
  assert.equal(before.assignees, [{ id: 'u1', name: 'Ana' }]);
  assert.ok(sameSummary(before, readCaseSummary(doc)));
  updateCaseDetails(doc, { department: { id: 'd', name: 'Fraud' } }, before.updatedAt);
  assert.not.ok(sameSummary(before, readCaseSummary(doc)));
});

summaries('are bounded before the server indexes them', () => {
  const doc = newCase();
  const long = 'x'.repeat(5000);
  updateCaseDetails(doc, { incidentType: long, location: { text: long } }, NOW);
  for (let i = 0; i < 80; i++) assignCase(doc, { id: `u${i}`, name: long }, NOW);
  const index = bounded(readCaseSummary(doc));
  assert.is(index.incidentType?.length, 200);
  assert.is(index.location?.text.length, 200);
  assert.is(index.assignees?.length, 50);
  assert.is(index.assignees?.[0]?.name.length, 200);
  assert.ok(sameSummary(index, bounded(index)));
});

details.run();
assignees.run();
events.run();
summaries.run();

const watch = suite('observeEvidence');

watch('reads again only the items a change touched', () => {
  const doc = newCase();
  const record = (id: string, addedAt: string) =>
    ({ id, name: `${id}.jpg`, type: 'image/jpeg', size: 1, addedAt, state: 'queued' }) as const;
  addEvidence(doc, record('b', '2026-01-02'));
  addEvidence(doc, record('a', '2026-01-01'));
  const seen: EvidenceRecord[][] = [];
  const stop = observeEvidence(doc, (records) => seen.push(records));
  assert.equal(
    seen[0]?.map((r) => r.id),
    ['a', 'b'],
  );
  setEvidenceState(doc, 'b', 'verified');
  const [a, b] = seen[1] ?? [];
  assert.is(a, seen[0]?.[0], 'the untouched item is the same object');
  assert.is(b?.state, 'verified');
  addEvidence(doc, record('c', '2026-01-03'));
  dropPurgedEvidence(doc, 'a');
  assert.equal(
    seen.at(-1)?.map((r) => r.id),
    ['b', 'c'],
  );
  assert.equal(seen.at(-1), readEvidence(doc));
  stop();
  addEvidence(doc, record('d', '2026-01-04'));
  assert.is(seen.length, 4);
});

watch.run();

const workflow = suite('statusActions');

workflow('moves forward one step at a time and back one step', () => {
  const path = (status: CaseStatus) => statusActions(status).map((a) => a.to);
  assert.equal(path('open'), ['under-review']);
  assert.equal(path('under-review'), ['closed', 'open']);
  assert.equal(path('closed'), ['archived', 'under-review']);
  assert.equal(path('archived'), ['closed']);
  assert.ok(statusActions('open')[0]?.forward);
  assert.not.ok(statusActions('archived')[0]?.forward);
});

workflow.run();
