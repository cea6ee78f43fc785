import { custodyManager } from '$lib/managers/custody-manager.svelte';
import { syncManager } from '$lib/managers/sync-manager.svelte';
import { encodeDocName, newId } from '$lib/shared/doc-names';
import { initCase, readMeta, updateMeta, type CaseStatus } from '$lib/shared/case-doc';
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
