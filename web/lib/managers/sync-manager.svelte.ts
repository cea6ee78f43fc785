import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import { liveQuery } from 'dexie';
import { localDb } from '$lib/db/local-db';
import { onSaved, stateVectorCovers } from '$lib/shared/sync-protocol';
import { decodeDocName } from '$lib/shared/doc-names';
import { isInitialised, readCaseSummary } from '$lib/shared/case-doc';

/** Where this device's copy of a document stands relative to the server. */
export type DocSyncState = 'loading' | 'local' | 'saving' | 'saved';

const FLUSH_CONCURRENCY = 4;

/**
 * One document open on this device: the copy in IndexedDB, kept in step with the server over the
 * sync socket whenever it can be reached. Changes are always written locally first.
 */
export class DocHandle {
  readonly name: string;
  readonly doc = new Y.Doc();
  /** Resolves when the device's stored copy is loaded; read nothing before. */
  readonly ready: Promise<void>;
  #state = $state<DocSyncState>('loading');
  #connected = $state(false);
  #closeReason = $state<string | undefined>(undefined);
  #stored: Uint8Array | undefined;
  readonly #local: IndexeddbPersistence;
  readonly #provider: WebsocketProvider;
  #summaryTimer: ReturnType<typeof setTimeout> | undefined;
  #loaded = false;

  constructor(name: string, serverUrl: string) {
    this.name = name;
    this.#local = new IndexeddbPersistence(`exhibit-doc:${name}`, this.doc);
    this.#provider = new WebsocketProvider(serverUrl, name, this.doc, { connect: false });
    onSaved(this.#provider, (sv) => {
      this.#stored = sv;
      this.#refresh();
    });
    this.#provider.on('status', ({ status }: { status: string }) => {
      this.#connected = status === 'connected';
      if (!this.#connected) this.#stored = undefined;
      this.#refresh();
    });
    this.#provider.on('connection-close', (event: CloseEvent | null) => {
      if (event && event.code >= 4400 && event.code < 4500) this.#closeReason = event.reason;
    });
    this.doc.on('update', (_update: Uint8Array, origin: unknown) => {
      if (origin !== this.#provider && origin !== this.#local) void this.#markPending();
      this.#scheduleSummary();
      this.#refresh();
    });
    this.ready = this.#local.whenSynced.then(() => {
      this.#loaded = true;
      this.#refresh();
      this.#provider.connect();
    });
  }

  get state(): DocSyncState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Why the server refused this document for good, if it did. */
  get refusal(): string | undefined {
    return this.#closeReason;
  }

  /** Resolves when the server has stored everything this device holds of the document. */
  whenSaved(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#state !== 'saved') return;
        cleanup();
        resolve();
      };
      const abort = () => {
        cleanup();
        reject(new DOMException('aborted', 'AbortError'));
      };
      const cleanup = () => {
        this.doc.off('update', check);
        clearInterval(timer);
        signal?.removeEventListener('abort', abort);
      };
      const timer = setInterval(check, 100);
      this.doc.on('update', check);
      signal?.addEventListener('abort', abort);
      check();
    });
  }

  #refresh(): void {
    if (!this.#loaded) return;
    const covered =
      this.#stored !== undefined && stateVectorCovers(this.#stored, Y.encodeStateVector(this.doc));
    this.#state = covered ? 'saved' : this.#connected ? 'saving' : 'local';
    if (covered) void this.#markSaved();
  }

  async #markPending(): Promise<void> {
    await localDb.documents
      .update(this.name, { pending: 1, touchedAt: new Date().toISOString() })
      .then((n) =>
        n === 0
          ? localDb.documents.put({ name: this.name, pending: 1, touchedAt: new Date().toISOString() })
          : undefined,
      );
  }

  async #markSaved(): Promise<void> {
    await localDb.documents.update(this.name, { pending: 0 });
  }

  /** Keeps a summary of case documents in Dexie so the case list works without opening them. */
  #scheduleSummary(): void {
    if (!this.name.startsWith('case.')) return;
    clearTimeout(this.#summaryTimer);
    this.#summaryTimer = setTimeout(() => {
      if (!isInitialised(this.doc)) return;
      const parsed = decodeDocName(this.name);
      const summary = { ...readCaseSummary(this.doc), id: parsed.kind === 'case' ? parsed.id : '' };
      void localDb.documents.update(this.name, { summary });
    }, 100);
  }

  destroy(): void {
    clearTimeout(this.#summaryTimer);
    this.#provider.destroy();
    void this.#local.destroy();
    this.doc.destroy();
  }
}

/**
 * The documents this device has open, and the background work that sends what was written
 * offline once the server is reachable again.
 */
class SyncManager {
  #online = $state(true);
  #pending = $state<string[]>([]);
  readonly #open = new Map<string, { handle: DocHandle; holders: number }>();
  readonly #flushing = new Set<string>();
  #started = false;

  get online(): boolean {
    return this.#online;
  }

  /** Names of documents holding changes the server has not confirmed. */
  get pending(): readonly string[] {
    return this.#pending;
  }

  start(): void {
    if (this.#started || typeof window === 'undefined') return;
    this.#started = true;
    this.#online = navigator.onLine;
    window.addEventListener('online', () => {
      this.#online = true;
      this.#flush();
    });
    window.addEventListener('offline', () => (this.#online = false));
    liveQuery(() => localDb.documents.where('pending').equals(1).primaryKeys()).subscribe({
      next: (names) => {
        this.#pending = names;
        this.#flush();
      },
      error: (err: unknown) => console.error('cannot read the pending documents', err),
    });
  }

  /** Opens (or shares) a document; every `open` needs a matching `release`. */
  open(name: string): DocHandle {
    const entry = this.#open.get(name);
    if (entry) {
      entry.holders++;
      return entry.handle;
    }
    const handle = new DocHandle(name, syncUrl());
    this.#open.set(name, { handle, holders: 1 });
    return handle;
  }

  release(handle: DocHandle): void {
    const entry = this.#open.get(handle.name);
    if (!entry || entry.handle !== handle) return;
    entry.holders--;
    if (entry.holders > 0) return;
    this.#open.delete(handle.name);
    handle.destroy();
  }

  /** Connects documents with unsent changes, a few at a time, until the server has them all. */
  #flush(): void {
    if (!this.#online) return;
    for (const name of this.#pending) {
      if (this.#flushing.size >= FLUSH_CONCURRENCY) return;
      if (this.#flushing.has(name)) continue;
      this.#flushing.add(name);
      const handle = this.open(name);
      const timeout = AbortSignal.timeout(60_000);
      handle
        .whenSaved(timeout)
        .catch(() => undefined)
        .finally(() => {
          this.release(handle);
          this.#flushing.delete(name);
          this.#flush();
        });
    }
  }
}

function syncUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/sync`;
}

export const syncManager = new SyncManager();
