import Dexie, { type EntityTable } from 'dexie';
import type { CaseSummary } from '$lib/shared/case-doc';
import type { DeviceEntry, DevicePublicKey } from '$lib/shared/device-log';

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

/** What version 1 queued: a file hashed whole before it was sent in one request. */
interface OutboxFileV1 {
  evidenceId: string;
  caseId: string;
  name: string;
  type: string;
  size: number;
  blob: Blob;
  addedAt: string;
  lastError?: string;
}

/**
 * An evidence file added on this device. Its bytes stay here until the server verified them and
 * its metadata and thumbnail are recorded, so a reload or a browser restart never asks for the
 * file again.
 */
export interface QueuedUpload {
  evidenceId: string;
  caseId: string;
  name: string;
  type: string;
  size: number;
  file: Blob;
  addedAt: string;
  /** What the person asked for: send it, hold it, or it failed and waits for a retry. */
  status: 'queued' | 'paused' | 'failed';
  /** Why it failed, in words for a person. */
  error?: string;
  /** 1 once the server verified the file (IndexedDB can't index booleans). */
  uploaded: 0 | 1;
  /** 1 once metadata was read and a thumbnail made (or found impossible). */
  described: 0 | 1;
  /** A thumbnail made here, waiting to be stored on the server. */
  thumbnail?: Blob;
  /**
   * The file's SHA-256, computed here before anything was sent, and the custody record this
   * device signed over it. The upload must arrive with exactly this digest.
   */
  sealed?: { sha256: string; deviceId: string; seq: number };
}

/**
 * This browser's own key pair for this user: the private half cannot be exported, so entries
 * signed with it can only have been made here.
 */
export interface DeviceKeyRow {
  id: 'self';
  deviceId: string;
  privateKey: CryptoKey;
  publicKey: DevicePublicKey;
  label: string;
  createdAt: string;
  /** When the server accepted the key for this user. */
  registeredAt?: string;
}

/** One entry of this device's custody log; `sent` turns 1 once the server holds it. */
export type CustodyLogRow = DeviceEntry & { sent: 0 | 1 };

/**
 * Where a resumable upload stands: the server's upload address and the hash state at the last
 * offset it acknowledged. Kept apart from the file so that saving it after every chunk does not
 * rewrite the file's record.
 */
export interface UploadCheckpointRow {
  evidenceId: string;
  url?: string;
  expiresAt?: string;
  chunkSize?: number;
  hash?: { offset: number; state: Uint8Array };
}

/** A case list view someone saved on this device: a name and the query it shows. */
export interface SavedViewRow {
  id: string;
  name: string;
  /** A `CaseQuery`; read back through `asCaseQuery`. */
  query: unknown;
  createdAt: string;
}

/**
 * The searchable text of a case this device holds in full (evidence names, annotations and
 * comments), kept so the case list can search it without opening every case.
 */
export interface CaseTextRow {
  caseId: string;
  text: string;
  updatedAt: string;
  /** The case document's state vector the text was read from: unchanged, it is not read again. */
  stateVector?: Uint8Array;
}

export class LocalDb extends Dexie {
  documents!: EntityTable<LocalDocument, 'name'>;
  uploads!: EntityTable<QueuedUpload, 'evidenceId'>;
  uploadCheckpoints!: EntityTable<UploadCheckpointRow, 'evidenceId'>;
  deviceKey!: EntityTable<DeviceKeyRow, 'id'>;
  custodyLog!: Dexie.Table<CustodyLogRow, [string, number]>;
  savedViews!: EntityTable<SavedViewRow, 'id'>;
  caseTexts!: EntityTable<CaseTextRow, 'caseId'>;

  constructor(name: string) {
    super(name);
    this.version(1).stores({
      documents: 'name, pending, touchedAt',
      outbox: 'evidenceId, caseId, addedAt',
    });
    // Files queued by version 1 are not lost: they move to the resumable queue and upload from
    // the first byte (their evidence records already exist).
    this.version(2)
      .stores({
        uploads: 'evidenceId, caseId, addedAt',
        uploadCheckpoints: 'evidenceId',
      })
      .upgrade(async (tx) => {
        const old = await tx.table<OutboxFileV1, string>('outbox').toArray();
        await tx.table<QueuedUpload, string>('uploads').bulkPut(
          old.map((f) => ({
            evidenceId: f.evidenceId,
            caseId: f.caseId,
            name: f.name,
            type: f.type,
            size: f.size,
            file: f.blob,
            addedAt: f.addedAt,
            status: f.lastError ? 'failed' : 'queued',
            ...(f.lastError ? { error: f.lastError } : {}),
            uploaded: 0,
            described: 0,
          })),
        );
      });
    this.version(3).stores({ outbox: null });
    this.version(4).stores({
      deviceKey: 'id',
      custodyLog: '[device+seq], [device+sent+seq]',
    });
    this.version(5).stores({ savedViews: 'id, name', caseTexts: 'caseId' });
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
