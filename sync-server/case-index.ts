import * as Y from 'yjs';
import {
  getCaseIndex,
  isInitialised,
  readCaseSummary,
  sameSummary,
  type CaseSummary,
} from '../web/lib/shared/case-doc.ts';
import { decodeDocName, encodeDocName } from '../web/lib/shared/doc-names.ts';
import type { DocRegistry } from './doc-registry.ts';
import type { DocStore } from './doc-store.ts';
import type { LiveDoc } from './live-doc.ts';
import type { Logger } from './logger.ts';

const INDEX_DOC = encodeDocName({ kind: 'cases' });
/** Marker on each case document: the newest update of it that the index reflects. */
const INDEXED_SEQ = 'indexed-seq';
const DEBOUNCE_MS = 50;
const MAX_TITLE = 200;
const MAX_TAGS = 50;
const MAX_TAG = 64;

/** Clients write case documents; the index every client reads holds only bounded summaries. */
function bounded(summary: CaseSummary): CaseSummary {
  return {
    ...summary,
    title: summary.title.slice(0, MAX_TITLE),
    tags: summary.tags.slice(0, MAX_TAGS).map((t) => t.slice(0, MAX_TAG)),
    createdAt: summary.createdAt.slice(0, 40),
    updatedAt: summary.updatedAt.slice(0, 40),
  };
}

/**
 * Keeps the server-owned `cases` document in step with the case documents: one summary per case,
 * written after the case's own update is stored. Case documents record which of their updates the
 * index has seen, so a crash between the two writes is repaired at the next start.
 */
export class CaseIndex {
  readonly #registry: DocRegistry;
  readonly #store: DocStore;
  readonly #log: Logger;
  #index: LiveDoc | undefined;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #work: Promise<void> = Promise.resolve();

  constructor(options: { registry: DocRegistry; store: DocStore; log: Logger }) {
    this.#registry = options.registry;
    this.#store = options.store;
    this.#log = options.log;
  }

  /** Loads the index and holds it for the server's lifetime, then repairs entries left stale. */
  async start(): Promise<void> {
    this.#index = await this.#registry.acquire(INDEX_DOC);
    await this.#reconcile();
  }

  /** Called after a document's updates are stored. */
  noteStored(live: LiveDoc): void {
    if (live.name === INDEX_DOC || !this.#index) return;
    clearTimeout(this.#timers.get(live.name));
    this.#timers.set(
      live.name,
      setTimeout(() => {
        this.#timers.delete(live.name);
        this.#enqueue(() => this.#refresh(live.name, live.doc));
      }, DEBOUNCE_MS),
    );
  }

  #enqueue(work: () => Promise<void>): void {
    this.#work = this.#work.then(work).catch((err: unknown) => {
      this.#log.error('sync.index_failed', { error: String(err) });
    });
  }

  async #refresh(name: string, doc: Y.Doc): Promise<void> {
    const index = this.#index;
    const parsed = decodeDocName(name);
    if (!index || parsed.kind !== 'case' || !isInitialised(doc)) return;
    const seq = await this.#store.lastSeq(name);
    const summary = bounded({ ...readCaseSummary(doc), id: parsed.id });
    const entries = getCaseIndex(index.doc);
    if (!sameSummary(entries.get(parsed.id), summary)) {
      index.doc.transact(() => entries.set(parsed.id, summary), this);
      await index.settled();
      if (index.failed) throw new Error('the case index could not be stored');
    }
    await this.#store.setMarker(name, INDEXED_SEQ, seq);
  }

  async #reconcile(): Promise<void> {
    let repaired = 0;
    for await (const name of this.#store.names()) {
      if (!name.startsWith('case.')) continue;
      const [seq, indexed] = await Promise.all([
        this.#store.lastSeq(name),
        this.#store.getMarker(name, INDEXED_SEQ),
      ]);
      if (indexed !== undefined && indexed >= seq) continue;
      const doc = new Y.Doc();
      for (const update of await this.#store.load(name)) Y.applyUpdate(doc, update);
      await this.#refresh(name, doc);
      doc.destroy();
      repaired++;
    }
    if (repaired > 0) this.#log.info('sync.index_repaired', { cases: repaired });
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#work;
    if (this.#index) this.#registry.release(INDEX_DOC, this.#index);
    this.#index = undefined;
  }
}
