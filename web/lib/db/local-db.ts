import Dexie, { type EntityTable } from 'dexie';
import type { CaseSummary } from '$lib/shared/case-doc';

/**
 * What this device keeps besides the Yjs documents themselves (those live in y-indexeddb).
 */
export interface LocalDocument {
  /** The document name, e.g. `case.<id>`. */
  name: string;
  /** 1 while this device holds changes the server has not confirmed stored (IndexedDB can't index booleans). */
  pending: 0 | 1;
  /** For case documents: the last summary seen here, so the case list works offline. */
  summary?: CaseSummary;
  touchedAt: string;
}

/** An evidence file waiting to be uploaded; its bytes stay here until the server verified them. */
export interface OutboxFile {
  evidenceId: string;
  caseId: string;
  sha256: string;
  name: string;
  type: string;
  size: number;
  blob: Blob;
  addedAt: string;
  attempts: number;
  lastError?: string;
}

export class LocalDb extends Dexie {
  documents!: EntityTable<LocalDocument, 'name'>;
  outbox!: EntityTable<OutboxFile, 'evidenceId'>;

  constructor(name: string) {
    super(name);
    this.version(1).stores({
      documents: 'name, pending, touchedAt',
      outbox: 'evidenceId, caseId, addedAt',
    });
  }
}

let current: { userId: string; db: LocalDb } | undefined;

/**
 * Opens the signed-in user's own database: on a shared device, one person's cases and queued
 * evidence are never shown to the next.
 */
export function openLocalDb(userId: string): LocalDb {
  if (current?.userId !== userId) {
    current?.db.close();
    current = { userId, db: new LocalDb(`exhibit:${userId}`) };
  }
  return current.db;
}

export function closeLocalDb(): void {
  current?.db.close();
  current = undefined;
}

/** The signed-in user's database; only valid between openLocalDb and closeLocalDb. */
export function localDb(): LocalDb {
  if (!current) throw new Error('no user is signed in on this device');
  return current.db;
}
