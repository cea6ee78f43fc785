// Browser-safe: imported by the PWA and by the sync-server. No Node built-ins.
import * as Y from 'yjs';
import type { EvidenceDeletion, LegalHold } from './retention.ts';

/**
 * The shape of a case document (`case.<id>`) and of the case index (`cases`). Nothing else in
 * the code base names a Yjs map by string: read and write through these accessors.
 */

export const CASE_STATUSES = ['open', 'under-review', 'closed', 'archived'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const EVIDENCE_STATES = ['queued', 'uploading', 'verified', 'failed'] as const;
export type EvidenceState = (typeof EVIDENCE_STATES)[number];

export interface CaseSummary extends CaseDetails {
  id: string;
  title: string;
  status: CaseStatus;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  evidenceCount: number;
  /** The start of the description, so cases this device does not hold can still be searched. */
  description?: string;
  /** Absent in summaries written before assignment existed. */
  assignees?: Person[];
}

export interface Person {
  id: string;
  name: string;
}

/** Where the incident happened: what people call the place, and where a map puts it. */
export interface CaseLocation {
  text: string;
  latitude?: number;
  longitude?: number;
}

/** The case summary's incident fields; every one may be unknown. */
export interface CaseDetails {
  incidentNumber?: string;
  incidentType?: string;
  location?: CaseLocation;
  /** Days (`YYYY-MM-DD`) the incident happened from and to; `to` only for a span. */
  incidentFrom?: string;
  incidentTo?: string;
  /** The department's id and, so it reads offline, its name when it was chosen. */
  department?: Person;
}

/** A change to the incident fields: a value sets it, null clears it, absent leaves it. */
export type CaseDetailsChange = { [K in keyof CaseDetails]?: CaseDetails[K] | null };

/** What happens to a case: it moves along this order, and may be taken back a step. */
export const STATUS_LABELS: Record<CaseStatus, string> = {
  open: 'Open',
  'under-review': 'Under review',
  closed: 'Closed',
  archived: 'Archived',
};

/** What a file says about itself (EXIF, container headers), as read on the device adding it. */
export interface EvidenceMetadata {
  /** ISO 8601; without an offset when the camera recorded only its wall-clock time. */
  capturedAt?: string;
  location?: { latitude: number; longitude: number; altitude?: number };
  durationSeconds?: number;
  width?: number;
  height?: number;
  videoCodec?: string;
  audioCodec?: string;
  frameRate?: number;
  /** "Make Model" */
  camera?: string;
}

export interface EvidenceRecord {
  id: string;
  name: string;
  type: string;
  size: number;
  /** The SHA-256 the adding device computed, known once it has hashed the whole file. */
  sha256?: string;
  /** The server's SHA-256 of the object it stored; equal to `sha256` once verified. */
  serverSha256?: string;
  verifiedAt?: string;
  addedAt: string;
  addedBy?: { id: string; name: string };
  state: EvidenceState;
  /** Why the last upload attempt failed, in words for a person. */
  error?: string;
  metadata?: EvidenceMetadata;
  /** SHA-256 of a small JPEG preview stored beside the evidence (a poster frame for video). */
  thumbnail?: string;
  /** Sent by a member of the public through a file request: which one, and their reference. */
  submission?: { request: string; reference: string };
  /** The evidence category's id (set through the server, which enforces its retention). */
  category?: string;
  /** In the recycle bin since then: mirrored from the server, which decides. */
  deletedAt?: string;
  deletedBy?: { id: string; name: string };
  deleteReason?: string;
  /** When the server purges it from the recycle bin. */
  purgeAt?: string;
  /** A copy the browser can play, made from the original (which stays the evidence). */
  proxy?: EvidenceProxy;
  /** This item is a redacted copy of another item of the case, rendered from its recipe. */
  redactionOf?: RedactionSource;
}

/** What a redacted copy was made from: enough to make it again and to show where it came from. */
export interface RedactionSource {
  evidenceId: string;
  /** The original's SHA-256. */
  sha256: string;
  /** The redaction recipe it was rendered from, as JSON. */
  recipe: string;
  renderedBy: { id: string; name: string };
  renderedAt: string;
}

/** A playable copy (H.264/AAC MP4) of a file browsers cannot play, stored beside it. */
export interface EvidenceProxy {
  sha256: string;
  type: string;
  size: number;
  madeAt: string;
  madeBy: { id: string; name: string };
  /** The original's SHA-256: a proxy made from other bytes is not this evidence's. */
  from: string;
  /** `remux`: the same frames in another container; `transcode`: re-encoded. */
  method: 'remux' | 'transcode';
}

/** The fields a device may fill in as it learns them; id, name, size and who added it stay. */
export type EvidenceUpdate = Partial<
  Pick<EvidenceRecord, 'sha256' | 'serverSha256' | 'verifiedAt' | 'metadata' | 'thumbnail'>
>;

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
const ASSIGNEES = 'assignees';
const INDEX = 'cases';
const DETAIL_KEYS = [
  'incidentNumber',
  'incidentType',
  'location',
  'incidentFrom',
  'incidentTo',
  'department',
] as const satisfies ReadonlyArray<keyof CaseDetails>;

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
    status: asStatus(status),
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

export function readCaseDetails(doc: Y.Doc): CaseDetails {
  const m = meta(doc);
  const out: CaseDetails = {};
  for (const key of ['incidentNumber', 'incidentType', 'incidentFrom', 'incidentTo'] as const) {
    const value = m.get(key);
    if (typeof value === 'string' && value !== '') out[key] = value;
  }
  const location = readLocation(m.get('location'));
  if (location) out.location = location;
  const department = m.get('department') as { id?: unknown; name?: unknown } | undefined;
  if (typeof department?.id === 'string' && typeof department.name === 'string') {
    out.department = { id: department.id, name: department.name };
  }
  return out;
}

function readLocation(raw: unknown): CaseLocation | undefined {
  const l = raw as Record<string, unknown> | undefined;
  if (typeof l?.['text'] !== 'string') return undefined;
  const out: CaseLocation = { text: l['text'] };
  const { latitude, longitude } = l;
  if (
    typeof latitude === 'number' &&
    typeof longitude === 'number' &&
    Math.abs(latitude) <= 90 &&
    Math.abs(longitude) <= 180
  ) {
    out.latitude = latitude;
    out.longitude = longitude;
  }
  return out;
}

/** Each field is its own key, so two people editing different fields offline both keep theirs. */
export function updateCaseDetails(doc: Y.Doc, change: CaseDetailsChange, now: string): void {
  doc.transact(() => {
    const m = meta(doc);
    for (const key of DETAIL_KEYS) {
      const value = change[key];
      if (value === undefined) continue;
      if (value === null || value === '') m.delete(key);
      else m.set(key, typeof value === 'object' ? { ...value } : value);
    }
    m.set('updatedAt', now);
  });
}

/** Assignees as a map used as a set (user id → name when assigned), like tags. */
function getAssignees(doc: Y.Doc): Y.Map<string> {
  return doc.getMap(ASSIGNEES);
}

export function readAssignees(doc: Y.Doc): Person[] {
  return [...getAssignees(doc).entries()]
    .map(([id, name]) => ({ id, name: typeof name === 'string' ? name : id }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function assignCase(doc: Y.Doc, person: Person, now: string): void {
  doc.transact(() => {
    getAssignees(doc).set(person.id, person.name);
    meta(doc).set('updatedAt', now);
  });
}

export function unassignCase(doc: Y.Doc, userId: string, now: string): void {
  if (!getAssignees(doc).has(userId)) return;
  doc.transact(() => {
    getAssignees(doc).delete(userId);
    meta(doc).set('updatedAt', now);
  });
}

/** What one transaction did to a case that the audit trail records on its own. */
export interface CaseEvents {
  status?: { from: CaseStatus; to: CaseStatus };
  assigned?: { added: string[]; removed: string[] };
  /** The case's title after the transaction, for messages about these events. */
  title?: string;
}

/**
 * Status and assignment changes made by one transaction, read while it is being finished
 * (`afterTransaction`), before deleted values are garbage-collected.
 */
export function caseEventsOf(doc: Y.Doc, transaction: Y.Transaction): CaseEvents {
  const events: CaseEvents = {};
  const status = changesOf(transaction, meta(doc))?.get('status');
  if (status) {
    const from = asStatus(status.oldValue);
    const to = readMeta(doc).status;
    if (from !== to) events.status = { from, to };
  }
  const assignees = changesOf(transaction, getAssignees(doc) as Y.Map<unknown>);
  if (assignees) {
    const added: string[] = [];
    const removed: string[] = [];
    for (const [id, change] of assignees) {
      if (change.action === 'add') added.push(id);
      else if (change.action === 'delete') removed.push(id);
    }
    if (added.length || removed.length) {
      events.assigned = { added: added.sort(), removed: removed.sort() };
    }
  }
  if (events.status || events.assigned) events.title = readMeta(doc).title;
  return events;
}

/**
 * The keys a transaction changed in a top-level map, with their old values. A map that arrived
 * in an update before anyone asked for it by type is replaced on the first `getMap`; the
 * transaction still names the old object, which shares its entries, so match on those.
 */
function changesOf(
  transaction: Y.Transaction,
  type: Y.Map<unknown>,
): Map<string, { action: 'add' | 'update' | 'delete'; oldValue: unknown }> | undefined {
  for (const [changed, keys] of transaction.changed) {
    if (changed._item !== null || changed._map !== type._map) continue;
    // Either `type` itself or the placeholder it replaced: both are maps over the same entries.
    const target = changed as unknown as Y.Map<unknown>;
    return new Y.YMapEvent(target, transaction, keys).changes.keys;
  }
  return undefined;
}

function asStatus(value: unknown): CaseStatus {
  return (CASE_STATUSES as readonly unknown[]).includes(value) ? (value as CaseStatus) : 'open';
}

export function readTags(doc: Y.Doc): string[] {
  return [...getTags(doc).keys()].sort((a, b) => a.localeCompare(b));
}

/** How much of the description a summary carries for search. */
const SUMMARY_DESCRIPTION = 500;

export function readCaseSummary(doc: Y.Doc): CaseSummary {
  const m = readMeta(doc);
  const description = getDescription(doc).toString().slice(0, SUMMARY_DESCRIPTION);
  return {
    ...readCaseDetails(doc),
    ...(description ? { description } : {}),
    assignees: readAssignees(doc),
    id: m.id,
    title: m.title,
    status: m.status,
    tags: readTags(doc),
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    evidenceCount: [...getEvidence(doc).values()].filter((item) => !item.get('deletedAt')).length,
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

export function updateEvidence(doc: Y.Doc, id: string, change: EvidenceUpdate): void {
  const item = getEvidence(doc).get(id);
  if (!item) return;
  doc.transact(() => {
    for (const [key, value] of Object.entries(change)) {
      if (value !== undefined) item.set(key, value);
    }
  });
}

/** Drops a record whose file never reached the server (the upload was cancelled). */
export function removeEvidence(doc: Y.Doc, id: string): void {
  const item = getEvidence(doc).get(id);
  if (!item || item.get('state') === 'verified') return;
  getEvidence(doc).delete(id);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The digests a case's evidence is stored under: the file of each verified record (the server's
 * digest first), every thumbnail and every playable copy. Records still on their way name nothing
 * yet.
 */
export function evidenceDigests(records: readonly EvidenceRecord[]): string[] {
  const digests = new Set<string>();
  for (const record of records) {
    const file = record.serverSha256 ?? record.sha256;
    if (record.state === 'verified' && file && SHA256_HEX.test(file)) digests.add(file);
    if (record.thumbnail && SHA256_HEX.test(record.thumbnail)) digests.add(record.thumbnail);
    if (record.proxy) digests.add(record.proxy.sha256);
  }
  return [...digests];
}

export function readEvidence(doc: Y.Doc): EvidenceRecord[] {
  const out: EvidenceRecord[] = [];
  for (const [id, item] of getEvidence(doc)) out.push(readEvidenceItem(id, item));
  return out.sort(byAddedAt);
}

const byAddedAt = (a: EvidenceRecord, b: EvidenceRecord) => a.addedAt.localeCompare(b.addedAt);

/**
 * Keeps `onChange` told of the case's evidence (as `readEvidence` orders it), reading again only
 * the items a change touched, so a case with thousands of files stays cheap to watch. Returns
 * the function that stops watching.
 */
export function observeEvidence(
  doc: Y.Doc,
  onChange: (records: EvidenceRecord[]) => void,
): () => void {
  const map = getEvidence(doc);
  const cache = new Map<string, EvidenceRecord>();
  for (const [id, item] of map) cache.set(id, readEvidenceItem(id, item));
  const observer = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>) => {
    const touched = new Set<string>();
    for (const event of events) {
      if (event instanceof Y.YMapEvent && event.target === map) {
        for (const key of event.keysChanged) if (key) touched.add(String(key));
      } else if (typeof event.path[0] === 'string') {
        touched.add(event.path[0]);
      }
    }
    for (const id of touched) {
      const item = map.get(id);
      if (item) cache.set(id, readEvidenceItem(id, item));
      else cache.delete(id);
    }
    onChange([...cache.values()].sort(byAddedAt));
  };
  map.observeDeep(observer);
  onChange([...cache.values()].sort(byAddedAt));
  return () => map.unobserveDeep(observer);
}

/** The parts of a case document that its summary, details and people are read from. */
export function summaryParts(doc: Y.Doc): Array<Y.AbstractType<Y.YEvent<never>>> {
  return [meta(doc), getDescription(doc), getTags(doc), getAssignees(doc)] as unknown as Array<
    Y.AbstractType<Y.YEvent<never>>
  >;
}

function readEvidenceItem(id: string, item: Y.Map<unknown>): EvidenceRecord {
  const state = item.get('state');
  const metadata = readMetadata(item.get('metadata'));
  return {
    id,
    name: String(item.get('name') ?? ''),
    type: String(item.get('type') ?? 'application/octet-stream'),
    size: Number(item.get('size') ?? 0),
    ...optionalText(item, 'sha256'),
    ...optionalText(item, 'serverSha256'),
    ...optionalText(item, 'verifiedAt'),
    addedAt: String(item.get('addedAt') ?? ''),
    ...optionalPerson(item, 'addedBy'),
    state: (EVIDENCE_STATES as readonly unknown[]).includes(state)
      ? (state as EvidenceState)
      : 'queued',
    ...optionalText(item, 'error'),
    ...(metadata ? { metadata } : {}),
    ...optionalText(item, 'thumbnail'),
    ...readSubmission(item.get('submission')),
    ...optionalText(item, 'category'),
    ...optionalText(item, 'deletedAt'),
    ...optionalPerson(item, 'deletedBy'),
    ...optionalText(item, 'deleteReason'),
    ...optionalText(item, 'purgeAt'),
    ...readProxy(item.get('proxy')),
    ...readRedactionSource(item.get('redactionOf')),
  };
}

function readRedactionSource(raw: unknown): Pick<EvidenceRecord, 'redactionOf'> {
  const r = raw as Partial<Record<keyof RedactionSource, unknown>> | undefined;
  const by = r?.renderedBy as { id?: unknown; name?: unknown } | undefined;
  if (
    typeof r?.evidenceId !== 'string' ||
    typeof r.sha256 !== 'string' ||
    !SHA256_HEX.test(r.sha256) ||
    typeof r.recipe !== 'string' ||
    typeof r.renderedAt !== 'string' ||
    typeof by?.id !== 'string' ||
    typeof by.name !== 'string'
  ) {
    return {};
  }
  return {
    redactionOf: {
      evidenceId: r.evidenceId,
      sha256: r.sha256,
      recipe: r.recipe,
      renderedBy: { id: by.id, name: by.name },
      renderedAt: r.renderedAt,
    },
  };
}

function optionalPerson<K extends string>(
  item: Y.Map<unknown>,
  key: K,
): Partial<Record<K, { id: string; name: string }>> {
  const value = item.get(key) as { id?: unknown; name?: unknown } | undefined;
  return value && typeof value.id === 'string' && typeof value.name === 'string'
    ? ({ [key]: { id: value.id, name: value.name } } as Record<K, { id: string; name: string }>)
    : {};
}

function readSubmission(raw: unknown): Pick<EvidenceRecord, 'submission'> {
  const s = raw as { request?: unknown; reference?: unknown } | undefined;
  return typeof s?.request === 'string' && typeof s.reference === 'string'
    ? { submission: { request: s.request, reference: s.reference } }
    : {};
}

function optionalText<K extends string>(item: Y.Map<unknown>, key: K): Partial<Record<K, string>> {
  const value = item.get(key);
  return typeof value === 'string' && value !== '' ? ({ [key]: value } as Record<K, string>) : {};
}

/** Records the playable copy made of an evidence file (or forgets it, with undefined). */
export function setEvidenceProxy(doc: Y.Doc, id: string, proxy: EvidenceProxy | undefined): void {
  const item = getEvidence(doc).get(id);
  if (!item) return;
  if (proxy === undefined) item.delete('proxy');
  else item.set('proxy', { ...proxy, madeBy: { ...proxy.madeBy } });
}

function readProxy(raw: unknown): Pick<EvidenceRecord, 'proxy'> {
  const p = raw as Partial<Record<keyof EvidenceProxy, unknown>> | undefined;
  const by = p?.madeBy as { id?: unknown; name?: unknown } | undefined;
  if (
    typeof p?.sha256 !== 'string' ||
    !SHA256_HEX.test(p.sha256) ||
    typeof p.from !== 'string' ||
    typeof p.type !== 'string' ||
    typeof p.size !== 'number' ||
    typeof p.madeAt !== 'string' ||
    typeof by?.id !== 'string' ||
    typeof by.name !== 'string'
  ) {
    return {};
  }
  return {
    proxy: {
      sha256: p.sha256,
      type: p.type,
      size: p.size,
      madeAt: p.madeAt,
      madeBy: { id: by.id, name: by.name },
      from: p.from,
      method: p.method === 'remux' ? 'remux' : 'transcode',
    },
  };
}

/** Another device wrote the metadata: keep only fields of the right type. */
function readMetadata(raw: unknown): EvidenceMetadata | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const out: EvidenceMetadata = {};
  for (const key of ['capturedAt', 'videoCodec', 'audioCodec', 'camera'] as const) {
    const value = m[key];
    if (typeof value === 'string') out[key] = value;
  }
  for (const key of ['durationSeconds', 'width', 'height', 'frameRate'] as const) {
    const value = m[key];
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  }
  const location = m['location'] as Record<string, unknown> | undefined;
  if (
    location &&
    typeof location['latitude'] === 'number' &&
    typeof location['longitude'] === 'number'
  ) {
    out.location = {
      latitude: location['latitude'],
      longitude: location['longitude'],
      ...(typeof location['altitude'] === 'number' ? { altitude: location['altitude'] } : {}),
    };
  }
  return Object.keys(out).length ? out : undefined;
}

// --- retention, written by the server (blob-server/retention) --------------------------------

/** The evidence's category, as the server has recorded it; undefined for none. */
export function setEvidenceCategory(doc: Y.Doc, id: string, categoryId: string | undefined): void {
  const item = getEvidence(doc).get(id);
  if (!item) return;
  if (categoryId === undefined) item.delete('category');
  else item.set('category', categoryId);
}

/** The evidence moved to the recycle bin (or, with undefined, was restored from it). */
export function setEvidenceDeletion(
  doc: Y.Doc,
  id: string,
  deletion: EvidenceDeletion | undefined,
): void {
  const item = getEvidence(doc).get(id);
  if (!item) return;
  doc.transact(() => {
    if (deletion === undefined) {
      for (const key of ['deletedAt', 'deletedBy', 'deleteReason', 'purgeAt']) item.delete(key);
      return;
    }
    item.set('deletedAt', deletion.at);
    item.set('deletedBy', deletion.by);
    item.set('deleteReason', deletion.reason);
    item.set('purgeAt', deletion.purgeAt);
  });
}

/** The server purged the evidence: its record leaves the case (the audit trail keeps the facts). */
export function dropPurgedEvidence(doc: Y.Doc, id: string): void {
  getEvidence(doc).delete(id);
}

/** The case's legal hold as the server last mirrored it; undefined when there is none. */
export function readLegalHold(doc: Y.Doc): LegalHold | undefined {
  const raw = meta(doc).get('legalHold') as Record<string, unknown> | undefined;
  const setBy = raw?.['setBy'] as { id?: unknown; name?: unknown } | undefined;
  if (
    !raw ||
    typeof raw['reason'] !== 'string' ||
    typeof raw['setAt'] !== 'string' ||
    typeof setBy?.id !== 'string' ||
    typeof setBy.name !== 'string'
  ) {
    return undefined;
  }
  return { reason: raw['reason'], setAt: raw['setAt'], setBy: { id: setBy.id, name: setBy.name } };
}

export function setLegalHold(doc: Y.Doc, hold: LegalHold | undefined): void {
  if (hold === undefined) meta(doc).delete('legalHold');
  else meta(doc).set('legalHold', { ...hold });
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
    a.tags.join('\u0000') === b.tags.join('\u0000') &&
    JSON.stringify(summaryExtras(a)) === JSON.stringify(summaryExtras(b))
  );
}

/** The optional parts of a summary in a fixed order, so equal summaries compare equal. */
function summaryExtras(s: CaseSummary): unknown[] {
  return [
    s.description ?? '',
    ...DETAIL_KEYS.map((key) => s[key] ?? null),
    (s.assignees ?? []).map((p) => [p.id, p.name]),
  ];
}
