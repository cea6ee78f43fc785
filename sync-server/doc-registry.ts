import { LiveDoc } from './live-doc.ts';
import type { DocStore } from './doc-store.ts';
import type { Logger } from './logger.ts';

interface Entry {
  /** Resolves when the stored updates are loaded; no peer is answered before that. */
  ready: Promise<LiveDoc>;
  /** Set once loaded, so that a release can tell this copy from a later one of the same name. */
  live?: LiveDoc;
  holders: number;
}

/**
 * The documents held in memory. A document is loaded from storage on first use, shared by every
 * peer that holds it, and stored, merged and dropped from memory when the last one lets go.
 */
export class DocRegistry {
  readonly #entries = new Map<string, Entry>();
  /** Unloads in progress; a new load of the same name waits for them to finish writing. */
  readonly #unloading = new Map<string, Promise<void>>();
  readonly #store: DocStore;
  readonly #log: Logger;
  readonly #onStored: (live: LiveDoc) => void;

  constructor(options: { store: DocStore; log: Logger; onStored: (live: LiveDoc) => void }) {
    this.#store = options.store;
    this.#log = options.log;
    this.#onStored = options.onStored;
  }

  get loadedCount(): number {
    return this.#entries.size;
  }

  /** Takes a hold on the document, loading it first when needed. Pair with `release`. */
  acquire(name: string): Promise<LiveDoc> {
    let entry = this.#entries.get(name);
    if (!entry) {
      const ready = this.#load(name);
      const created: Entry = { ready, holders: 0 };
      entry = created;
      this.#entries.set(name, created);
      ready.then(
        (live) => {
          created.live = live;
        },
        () => {
          if (this.#entries.get(name) === created) this.#entries.delete(name);
        },
      );
    }
    entry.holders++;
    return entry.ready;
  }

  async #load(name: string): Promise<LiveDoc> {
    await this.#unloading.get(name);
    const updates = await this.#store.load(name);
    return new LiveDoc({
      name,
      updates,
      store: this.#store,
      log: this.#log,
      onStored: this.#onStored,
      onFailure: (live) => this.#forget(name, live),
    });
  }

  /** After a storage failure the next peer must get a fresh copy from storage. */
  #forget(name: string, live: LiveDoc): void {
    const entry = this.#entries.get(name);
    if (!entry || entry.live !== live) return;
    this.#entries.delete(name);
    const done = live.settled().then(() => live.destroy());
    this.#unloading.set(name, done);
    void done.finally(() => {
      if (this.#unloading.get(name) === done) this.#unloading.delete(name);
    });
  }

  /** Lets go of the copy `live` of the document; a copy already dropped after a failure is ignored. */
  release(name: string, live: LiveDoc): void {
    const entry = this.#entries.get(name);
    if (!entry || entry.live !== live) return;
    entry.holders--;
    if (entry.holders > 0) return;
    this.#entries.delete(name);
    const done = (async () => {
      await live.settled();
      if (!live.failed) {
        await this.#store.compact(name).catch((err: unknown) => {
          this.#log.warn('sync.compact_failed', { doc: name, error: String(err) });
        });
      }
      live.destroy();
    })();
    this.#unloading.set(name, done);
    void done.finally(() => {
      if (this.#unloading.get(name) === done) this.#unloading.delete(name);
    });
  }

  /** Waits for every write in flight and every unload to finish. */
  async drain(): Promise<void> {
    const live = await Promise.allSettled([...this.#entries.values()].map((e) => e.ready));
    await Promise.all(
      live.map((r) => (r.status === 'fulfilled' ? r.value.settled() : Promise.resolve())),
    );
    await Promise.all([...this.#unloading.values()]);
  }
}
