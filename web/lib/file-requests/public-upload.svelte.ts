import Dexie, { type EntityTable } from 'dexie';
import type { SubmissionInput, SubmissionView } from '$lib/shared/file-requests';
import { fetchReceipt, startSubmission } from '$lib/services/public-request.service';
import { browserTransport } from '$lib/upload/browser-transport';
import { resumableUpload, type UploadCheckpoint } from '$lib/upload/resumable-upload';
import { TusClient, TusError } from '$lib/upload/tus-client';
import { sleepUnlessOnline, whenOnline } from '$lib/utils/online';

/** A sender's session on this phone: kept so a reload or a locked screen loses nothing. */
interface SessionRow {
  code: string;
  token: string;
  submission: SubmissionView;
}

interface FileRow {
  id: string;
  code: string;
  file: Blob;
  name: string;
  type: string;
  size: number;
  /** Milliseconds since 1970, for the order files were chosen in. */
  addedAt: number;
  state: 'queued' | 'verified' | 'failed';
  sha256?: string;
  error?: string;
  checkpoint: UploadCheckpoint;
}

class PublicDb extends Dexie {
  sessions!: EntityTable<SessionRow, 'code'>;
  files!: EntityTable<FileRow, 'id'>;
  constructor() {
    super('exhibit-public');
    this.version(1).stores({ sessions: 'code', files: 'id, code, addedAt' });
  }
}

export interface PublicFileView {
  id: string;
  name: string;
  size: number;
  sent: number;
  state: 'queued' | 'sending' | 'waiting' | 'verified' | 'failed';
  sha256?: string;
  message?: string;
}

const OFFLINE = 'No connection. Sending goes on by itself when the phone is back online.';

/**
 * What one person sends through one file request, from this browser: their session, their files
 * (kept in IndexedDB until the server verified them), one upload at a time with tus, resumed from
 * the server's offset after a lost signal, a locked phone or a reload.
 */
export class PublicUpload {
  readonly code: string;
  session = $state<SessionRow | undefined>(undefined);
  #rows = $state<FileRow[]>([]);
  #live = $state<Record<string, { sent?: number; waiting?: string; sending?: boolean }>>({});
  #db: PublicDb | undefined;
  #running: AbortController | undefined;
  #stopped = false;

  constructor(code: string) {
    this.code = code;
  }

