import { liveQuery } from 'dexie';
import type * as Y from 'yjs';
import { localDb, type LocalDb, type QueuedUpload } from '$lib/db/local-db';
import { custodyManager } from '$lib/managers/custody-manager.svelte';
import { syncManager } from '$lib/managers/sync-manager.svelte';
import { readMediaMetadata } from '$lib/media/metadata';
import { makeThumbnail } from '$lib/media/thumbnail';
import { storeThumbnail } from '$lib/services/evidence.service';
import {
  addEvidence,
  removeEvidence,
  type EvidenceRecord,
  type EvidenceState,
  setEvidenceState,
  updateEvidence,
} from '$lib/shared/case-doc';
import { encodeDocName, newId } from '$lib/shared/doc-names';
import { sleepUnlessOnline, whenOnline } from '$lib/utils/online';
import { browserTransport } from '$lib/upload/browser-transport';
import { readBytes, ResumableHash } from '$lib/upload/resumable-hash';
import { resumableUpload } from '$lib/upload/resumable-upload';
import type { CustodyRecordDetails } from '$lib/shared/device-log';
import {
  FileMismatch,
  isTransient,
  ServerUnavailable,
  TusClient,
  TusError,
  type TusClientOptions,
} from '$lib/upload/tus-client';

/**
 * - `queued`: waiting for a free slot.
 * - `sealing`: hashing the file and signing its custody record, before anything is sent.
 * - `uploading`: bytes are on their way.
 * - `waiting`: offline, or the server is unavailable; tries again by itself.
 * - `paused`: held until the person resumes it.
 * - `failed`: refused or not verified; waits for the person to retry or cancel.
 */
export type UploadPhase = 'queued' | 'sealing' | 'uploading' | 'waiting' | 'paused' | 'failed';

export interface UploadItem {
  evidenceId: string;
  caseId: string;
  name: string;
  size: number;
  phase: UploadPhase;
  /** Bytes the server holds, plus those of the chunk on its way. */
  sent: number;
  /** While sealing: bytes of the file hashed on this device so far. */
  hashed?: number;
  /** Bytes per second over the last few seconds, while sending. */
  rate?: number;
  secondsLeft?: number;
  /** Why it waits or failed, in words for a person. */
  message?: string;
}

export interface UploadTotals {
  files: number;
  size: number;
  sent: number;
  rate: number;
  secondsLeft?: number;
}

export interface UploadSession {
  user: { id: string; name: string };
  /** An access token; `renew` asks for a new one after the server refused the last. */
  token: TusClientOptions['token'];
}

/** A signed-in session's queue, with the database and client it uses. */
type Running = UploadSession & { client: TusClient; db: LocalDb };

interface Live {
  phase?: UploadPhase;
  sent?: number;
  /** While sealing: bytes hashed so far. */
  hashed?: number;
  rate?: number;
  message?: string;
}

const OFFLINE = 'Offline. The upload continues when the connection is back.';
const SEALING = 'Computing its SHA-256 and signing a custody record on this device before sending.';
/** Sealing reads the file in slices this big, so any size fits in memory. */
const SEAL_SLICE = 8 * 1024 * 1024;
/** Files sent at the same time: more would only split the same bandwidth. */
const CONCURRENCY = 2;
const RATE_WINDOW_MS = 5_000;
/** How often progress reaches the screen; XMLHttpRequest reports far more often. */
const PAINT_MS = 250;
/** A file another tab is sending, or a thumbnail that could not be stored, is looked at again. */
const RECHECK_MS = 15_000;

/**
 * Evidence files on their way from this device to the server. Adding a file records it in its
 * case at once and keeps its bytes in IndexedDB; two files at a time then go up with resumable
 * uploads, hashed as they are sent, and survive reloads, lost connections and browser restarts.
 * The record turns "verified" only when the server's SHA-256 of what it stored equals the one
 * computed here. Metadata and a thumbnail are read from each file beside the upload.
 */
