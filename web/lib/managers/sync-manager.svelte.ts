import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import { liveQuery } from 'dexie';
import { localDb } from '$lib/db/local-db';
import { CloseCode, onSaved, stateVectorCovers } from '$lib/shared/sync-protocol';
import { decodeDocName } from '$lib/shared/doc-names';
import { isInitialised, readCaseSummary, type CaseSummary } from '$lib/shared/case-doc';

/** Who a document is open for, and how to renew their sign-in when the server asks. */
export interface DocOwner {
  userId: string;
  onReach: (reached: boolean) => void;
  reauthenticate: () => Promise<boolean>;
}

/** Where this device's copy of a document stands relative to the server. */
export type DocSyncState = 'loading' | 'local' | 'saving' | 'saved';

const FLUSH_CONCURRENCY = 4;
const FLUSH_TIMEOUT_MS = 60_000;
/** Pause before a document is tried again, so its saved state can reach Dexie first. */
const FLUSH_RETRY_MS = 1000;

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
  /** The server admitted this connection and answered; an open socket alone is not that. */
  #synced = $state(false);
  #closeReason = $state<string | undefined>(undefined);
  #stored: Uint8Array | undefined;
  readonly #local: IndexeddbPersistence;
  readonly #provider: WebsocketProvider;
  #summaryTimer: ReturnType<typeof setTimeout> | undefined;
  #loaded = false;
  #destroyed = false;
  #closedByServer = false;

  constructor(name: string, serverUrl: string, owner: DocOwner) {
    const onReach = owner.onReach;
    this.name = name;
    // Each user's copy lives in a database of its own, never shown to another user.
    this.#local = new IndexeddbPersistence(`exhibit:${owner.userId}:${name}`, this.doc);
    this.#provider = new WebsocketProvider(serverUrl, name, this.doc, { connect: false });
    onSaved(this.#provider, (sv) => {
      this.#stored = sv;
      this.#refresh();
    });
    this.#provider.on('sync', (synced: boolean) => {
      this.#synced = synced;
    });
    this.#provider.on('status', ({ status }: { status: string }) => {
      this.#connected = status === 'connected';
      if (!this.#connected) this.#synced = false;
      // A closed document says nothing about the server; only live connection attempts do,
      // and a close the server chose (codes 4000+) means it was reached.
      if (status !== 'connecting' && !this.#destroyed) {
        onReach(this.#connected || this.#closedByServer);
      }
      this.#closedByServer = false;
      if (!this.#connected) this.#stored = undefined;
      this.#refresh();
    });
    this.#provider.on('connection-close', (event: CloseEvent | null) => {
      if (!event) return;
      this.#closedByServer = event.code >= 4000;
      if (event.code === CloseCode.forbidden) {
        // Access was refused or taken away: say so, and keep no copy of the case on the device.
        this.#closeReason = event.reason;
        void this.#forget();
      } else if (event.code === CloseCode.unauthenticated) {
        // The sign-in ran out or ended: renew it, then try again; nothing was accepted meanwhile.
        void owner.reauthenticate().then((renewed) => {
          if (renewed && !this.#destroyed) this.#provider.connect();
        });
      } else if (event.code >= 4400 && event.code < 4500) {
        this.#closeReason = event.reason;
      }
    });
    this.doc.on('update', (_update: Uint8Array, origin: unknown) => {
      const local = origin !== this.#provider && origin !== this.#local;
      if (local) void this.#record(true);
      else if (this.#loaded) this.#scheduleSummary();
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

  /** True once the server has admitted this device to the document and sent its state. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Who else has this document open and what they are looking at (relayed, never stored). */
  get awareness(): WebsocketProvider['awareness'] {
    return this.#provider.awareness;
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

  /**
   * Records the document on this device: whether it holds changes the server has not confirmed,
   * and for cases the summary the case list shows offline. One transaction, so two writers never
   * drop each other's fields.
   */
  async #record(markPending: boolean): Promise<void> {
    const summary = this.#summary();
    const touchedAt = new Date().toISOString(); // eslint-disable-line svelte/prefer-svelte-reactivity -- a timestamp, not state
    await localDb().transaction('rw', localDb().documents, async () => {
      const existing = await localDb().documents.get(this.name);
      const kept = summary ?? existing?.summary;
      await localDb().documents.put({
        name: this.name,
        pending: markPending ? 1 : (existing?.pending ?? 0),
        touchedAt,
        ...(kept ? { summary: kept } : {}),
      });
    });
  }

  async #forget(): Promise<void> {
    await this.#local.clearData().catch(() => undefined);
    await localDb()
      .documents.delete(this.name)
      .catch(() => undefined);
  }

  async #markSaved(): Promise<void> {
    await localDb().documents.update(this.name, { pending: 0 });
  }

  #summary(): CaseSummary | undefined {
    const parsed = decodeDocName(this.name);
    if (parsed.kind !== 'case' || !isInitialised(this.doc)) return undefined;
    return { ...readCaseSummary(this.doc), id: parsed.id };
  }

  /** Remote changes refresh the stored summary too, a little later and once per burst. */
  #scheduleSummary(): void {
    if (this.#summaryTimer !== undefined) return;
    this.#summaryTimer = setTimeout(() => {
      this.#summaryTimer = undefined;
      void this.#record(false);
    }, 200);
  }

  destroy(): void {
    this.#destroyed = true;
    if (this.#summaryTimer !== undefined) {
      clearTimeout(this.#summaryTimer);
      void this.#record(false);
    }
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
  /** Whether the last connection attempt reached the sync server; unknown before the first. */
  #reachable = $state<boolean | undefined>(undefined);
  #pending = $state<string[]>([]);
  readonly #open = new Map<string, { handle: DocHandle; holders: number }>();
  readonly #flushing = new Set<string>();
  #user: { userId: string; reauthenticate: () => Promise<boolean> } | undefined;
  #subscription: { unsubscribe(): void } | undefined;
  #listening = false;

  get online(): boolean {
    return this.#online;
  }

  get serverReachable(): boolean | undefined {
    return this.#reachable;
  }

  /** Names of documents holding changes the server has not confirmed. */
  get pending(): readonly string[] {
    return this.#pending;
  }

  /** Starts syncing for a signed-in user (or one working offline on their last session). */
  start(userId: string, reauthenticate: () => Promise<boolean>): void {
    if (typeof window === 'undefined' || this.#user?.userId === userId) return;
    this.stop();
    this.#user = { userId, reauthenticate };
    this.#online = navigator.onLine;
    if (!this.#listening) {
      this.#listening = true;
      window.addEventListener('online', () => {
        this.#online = true;
        this.#flush();
      });
      window.addEventListener('offline', () => (this.#online = false));
    }
    this.#subscription = liveQuery(() =>
      localDb().documents.where('pending').equals(1).primaryKeys(),
    ).subscribe({
      next: (names) => {
        this.#pending = names;
        this.#flush();
      },
      error: (err: unknown) => console.error('cannot read the pending documents', err),
    });
  }

  /** Closes every document, e.g. on sign-out; what they hold stays on the device. */
  stop(): void {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    for (const { handle } of this.#open.values()) handle.destroy();
    this.#open.clear();
    this.#flushing.clear();
    this.#pending = [];
    this.#user = undefined;
  }

  /** Opens (or shares) a document; every `open` needs a matching `release`. */
  open(name: string): DocHandle {
    const user = this.#user;
    if (!user) throw new Error('no user is signed in on this device');
    const entry = this.#open.get(name);
    if (entry) {
      entry.holders++;
      return entry.handle;
    }
    const handle = new DocHandle(name, syncUrl(), {
      userId: user.userId,
      onReach: (reached) => (this.#reachable = reached),
      reauthenticate: user.reauthenticate,
    });
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

  /**
   * Connects documents with unsent changes, a few at a time, until the server has them all.
   * Re-runs only from the event loop (a timer or the pending list changing), never straight
   * from a settled promise: a document that is already saved resolves at once, and looping on
   * that would starve the page.
   */
  #flush(): void {
    if (!this.#online) return;
    for (const name of this.#pending) {
      if (this.#flushing.size >= FLUSH_CONCURRENCY) return;
      if (this.#flushing.has(name)) continue;
      this.#flushing.add(name);
      const handle = this.open(name);
      handle
        .whenSaved(AbortSignal.timeout(FLUSH_TIMEOUT_MS))
        .catch(() => undefined)
        .finally(() => {
          this.release(handle);
          setTimeout(() => {
            this.#flushing.delete(name);
            this.#flush();
          }, FLUSH_RETRY_MS);
        });
    }
  }
}

function syncUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/sync`;
}

export const syncManager = new SyncManager();
