// Browser-safe: imported by the PWA and by the sync-server. No Node built-ins.
import * as Y from 'yjs';

/**
 * The shape of a case document (`case.<id>`) and of the case index (`cases`). Nothing else in
 * the code base names a Yjs map by string: read and write through these accessors.
 */

export const CASE_STATUSES = ['open', 'under-review', 'closed', 'archived'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const EVIDENCE_STATES = ['queued', 'uploading', 'verified', 'failed'] as const;
export type EvidenceState = (typeof EVIDENCE_STATES)[number];

export interface CaseSummary {
  id: string;
  title: string;
  status: CaseStatus;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  evidenceCount: number;
}

export interface EvidenceRecord {
  id: string;
  name: string;
  type: string;
  size: number;
  sha256: string;
  addedAt: string;
  state: EvidenceState;
  /** Why the last upload attempt failed, in words for a person. */
  error?: string;
}

type Meta = {
  id: string;
  title: string;
  status: CaseStatus;
  createdAt: string;
  updatedAt: string;
};

const META = 'meta';
const DESCRIPTION = 'description';
const TAGS = 'tags';
const EVIDENCE = 'evidence';
const INDEX = 'cases';

function meta(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(META);
}

export function getDescription(doc: Y.Doc): Y.Text {
  return doc.getText(DESCRIPTION);
}

/** Tags as a map used as a set, so two devices adding tags offline both keep theirs. */
export function getTags(doc: Y.Doc): Y.Map<true> {
  return doc.getMap(TAGS);
}

export function getEvidence(doc: Y.Doc): Y.Map<Y.Map<unknown>> {
  return doc.getMap(EVIDENCE);
}

export function initCase(
  doc: Y.Doc,
  init: { id: string; title: string; description: string; tags: string[]; now: string },
): void {
  doc.transact(() => {
    const m = meta(doc);
    m.set('id', init.id);
    m.set('title', init.title);
    m.set('status', 'open');
    m.set('createdAt', init.now);
    m.set('updatedAt', init.now);
    getDescription(doc).insert(0, init.description);
    const tags = getTags(doc);
    for (const tag of init.tags) tags.set(tag, true);
  });
}

export function isInitialised(doc: Y.Doc): boolean {
  return typeof meta(doc).get('id') === 'string';
}

export function readMeta(doc: Y.Doc): Meta {
  const m = meta(doc);
  const status = m.get('status');
  return {
    id: String(m.get('id') ?? ''),
    title: String(m.get('title') ?? ''),
    status: (CASE_STATUSES as readonly unknown[]).includes(status)
      ? (status as CaseStatus)
      : 'open',
    createdAt: String(m.get('createdAt') ?? ''),
    updatedAt: String(m.get('updatedAt') ?? ''),
  };
}

export function updateMeta(
  doc: Y.Doc,
  change: Partial<Pick<Meta, 'title' | 'status'>>,
  now: string,
): void {
  doc.transact(() => {
    const m = meta(doc);
    if (change.title !== undefined) m.set('title', change.title);
    if (change.status !== undefined) m.set('status', change.status);
    m.set('updatedAt', now);
  });
}

export function readTags(doc: Y.Doc): string[] {
  return [...getTags(doc).keys()].sort((a, b) => a.localeCompare(b));
}

export function readCaseSummary(doc: Y.Doc): CaseSummary {
  const m = readMeta(doc);
  return {
    id: m.id,
    title: m.title,
    status: m.status,
    tags: readTags(doc),
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    evidenceCount: getEvidence(doc).size,
  };
}

export function addEvidence(doc: Y.Doc, record: EvidenceRecord): void {
  doc.transact(() => {
    const item = new Y.Map<unknown>();
    for (const [key, value] of Object.entries(record)) {
      if (value !== undefined) item.set(key, value);
    }
    getEvidence(doc).set(record.id, item);
    meta(doc).set('updatedAt', record.addedAt);
  });
}

export function setEvidenceState(
  doc: Y.Doc,
  id: string,
  state: EvidenceState,
  error?: string,
): void {
  const item = getEvidence(doc).get(id);
  if (!item) return;
  doc.transact(() => {
    item.set('state', state);
    if (error === undefined) item.delete('error');
    else item.set('error', error);
  });
}

export function readEvidence(doc: Y.Doc): EvidenceRecord[] {
  const out: EvidenceRecord[] = [];
  for (const [id, item] of getEvidence(doc)) {
    const state = item.get('state');
    const error = item.get('error');
    out.push({
      id,
      name: String(item.get('name') ?? ''),
      type: String(item.get('type') ?? 'application/octet-stream'),
      size: Number(item.get('size') ?? 0),
      sha256: String(item.get('sha256') ?? ''),
      addedAt: String(item.get('addedAt') ?? ''),
      state: (EVIDENCE_STATES as readonly unknown[]).includes(state)
        ? (state as EvidenceState)
        : 'queued',
      ...(typeof error === 'string' ? { error } : {}),
    });
  }
  return out.sort((a, b) => a.addedAt.localeCompare(b.addedAt));
}

/** The case index: one entry per case the server has stored, written by the server only. */
export function getCaseIndex(doc: Y.Doc): Y.Map<CaseSummary> {
  return doc.getMap(INDEX);
}

export function readCaseIndex(doc: Y.Doc): CaseSummary[] {
  return [...getCaseIndex(doc).values()];
}

export function sameSummary(a: CaseSummary | undefined, b: CaseSummary): boolean {
  return (
    a !== undefined &&
    a.id === b.id &&
    a.title === b.title &&
    a.status === b.status &&
    a.createdAt === b.createdAt &&
    a.updatedAt === b.updatedAt &&
    a.evidenceCount === b.evidenceCount &&
    a.tags.join('\u0000') === b.tags.join('\u0000')
  );
}
