import { localDb } from '$lib/db/local-db';
import { custodyManager } from '$lib/managers/custody-manager.svelte';
import { syncManager } from '$lib/managers/sync-manager.svelte';
import { encodeDocName, newId } from '$lib/shared/doc-names';
import {
  assignCase,
  getDescription,
  getTags,
  initCase,
  readCaseDetails,
  readMeta,
  readTags,
  unassignCase,
  updateCaseDetails,
  updateMeta,
  type CaseDetails,
  type CaseDetailsChange,
  type CaseStatus,
  type Person,
} from '$lib/shared/case-doc';
import type * as Y from 'yjs';

export interface NewCase {
  title: string;
  description: string;
  tags: string[];
}

export class InvalidInput extends Error {
  override readonly name = 'InvalidInput';
}

/** Normalises what a person typed as tags: trimmed, lower-case, no duplicates or blanks. */
export function parseTags(input: string): string[] {
  const tags = input
    .split(',')
    .map((t) => t.trim().toLowerCase().replace(/\s+/g, '-'))
    .filter((t) => t.length > 0);
  return [...new Set(tags)];
}

/**
 * Creates a case on this device. It is stored in IndexedDB at once and reaches the server
 * whenever the server can be reached; no connection is needed.
 */
export async function createCase(input: NewCase): Promise<string> {
  const title = input.title.trim();
  if (title.length === 0) throw new InvalidInput('A case needs a title.');
  if (title.length > 200) throw new InvalidInput('A case title can be at most 200 characters.');
  const id = newId();
  const name = encodeDocName({ kind: 'case', id });
  const now = new Date().toISOString();
  const handle = syncManager.open(name);
  try {
    await handle.ready;
    initCase(handle.doc, {
      id,
      title,
      description: input.description.trim(),
      tags: input.tags,
      now,
    });
  } finally {
    syncManager.release(handle);
  }
  noteOnDevice(id, ['created']);
  return id;
}

/** The device's own custody log keeps what was changed where, online or not. */
function noteOnDevice(caseId: string, fields: string[]): void {
  custodyManager
    .record({ action: 'case.changed', case: caseId, details: { fields } })
    .catch((err: unknown) => console.warn('the change could not be recorded on this device', err));
}

function caseIdOf(doc: Y.Doc): string {
  return readMeta(doc).id;
}

export function renameCase(doc: Y.Doc, title: string): void {
  const trimmed = title.trim();
  if (trimmed.length === 0) throw new InvalidInput('A case needs a title.');
  updateMeta(doc, { title: trimmed }, new Date().toISOString());
  noteOnDevice(caseIdOf(doc), ['title']);
}

export function setCaseStatus(doc: Y.Doc, status: CaseStatus): void {
  updateMeta(doc, { status }, new Date().toISOString());
  noteOnDevice(caseIdOf(doc), ['status']);
}

/** What the summary form sends: every field as the person left it (blank clears it). */
export interface SummaryEdit {
  title: string;
  description: string;
  tags: string[];
  details: CaseDetailsChange;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Checks what a person typed before anything is written; says what is wrong. */
export function checkSummary(edit: SummaryEdit): void {
  if (edit.title.trim().length === 0) throw new InvalidInput('A case needs a title.');
  if (edit.title.trim().length > 200) {
    throw new InvalidInput('A case title can be at most 200 characters.');
  }
  const { incidentFrom: from, incidentTo: to, location } = edit.details;
  for (const day of [from, to]) {
    if (day && !DAY.test(day)) throw new InvalidInput('Incident dates must be days (YYYY-MM-DD).');
  }
  if (to && !from) throw new InvalidInput('Give the day the incident started, too.');
  if (from && to && to < from) {
    throw new InvalidInput('The incident cannot end before it started.');
  }
  const { latitude, longitude } = location ?? {};
  if ((latitude === undefined) !== (longitude === undefined)) {
    throw new InvalidInput('Give both latitude and longitude, or neither.');
  }
  if (latitude !== undefined && Math.abs(latitude) > 90) {
    throw new InvalidInput('Latitude must be between -90 and 90.');
  }
  if (longitude !== undefined && Math.abs(longitude) > 180) {
    throw new InvalidInput('Longitude must be between -180 and 180.');
  }
}

/**
 * Saves the summary form into the case on this device (no connection needed), writing only
 * what changed so that someone else's concurrent edit of another field survives the merge.
 */
export function saveCaseSummary(doc: Y.Doc, edit: SummaryEdit): void {
  checkSummary(edit);
  const now = new Date().toISOString();
  const fields: string[] = [];
  doc.transact(() => {
    const title = edit.title.trim();
    if (title !== readMeta(doc).title) {
      updateMeta(doc, { title }, now);
      fields.push('title');
    }
    const text = getDescription(doc);
    const description = edit.description.trim();
    if (description !== text.toString()) {
      text.delete(0, text.length);
      text.insert(0, description);
      fields.push('description');
    }
    const before = readTags(doc);
    if (before.join(',') !== [...edit.tags].sort((a, b) => a.localeCompare(b)).join(',')) {
      const tags = getTags(doc);
      for (const tag of before) if (!edit.tags.includes(tag)) tags.delete(tag);
      for (const tag of edit.tags) tags.set(tag, true);
      fields.push('tags');
    }
    const current = readCaseDetails(doc);
    const changed = Object.fromEntries(
      Object.entries(edit.details).filter(
        ([key, value]) =>
          JSON.stringify(value || undefined) !== JSON.stringify(current[key as keyof CaseDetails]),
      ),
    ) as CaseDetailsChange;
    fields.push(...Object.keys(changed));
    // Details or not, any change counts as an update of the case (lists sort by it).
    if (fields.length > 0) updateCaseDetails(doc, changed, now);
  });
  noteOnDevice(caseIdOf(doc), fields);
}

export function assignToCase(doc: Y.Doc, person: Person): void {
  assignCase(doc, person, new Date().toISOString());
  noteOnDevice(caseIdOf(doc), ['assignees']);
}

export function unassignFromCase(doc: Y.Doc, userId: string): void {
  unassignCase(doc, userId, new Date().toISOString());
  noteOnDevice(caseIdOf(doc), ['assignees']);
}

/** Tags used on the cases this device holds, most used first: suggestions while tagging. */
export async function knownTags(): Promise<string[]> {
  const counts = new Map<string, number>();
  for (const doc of await localDb().documents.toArray()) {
    for (const tag of doc.summary?.tags ?? []) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t]) => t);
}
