import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CaseSummary } from '../shared/case-doc.ts';
import {
  asCaseQuery,
  CaseSearchIndex,
  EMPTY_QUERY,
  filterCases,
  filterChoices,
  isFiltered,
  searchDocument,
  type CaseQuery,
} from './case-query.ts';

function summary(id: string, fields: Partial<CaseSummary> = {}): CaseSummary {
  return {
    id,
    title: `Case ${id}`,
    status: 'open',
    tags: [],
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    evidenceCount: 0,
    ...fields,
  };
}

const CID = { id: 'd1', name: 'CID' };
const ANA = { id: 'u1', name: 'Ana' };
const cases = [
  summary('a', {
    title: 'Warehouse fire',
    status: 'under-review',
    department: CID,
    assignees: [ANA],
    tags: ['arson'],
    incidentFrom: '2026-02-01',
    incidentTo: '2026-02-03',
    updatedAt: '2026-03-01T00:00:00Z',
  }),
  summary('b', { title: 'bike theft', tags: ['theft'], incidentFrom: '2026-02-10' }),
  summary('c', { title: 'Assault', createdAt: '2026-04-01T00:00:00Z' }),
];
const ids = (list: CaseSummary[]) => list.map((c) => c.id);
const query = (change: Partial<CaseQuery>): CaseQuery => ({ ...EMPTY_QUERY, ...change });

const filters = suite('filterCases');

filters('filters by status, department, assignee and tag', () => {
  assert.equal(ids(filterCases(cases, query({ status: 'under-review' }))), ['a']);
  assert.equal(ids(filterCases(cases, query({ department: 'd1' }))), ['a']);
  assert.equal(ids(filterCases(cases, query({ assignee: 'u1' }))), ['a']);
  assert.equal(ids(filterCases(cases, query({ tag: 'theft' }))), ['b']);
  assert.equal(ids(filterCases(cases, query({ status: 'closed' }))), []);
});

filters('keeps cases whose incident overlaps the date range; undated cases leave', () => {
  assert.equal(ids(filterCases(cases, query({ from: '2026-02-02', to: '2026-02-05' }))), ['a']);
  assert.equal(ids(filterCases(cases, query({ from: '2026-02-03' }))), ['a', 'b']);
  assert.equal(ids(filterCases(cases, query({ to: '2026-01-31' }))), []);
});

filters('sorts by update, creation, incident date and title', () => {
  assert.equal(ids(filterCases(cases, query({ sort: 'updated' })))[0], 'a');
  assert.equal(ids(filterCases(cases, query({ sort: 'created' })))[0], 'c');
  assert.equal(ids(filterCases(cases, query({ sort: 'incident' }))), ['b', 'a', 'c']);
  assert.equal(ids(filterCases(cases, query({ sort: 'title' }))), ['c', 'b', 'a']);
});

filters('with search matches, shows only the matching cases', () => {
  assert.equal(ids(filterCases(cases, query({ text: 'x' }), ['b'])), ['b']);
});

filters('offers the departments, assignees and tags the cases use', () => {
  assert.equal(filterChoices(cases), {
    departments: [CID],
    assignees: [ANA],
    tags: ['arson', 'theft'],
  });
});

const queries = suite('asCaseQuery');

queries('reads back a saved query, dropping what does not fit', () => {
  const saved = query({ status: 'closed', tag: 'x', sort: 'title' });
  assert.equal(asCaseQuery(JSON.parse(JSON.stringify(saved))), saved);
  assert.equal(asCaseQuery({ status: 'lost', sort: 'size', text: 3 }), EMPTY_QUERY);
  assert.equal(asCaseQuery(null), EMPTY_QUERY);
  assert.not.ok(isFiltered(query({ sort: 'title' })));
  assert.ok(isFiltered(query({ tag: 'x' })));
});

const search = suite('CaseSearchIndex');

search('finds words in summaries and in held content, every word required', () => {
  const index = new CaseSearchIndex();
  index.sync([
    searchDocument(cases[0]!, 'cctv-north-gate.mp4\nSuspect leaves by the loading bay'),
    searchDocument(cases[1]!),
    searchDocument({ ...cases[2]!, incidentNumber: 'INC-77', description: 'Outside the pub' }),
  ]);
  assert.equal(index.search('loading bay'), ['a']);
  assert.equal(index.search('cctv'), ['a']);
  assert.equal(index.search('bike'), ['b']);
  assert.equal(index.search('inc-77'), ['c']);
  assert.equal(index.search('pub'), ['c']);
  assert.equal(index.search('ana'), ['a'], 'assignee names');
  assert.equal(index.search('warehose'), ['a'], 'a small typo');
  assert.equal(index.search('wareh'), ['a'], 'a prefix');
  assert.equal(index.search('bike pub'), []);
  assert.equal(index.search('  '), []);
});

search('indexes again only what changed, and forgets cases that left', () => {
  const index = new CaseSearchIndex();
  index.sync([searchDocument(cases[0]!), searchDocument(cases[1]!)]);
  const renamed = { ...cases[1]!, title: 'Stolen scooter', updatedAt: '2026-05-01T00:00:00Z' };
  index.sync([searchDocument(renamed)]);
  assert.is(index.size, 1);
  assert.equal(index.search('scooter'), ['b']);
  assert.equal(index.search('bike'), []);
  assert.equal(index.search('warehouse'), []);
});

filters.run();
queries.run();
search.run();
