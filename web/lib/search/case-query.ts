// Browser-safe: filtering, sorting and full-text search of the case list, for the PWA (its
// search worker) and its tests. No Node built-ins, no DOM.
import MiniSearch from 'minisearch';
import { CASE_STATUSES, type CaseStatus, type CaseSummary } from '../shared/case-doc.ts';

export const CASE_SORTS = ['updated', 'created', 'incident', 'title'] as const;
export type CaseSort = (typeof CASE_SORTS)[number];

export const SORT_LABELS: Record<CaseSort, string> = {
  updated: 'Recently updated',
  created: 'Recently created',
  incident: 'Incident date (newest)',
  title: 'Title (A–Z)',
};

/** What the case list shows: words to look for, filters (empty: any) and an order. */
export interface CaseQuery {
  text: string;
  status: CaseStatus | '';
  /** A department id. */
  department: string;
  /** A user id. */
  assignee: string;
  tag: string;
  /** Incident days (`YYYY-MM-DD`) the case's incident must overlap. */
  from: string;
  to: string;
  sort: CaseSort;
}

export const EMPTY_QUERY: CaseQuery = {
  text: '',
  status: '',
  department: '',
  assignee: '',
  tag: '',
  from: '',
  to: '',
  sort: 'updated',
};

/** A saved query is stored and read back from the device: keep only fields of the right shape. */
export function asCaseQuery(raw: unknown): CaseQuery {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const text = (key: keyof CaseQuery) => (typeof r[key] === 'string' ? r[key] : '');
  const status = text('status');
  const sort = text('sort');
  return {
    text: text('text'),
    status: (CASE_STATUSES as readonly string[]).includes(status) ? (status as CaseStatus) : '',
    department: text('department'),
    assignee: text('assignee'),
    tag: text('tag'),
    from: text('from'),
    to: text('to'),
    sort: (CASE_SORTS as readonly string[]).includes(sort) ? (sort as CaseSort) : 'updated',
  };
}

/** True when the query narrows the list at all (sorting aside). */
export function isFiltered(query: CaseQuery): boolean {
  return (Object.keys(EMPTY_QUERY) as Array<keyof CaseQuery>).some(
    (key) => key !== 'sort' && query[key].trim() !== '',
  );
}

/**
 * The cases that pass the filters, in the query's order. With words to look for, `matches`
 * (from the search index) says which cases contain them.
 */
export function filterCases<T extends CaseSummary>(
  cases: readonly T[],
  query: CaseQuery,
  matches?: Iterable<string>,
): T[] {
  const found = matches ? new Set(matches) : undefined;
  const out = cases.filter(
    (c) =>
      (!found || found.has(c.id)) &&
      (!query.status || c.status === query.status) &&
      (!query.department || c.department?.id === query.department) &&
      (!query.assignee || (c.assignees ?? []).some((a) => a.id === query.assignee)) &&
      (!query.tag || c.tags.includes(query.tag)) &&
      overlaps(c, query.from, query.to),
  );
  return out.sort(ORDER[query.sort]);
}

function overlaps(c: CaseSummary, from: string, to: string): boolean {
  if (!from && !to) return true;
  if (!c.incidentFrom) return false;
  const end = c.incidentTo ?? c.incidentFrom;
  return (!from || end >= from) && (!to || c.incidentFrom <= to);
}

const newestFirst = (a: string | undefined, b: string | undefined) =>
  (b ?? '').localeCompare(a ?? '');

const ORDER: Record<CaseSort, (a: CaseSummary, b: CaseSummary) => number> = {
  updated: (a, b) => newestFirst(a.updatedAt, b.updatedAt),
  created: (a, b) => newestFirst(a.createdAt, b.createdAt),
  // Cases without an incident date go last, newest updated first among them.
  incident: (a, b) =>
    newestFirst(a.incidentFrom ?? '', b.incidentFrom ?? '') ||
    newestFirst(a.updatedAt, b.updatedAt),
  title: (a, b) => a.title.localeCompare(b.title, undefined, { sensitivity: 'base' }),
};

/** The choices a filter offers: what the listed cases use. */
export function filterChoices(cases: readonly CaseSummary[]): {
  departments: Array<{ id: string; name: string }>;
  assignees: Array<{ id: string; name: string }>;
  tags: string[];
} {
  const departments = new Map<string, string>();
  const assignees = new Map<string, string>();
  const tags = new Set<string>();
  for (const c of cases) {
    if (c.department) departments.set(c.department.id, c.department.name);
    for (const a of c.assignees ?? []) assignees.set(a.id, a.name);
    for (const t of c.tags) tags.add(t);
  }
  const byName = (m: Map<string, string>) =>
    [...m].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
  return {
    departments: byName(departments),
    assignees: byName(assignees),
    tags: [...tags].sort((a, b) => a.localeCompare(b)),
  };
}

/** One case as the search index holds it. */
export interface SearchDocument {
  id: string;
  title: string;
  description: string;
  tags: string;
  details: string;
  /** Evidence names, annotations and comments: only for cases this device holds in full. */
  content: string;
  /** Changes whenever anything above does, so unchanged cases are not indexed again. */
  stamp: string;
}

export function searchDocument(summary: CaseSummary, content = ''): SearchDocument {
  const d = summary;
  const details = [
    d.incidentNumber,
    d.incidentType,
    d.location?.text,
    d.department?.name,
    ...(d.assignees ?? []).map((a) => a.name),
  ]
    .filter(Boolean)
    .join(' ');
  const doc = {
    id: summary.id,
    title: summary.title,
    description: summary.description ?? '',
    tags: summary.tags.join(' '),
    details,
    content,
  };
  const { title, description, tags } = doc;
  // Content can be long: its length (with the update time) stands for it.
  const stamp = [summary.updatedAt, title, description, tags, details, content.length].join(
    '\u0000',
  );
  return { ...doc, stamp };
}

/**
 * The full-text index of the case list: updated case by case as summaries and held content
 * change, searched with every word required, prefixes and small typos allowed.
 */
export class CaseSearchIndex {
  readonly #index = new MiniSearch<SearchDocument>({
    fields: ['title', 'description', 'tags', 'details', 'content'],
    storeFields: [],
    searchOptions: {
      combineWith: 'AND',
      prefix: true,
      fuzzy: (term) => (term.length > 4 ? 0.2 : false),
      boost: { title: 4, tags: 3, details: 2, description: 1.5 },
    },
  });
  readonly #stamps = new Map<string, string>();

  /** Makes the index hold exactly these documents, touching only those that changed. */
  sync(documents: readonly SearchDocument[]): void {
    const seen = new Set<string>();
    for (const doc of documents) {
      seen.add(doc.id);
      const stamp = this.#stamps.get(doc.id);
      if (stamp === doc.stamp) continue;
      if (stamp === undefined) this.#index.add(doc);
      else this.#index.replace(doc);
      this.#stamps.set(doc.id, doc.stamp);
    }
    for (const id of this.#stamps.keys()) {
      if (seen.has(id)) continue;
      this.#index.discard(id);
      this.#stamps.delete(id);
    }
  }

  /** Ids of the cases that contain every word, best match first. */
  search(text: string): string[] {
    if (!text.trim()) return [];
    return this.#index.search(text).map((result) => String(result.id));
  }

  get size(): number {
    return this.#stamps.size;
  }
}