class UploadManager {
  #rows = $state.raw<QueuedUpload[]>([]);
  #live = $state<Record<string, Live>>({});
  #items = $derived(this.#rows.filter((row) => !row.uploaded).map((row) => this.#view(row)));
  #session: Running | undefined;
  #subscription: { unsubscribe(): void } | undefined;
  /** Uploads running in this tab, by evidence id. */
  readonly #active = new Map<string, { control: AbortController; done: Promise<void> }>();
  /** Metadata and thumbnail work running in this tab. */
  #describing: { id: string; control: AbortController } | undefined;
  /** Files to leave alone for a while: another tab sends them. */
  readonly #sendLater = new Set<string>();
  /** Files whose description to leave for a while: another tab has it, or storing it failed. */
  readonly #describeLater = new Set<string>();
  readonly #samples = new Map<string, { at: number; sent: number }[]>();
  readonly #painted = new Map<string, number>();
  #listening = false;

  /** Files added on this device for a case that are not yet verified, oldest first. */
  itemsFor(caseId: string): UploadItem[] {
    return this.#items.filter((item) => item.caseId === caseId);
  }

  /** Overall progress of the files still to send (failed ones excluded). */
  totals(items: readonly UploadItem[]): UploadTotals {
    const going = items.filter((item) => item.phase !== 'failed');
    const size = going.reduce((sum, item) => sum + item.size, 0);
    const sent = going.reduce((sum, item) => sum + Math.min(item.sent, item.size), 0);
    const rate = going.reduce((sum, item) => sum + (item.rate ?? 0), 0);
    return {
      files: going.length,
      size,
      sent,
      rate,
      ...(rate > 0 ? { secondsLeft: (size - sent) / rate } : {}),
    };
  }