  get files(): PublicFileView[] {
    return this.#rows.map((row) => {
      const live = this.#live[row.id] ?? {};
      const state =
        row.state === 'queued'
          ? live.waiting
            ? 'waiting'
            : live.sending
              ? 'sending'
              : 'queued'
          : row.state;
      const message = row.state === 'failed' ? row.error : live.waiting;
      return {
        id: row.id,
        name: row.name,
        size: row.size,
        sent: row.state === 'verified' ? row.size : (live.sent ?? row.checkpoint.hash?.offset ?? 0),
        state,
        ...(row.sha256 ? { sha256: row.sha256 } : {}),
        ...(message ? { message } : {}),
      };
    });
  }

  /** Every file is on the server and verified. */
  get done(): boolean {
    return this.#rows.length > 0 && this.#rows.every((r) => r.state === 'verified');
  }

  /** Picks up where this browser left off with this request, if anywhere. */
  async restore(): Promise<void> {
    const db = this.#open();
    this.session = await db.sessions.get(this.code);
    this.#rows = await db.files.where('code').equals(this.code).sortBy('addedAt');
    window.addEventListener('online', this.#onOnline);
    this.#pump();
  }

  stop(): void {
    this.#stopped = true;
    this.#running?.abort();
    window.removeEventListener('online', this.#onOnline);
    this.#db?.close();
  }

  async begin(input: SubmissionInput): Promise<void> {
    const started = await startSubmission(this.code, input);
    const session = { code: this.code, token: started.token, submission: started.submission };
    await this.#open().sessions.put(session);
    this.session = session;
  }

  async add(files: readonly File[]): Promise<void> {
    const rows: FileRow[] = files.map((file, i) => ({
      id: crypto.randomUUID(),
      code: this.code,
      file,
      name: file.name || `file-${i + 1}`,
      type: file.type || 'application/octet-stream',
      size: file.size,
      addedAt: Date.now() + i,
      state: 'queued',
      checkpoint: {},
    }));
    await this.#open().files.bulkPut(rows);
    this.#rows = [...this.#rows, ...rows];
    this.#pump();
  }

  async retry(id: string): Promise<void> {
    await this.#update(id, { state: 'queued', error: undefined });
    this.#pump();
  }

  /** Takes a file off the list that has not been verified yet; the server forgets its bytes. */
  async remove(id: string): Promise<void> {
    const row = this.#rows.find((r) => r.id === id);
    if (!row || row.state === 'verified') return;
    if (this.#running && this.#live[id]?.sending) this.#running.abort();
    this.#rows = this.#rows.filter((r) => r.id !== id);
    await this.#open().files.delete(id);
    if (row.checkpoint.url)
      await this.#client()
        .terminate(row.checkpoint.url)
        .catch(() => undefined);
    this.#pump();
  }

  receipt(): Promise<SubmissionView> {
    if (!this.session) throw new Error('nothing was sent yet');
    return fetchReceipt(this.session.token);
  }

  /** Forgets this submission on this phone (the server keeps everything it received). */
  async forget(): Promise<void> {
    this.#running?.abort();
    const db = this.#open();
    await db.files.where('code').equals(this.code).delete();
    await db.sessions.delete(this.code);
    this.#rows = [];
    this.session = undefined;
  }

  readonly #onOnline = () => this.#pump();

  #open(): PublicDb {
    this.#db ??= new PublicDb();
    return this.#db;
  }

  #client(): TusClient {
    const token = this.session?.token;
    return new TusClient({
      endpoint: '/api/public/uploads',
      transport: browserTransport(),
      token: async () => token,
    });
  }

  async #update(id: string, change: Partial<FileRow>): Promise<void> {
    this.#rows = this.#rows.map((r) => (r.id === id ? { ...r, ...change } : r));
    await this.#open().files.update(id, change);
  }

  /** One file at a time: a phone's upload bandwidth is not shared better by sending two. */
  #pump(): void {
    if (this.#running || this.#stopped || !this.session) return;
    const next = this.#rows.find((r) => r.state === 'queued');
    if (!next) return;
    const control = new AbortController();
    this.#running = control;
    void this.#send(next, control.signal).finally(() => {
      this.#running = undefined;
      if (!control.signal.aborted || !this.#stopped) this.#pump();
    });
  }

  async #send(row: FileRow, signal: AbortSignal): Promise<void> {
    const id = row.id;
    this.#live[id] = { sending: true, sent: row.checkpoint.hash?.offset ?? 0 };
    try {
      const result = await resumableUpload({
        client: this.#client(),
        file: row.file,
        metadata: { filename: row.name, filetype: row.type },
        checkpoint: row.checkpoint,
        saveCheckpoint: async (checkpoint) => {
          await this.#update(id, { checkpoint });
        },
        onProgress: (sent) => {
          this.#live[id] = { sending: true, sent };
        },
        onWaiting: (reason, ms) => {
          this.#live[id] = {
            ...this.#live[id],
            waiting: navigator.onLine
              ? `${reason} Trying again in ${Math.round(ms / 1000)} s.`
              : OFFLINE,
          };
        },
        online: (s) => {
          if (!navigator.onLine) this.#live[id] = { ...this.#live[id], waiting: OFFLINE };
          return whenOnline(s);
        },
        sleep: sleepUnlessOnline,
        signal,
      });
      await this.#update(id, {
        state: 'verified',
        sha256: result.serverSha256 ?? result.sha256,
        file: new Blob([]),
      });
    } catch (err) {
      if (signal.aborted) return;
      const message =
        err instanceof TusError
          ? err.message
          : `Sending stopped: ${err instanceof Error ? err.message : String(err)}`;
      await this.#update(id, { state: 'failed', error: message });
    } finally {
      delete this.#live[id];
    }
  }
}