  /** Starts sending the signed-in user's queued files. */
  start(session: UploadSession): void {
    if (typeof window === 'undefined') return;
    this.stop();
    const transport = browserTransport();
    const db = localDb();
    this.#session = {
      ...session,
      db,
      client: new TusClient({ endpoint: '/api/uploads', transport, token: session.token }),
    };
    void db.uploadCheckpoints.toArray().then((checkpoints) => {
      for (const c of checkpoints) {
        if (c.hash && this.#live[c.evidenceId]?.sent === undefined) {
          this.#setLive(c.evidenceId, { sent: c.hash.offset });
        }
      }
    });
    this.#subscription = liveQuery(() => db.uploads.orderBy('addedAt').toArray()).subscribe({
      next: (rows) => {
        this.#rows = rows;
        this.#pump();
      },
      error: (err: unknown) => console.error('cannot read the upload queue', err),
    });
    if (!this.#listening) {
      this.#listening = true;
      window.addEventListener('online', () => {
        this.#sendLater.clear();
        this.#describeLater.clear();
        this.#pump();
      });
    }
  }

  /** Stops on sign-out; queued files stay on the device for when this user signs in again. */
  stop(): void {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    this.#session = undefined;
    for (const { control } of this.#active.values()) control.abort();
    this.#describing?.control.abort();
    this.#active.clear();
    this.#rows = [];
    this.#live = {};
    this.#sendLater.clear();
    this.#describeLater.clear();
  }

  /**
   * Records each file in its case at once and queues it, and resolves with their evidence ids.
   * Any type and any size: evidence is never refused for its format. `made` says what the files
   * were made from (a redacted copy names its original).
   */
  async add(
    caseId: string,
    files: readonly File[],
    made: Pick<EvidenceRecord, 'redactionOf'> = {},
  ): Promise<string[]> {
    const session = this.#require();
    const ids: string[] = [];
    await this.#inCase(caseId, async (doc) => {
      for (const file of files) {
        const evidenceId = newId();
        ids.push(evidenceId);
        const addedAt = new Date().toISOString();
        const type = file.type || 'application/octet-stream';
        addEvidence(doc, {
          id: evidenceId,
          name: file.name,
          type,
          size: file.size,
          addedAt,
          addedBy: session.user,
          state: 'queued',
          ...made,
        });
        try {
          await session.db.uploads.put({
            evidenceId,
            caseId,
            name: file.name,
            type,
            size: file.size,
            file,
            addedAt,
            status: 'queued',
            uploaded: 0,
            described: 0,
          });
        } catch (err) {
          // Most likely the device is out of space: say so in the case, where it shows.
          const reason = err instanceof Error ? err.message : String(err);
          setEvidenceState(
            doc,
            evidenceId,
            'failed',
            `This device could not keep the file: ${reason}`,
          );
          throw err;
        }
      }
    });
    return ids;
  }

  async pause(evidenceId: string): Promise<void> {
    const row = await this.#change(evidenceId, { status: 'paused' });
    if (!row) return;
    const running = this.#active.get(evidenceId);
    running?.control.abort();
    await running?.done;
    this.#setLive(evidenceId, { phase: 'paused', rate: undefined, message: undefined });
    await this.#inCase(row.caseId, (doc) => setEvidenceState(doc, evidenceId, 'queued'));
  }

  async resume(evidenceId: string): Promise<void> {
    await this.retry(evidenceId);
  }

  /** Sends a paused or failed file again, from where the server's copy stands. */
  async retry(evidenceId: string): Promise<void> {
    const row = await this.#change(evidenceId, { status: 'queued', error: undefined });
    if (!row) return;
    this.#sendLater.delete(evidenceId);
    this.#setLive(evidenceId, { phase: 'queued', message: undefined });
    await this.#inCase(row.caseId, (doc) => setEvidenceState(doc, evidenceId, 'queued'));
    this.#pump();
  }

  /** Stops a file for good: the server discards what it holds, the case no longer lists it. */
  async cancel(evidenceId: string): Promise<void> {
    const session = this.#require();
    const row = this.#rows.find((r) => r.evidenceId === evidenceId);
    if (!row) return;
    this.#rows = this.#rows.filter((r) => r.evidenceId !== evidenceId);
    const running = this.#active.get(evidenceId);
    running?.control.abort();
    if (this.#describing?.id === evidenceId) this.#describing.control.abort();
    // Let the upload settle first, or it could save a checkpoint after it was deleted.
    await running?.done;
    const checkpoint = await session.db.uploadCheckpoints.get(evidenceId);
    await session.db.transaction('rw', session.db.uploads, session.db.uploadCheckpoints, () =>
      Promise.all([
        session.db.uploads.delete(evidenceId),
        session.db.uploadCheckpoints.delete(evidenceId),
      ]),
    );
    this.#forgetLive(evidenceId);
    await this.#inCase(row.caseId, (doc) => removeEvidence(doc, evidenceId));
    // The server would expire it anyway; tell it now if it can be reached.
    if (checkpoint?.url) {
      await session.client.terminate(checkpoint.url).catch((err: unknown) => {
        console.warn('the cancelled upload could not be ended on the server', err);
      });
    }
  }

  #require() {
    if (!this.#session) throw new Error('no user is signed in on this device');
    return this.#session;
  }

  /** Changes a queued file's record here at once (so the queue sees it) and in IndexedDB. */
  async #change(
    evidenceId: string,
    change: Partial<Pick<QueuedUpload, 'status' | 'error'>>,
  ): Promise<QueuedUpload | undefined> {
    const session = this.#require();
    const changed = this.#changeHere(evidenceId, change);
    // Dexie deletes a property that an update sets to undefined.
    if (changed) await session.db.uploads.update(evidenceId, change);
    return changed;
  }

  /**
   * The queue as this tab knows it changes before IndexedDB says so, so that nothing is started
   * again from the old state in between.
   */
  #changeHere(
    evidenceId: string,
    change: Partial<Pick<QueuedUpload, 'status' | 'error' | 'uploaded' | 'sealed'>>,
  ): QueuedUpload | undefined {
    const row = this.#rows.find((r) => r.evidenceId === evidenceId);
    if (!row) return undefined;
    const changed: QueuedUpload = { ...row, ...change };
    if ('error' in change && change.error === undefined) delete changed.error;
    this.#rows = this.#rows.map((r) => (r.evidenceId === evidenceId ? changed : r));
    return changed;
  }

  #view(row: QueuedUpload): UploadItem {
    const live = this.#live[row.evidenceId] ?? {};
    const phase: UploadPhase =
      row.status === 'failed'
        ? 'failed'
        : row.status === 'paused'
          ? 'paused'
          : (live.phase ?? 'queued');
    const sent = live.sent ?? 0;
    const message = row.status === 'failed' ? row.error : live.message;
    const rate = phase === 'uploading' ? live.rate : undefined;
    return {
      evidenceId: row.evidenceId,
      caseId: row.caseId,
      name: row.name,
      size: row.size,
      phase,
      sent,
      ...(phase === 'sealing' && live.hashed !== undefined ? { hashed: live.hashed } : {}),
      ...(rate ? { rate, secondsLeft: Math.max(0, row.size - sent) / rate } : {}),
      ...(message ? { message } : {}),
    };
  }

  #setLive(evidenceId: string, change: Live): void {
    this.#live[evidenceId] = { ...this.#live[evidenceId], ...change };
  }

  #forgetLive(evidenceId: string): void {
    delete this.#live[evidenceId];
    this.#samples.delete(evidenceId);
    this.#painted.delete(evidenceId);
  }

  #progress(evidenceId: string, sent: number, size: number): void {
    const now = performance.now();
    const samples = this.#samples.get(evidenceId) ?? [];
    samples.push({ at: now, sent });
    while (samples.length > 2 && (samples[1]?.at ?? now) < now - RATE_WINDOW_MS) samples.shift();
    this.#samples.set(evidenceId, samples);
    if (now - (this.#painted.get(evidenceId) ?? 0) < PAINT_MS && sent < size) return;
    this.#painted.set(evidenceId, now);
    const first = samples[0];
    const seconds = first ? (now - first.at) / 1000 : 0;
    const rate = first && seconds > 0.5 ? Math.max(0, sent - first.sent) / seconds : undefined;
    this.#setLive(evidenceId, { phase: 'uploading', sent, rate, message: undefined });
  }

  /** Starts what may start: uploads up to the limit, and the metadata and thumbnail work. */
  #pump(): void {
    const session = this.#session;
    if (!session) return;
    for (const row of this.#rows) {
      if (this.#active.size >= CONCURRENCY) break;
      const id = row.evidenceId;
      if (
        row.status !== 'queued' ||
        row.uploaded ||
        this.#active.has(id) ||
        this.#sendLater.has(id)
      ) {
        continue;
      }
      const control = new AbortController();
      const done = this.#exclusively(`exhibit-upload:${id}`, this.#sendLater, () =>
        this.#upload(session, row, control.signal),
      )
        .catch((err: unknown) => console.error('upload failed unexpectedly', err))
        .finally(() => {
          if (this.#active.get(id)?.control === control) this.#active.delete(id);
          this.#pump();
        });
      this.#active.set(id, { control, done });
    }
    if (!this.#describing) void this.#describeNext(session);
  }

  /**
   * Runs `work` unless another tab of this browser is doing it already; that tab's file is then
   * looked at again later.
   */
  async #exclusively(lock: string, later: Set<string>, work: () => Promise<void>): Promise<void> {
    if (!navigator.locks) return work();
    const ran = await navigator.locks.request(lock, { ifAvailable: true }, async (held) => {
      if (!held) return false;
      await work();
      return true;
    });
    if (!ran) this.#deferForAWhile(later, lock.slice(lock.indexOf(':') + 1));
  }

  #deferForAWhile(later: Set<string>, evidenceId: string): void {
    later.add(evidenceId);
    setTimeout(() => {
      later.delete(evidenceId);
      this.#pump();
    }, RECHECK_MS);
  }

  async #upload(session: Running, row: QueuedUpload, signal: AbortSignal): Promise<void> {
    const { db, client } = session;
    const id = row.evidenceId;
    // The case says "uploading" only while bytes move, "queued" while the upload waits. The
    // writes go in order, the last of them before the verdict.
    let shown: EvidenceState | undefined;
    let written = Promise.resolve();
    const show = (state: 'queued' | 'uploading') => {
      if (shown === state) return;
      shown = state;
      written = written
        .then(() => this.#inCase(row.caseId, (doc) => setEvidenceState(doc, id, state)))
        .catch((err: unknown) => console.error('the evidence state could not be recorded', err));
    };
    const waiting = (message: string) => {
      show('queued');
      // The rate starts again from the next byte sent, not from before the wait.
      this.#samples.delete(id);
      this.#setLive(id, { phase: 'waiting', rate: undefined, message });
    };
    try {
      const sealed = row.sealed ?? (await this.#seal(session, row, signal));
      this.#setLive(id, { phase: 'uploading', message: undefined });
      const saved = (await db.uploadCheckpoints.get(id)) ?? { evidenceId: id };
      const { evidenceId: _, ...checkpoint } = saved;
      const result = await resumableUpload({
        client,
        file: row.file,
        metadata: {
          case: row.caseId,
          evidence: id,
          filename: row.name,
          filetype: row.type,
          // The server refuses a file whose digest is not the one sealed on this device.
          sha256: sealed.sha256,
        },
        checkpoint,
        saveCheckpoint: async (c) => {
          await db.uploadCheckpoints.put({ evidenceId: id, ...c });
        },
        onProgress: (sent) => {
          show('uploading');
          this.#progress(id, sent, row.size);
        },
        onWaiting: (reason, ms) =>
          waiting(
            navigator.onLine ? `${reason} Trying again in ${Math.round(ms / 1000)} s.` : OFFLINE,
          ),
        signal,
        online: (s) => {
          if (!navigator.onLine) waiting(OFFLINE);
          return whenOnline(s);
        },
        sleep: sleepUnlessOnline,
      });
      if (!result.serverSha256) {
        throw new FileMismatch(
          'The server stored the file but did not confirm its SHA-256, so it cannot be marked verified.',
        );
      }
      const { sha256, serverSha256 } = result;
      await written;
      await this.#inCase(row.caseId, (doc) =>
        doc.transact(() => {
          updateEvidence(doc, id, { sha256, serverSha256, verifiedAt: new Date().toISOString() });
          setEvidenceState(doc, id, 'verified');
        }),
      );
      this.#changeHere(id, { uploaded: 1 });
      await db.transaction('rw', db.uploads, db.uploadCheckpoints, async () => {
        await db.uploadCheckpoints.delete(id);
        await db.uploads.update(id, { uploaded: 1 });
      });
      this.#forgetLive(id);
      await this.#forgetIfDone(db, id);
    } catch (err) {
      await written;
      // Paused, cancelled or signed out: whoever stopped it has recorded why.
      if (signal.aborted) return;
      const message =
        err instanceof TusError
          ? err.message
          : `The upload stopped: ${err instanceof Error ? err.message : String(err)}`;
      if (!(err instanceof TusError)) console.error('upload failed', err);
      // The server discarded a file that did not match; a retry sends it from the first byte.
      if (err instanceof FileMismatch) await db.uploadCheckpoints.delete(id);
      this.#changeHere(id, { status: 'failed', error: message });
      await db.uploads.update(id, { status: 'failed', error: message });
      this.#setLive(id, { phase: 'failed', rate: undefined, message });
      await this.#inCase(row.caseId, (doc) => setEvidenceState(doc, id, 'failed', message));
    }
  }

  /**
   * Custody starts here: the whole file is hashed on this device and a custody record over that
   * digest (with what the file says about where and when it was recorded) is signed with this
   * device's key and kept in its log, before a byte is sent. Offline too.
   */
  async #seal(
    session: Running,
    row: QueuedUpload,
    signal: AbortSignal,
  ): Promise<NonNullable<QueuedUpload['sealed']>> {
    const id = row.evidenceId;
    this.#setLive(id, { phase: 'sealing', hashed: 0, rate: undefined, message: SEALING });
    const hash = await ResumableHash.create();
    let painted = 0;
    while (hash.offset < row.size) {
      signal.throwIfAborted();
      const end = Math.min(row.size, hash.offset + SEAL_SLICE);
      hash.update(await readBytes(row.file, hash.offset, end));
      if (performance.now() - painted > PAINT_MS) {
        painted = performance.now();
        this.#setLive(id, { hashed: end });
      }
    }
    const sha256 = hash.hex();
    const said = await readMediaMetadata(row.file, { signal }).catch(() => undefined);
    const file = row.file instanceof File ? row.file : undefined;
    const details: CustodyRecordDetails = {
      sha256,
      size: row.size,
      name: row.name.slice(0, 1024),
      type: row.type.slice(0, 255),
      source: 'file',
      ...(file?.lastModified ? { lastModified: new Date(file.lastModified).toISOString() } : {}),
      ...(said?.capturedAt ? { capturedAt: said.capturedAt.slice(0, 40) } : {}),
      ...(said?.camera ? { camera: said.camera.slice(0, 200) } : {}),
      ...(said?.location ? { location: { ...said.location, source: 'file' as const } } : {}),
    };
    signal.throwIfAborted();
    const entry = await custodyManager.record({
      action: 'evidence.added',
      case: row.caseId,
      evidence: id,
      details: { ...details },
    });
    const sealed = { sha256, deviceId: entry.device, seq: entry.seq };
    this.#changeHere(id, { sealed });
    await session.db.uploads.update(id, { sealed });
    await this.#inCase(row.caseId, (doc) => updateEvidence(doc, id, { sha256 }));
    this.#setLive(id, { hashed: undefined });
    return sealed;
  }

  /** Reads metadata and makes and stores a thumbnail, one file at a time, beside the uploads. */
  async #describeNext(session: Running): Promise<void> {
    const control = new AbortController();
    this.#describing = { id: '', control };
    // Read from IndexedDB, not the queue as last seen: the last file described may not show
    // as described there yet.
    const row = await session.db.uploads
      .orderBy('addedAt')
      .filter(
        (r) =>
          (r.described === 0 || r.thumbnail !== undefined) &&
          !this.#describeLater.has(r.evidenceId),
      )
      .first();
    if (!row || this.#session !== session || control.signal.aborted) {
      this.#describing = undefined;
      return;
    }
    this.#describing = { id: row.evidenceId, control };
    try {
      await this.#exclusively(`exhibit-describe:${row.evidenceId}`, this.#describeLater, () =>
        this.#describe(session, row, control.signal),
      );
    } catch (err) {
      if (!control.signal.aborted) {
        if (isTransient(err)) this.#deferForAWhile(this.#describeLater, row.evidenceId);
        else {
          // A thumbnail is a convenience: one the server refuses is dropped, the file is not.
          console.warn('the thumbnail could not be stored', err);
          await session.db.uploads.update(row.evidenceId, { thumbnail: undefined });
          await this.#forgetIfDone(session.db, row.evidenceId);
        }
      }
    } finally {
      this.#describing = undefined;
      // From the event loop, so the queue's new state is read, not this one.
      setTimeout(() => this.#pump(), 0);
    }
  }

  async #describe(session: Running, row: QueuedUpload, signal: AbortSignal): Promise<void> {
    const { db } = session;
    const id = row.evidenceId;
    let thumbnail = row.thumbnail;
    if (!row.described) {
      const metadata = await readMediaMetadata(row.file, { signal });
      if (Object.keys(metadata).length > 0) {
        await this.#inCase(row.caseId, (doc) => updateEvidence(doc, id, { metadata }));
      }
      thumbnail = await makeThumbnail(row.file, { signal }).catch((err: unknown) => {
        if (signal.aborted) throw err;
        console.warn('no thumbnail could be made', err);
        return undefined;
      });
      await db.uploads.update(id, { described: 1, ...(thumbnail ? { thumbnail } : {}) });
    }
    if (thumbnail) {
      if (!navigator.onLine) throw new ServerUnavailable('Offline.');
      const digest = await storeThumbnail({
        caseId: row.caseId,
        jpeg: thumbnail,
        transport: browserTransport(),
        token: session.token,
        signal,
      });
      await this.#inCase(row.caseId, (doc) => updateEvidence(doc, id, { thumbnail: digest }));
      await db.uploads.update(id, { thumbnail: undefined });
    }
    await this.#forgetIfDone(db, id);
  }

  /** A file verified, described and with its thumbnail stored needs nothing more from here. */
  async #forgetIfDone(db: LocalDb, evidenceId: string): Promise<void> {
    await db.transaction('rw', db.uploads, async () => {
      const row = await db.uploads.get(evidenceId);
      if (row?.uploaded && row.described && !row.thumbnail) await db.uploads.delete(evidenceId);
    });
  }

  /** Changes a case document, opening it for the moment if no one has it open. */
  async #inCase(caseId: string, change: (doc: Y.Doc) => void | Promise<void>): Promise<void> {
    const handle = syncManager.open(encodeDocName({ kind: 'case', id: caseId }));
    try {
      await handle.ready;
      await change(handle.doc);
    } finally {
      syncManager.release(handle);
    }
  }
}

export const uploadManager = new UploadManager();
