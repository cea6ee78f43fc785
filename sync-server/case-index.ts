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
import { userIndexName, type SyncAuth } from './auth.ts';

const INDEX_DOC = encodeDocName({ kind: 'cases' });
/** Marker on each case document: the newest update of it that the index reflects. */
const INDEXED_SEQ = 'indexed-seq';
const DEBOUNCE_MS = 50;
const MAX_TITLE = 200;
const MAX_TAGS = 50;
const MAX_TAG = 64;
const MAX_FIELD = 200;
const MAX_DESCRIPTION = 500;
const MAX_ASSIGNEES = 50;

/** Clients write case documents; the index every client reads holds only bounded summaries. */
export function bounded(summary: CaseSummary): CaseSummary {
  const out: CaseSummary = {
    ...summary,
    title: summary.title.slice(0, MAX_TITLE),
    tags: summary.tags.slice(0, MAX_TAGS).map((t) => t.slice(0, MAX_TAG)),
    createdAt: summary.createdAt.slice(0, 40),
    updatedAt: summary.updatedAt.slice(0, 40),
    assignees: (summary.assignees ?? []).slice(0, MAX_ASSIGNEES).map(boundedPerson),
  };
  if (summary.description !== undefined) {
    out.description = summary.description.slice(0, MAX_DESCRIPTION);
  }
  for (const key of ['incidentNumber', 'incidentType', 'incidentFrom', 'incidentTo'] as const) {
    const value = summary[key];
    if (value !== undefined) out[key] = value.slice(0, MAX_FIELD);
  }
  if (summary.location)
    out.location = { ...summary.location, text: summary.location.text.slice(0, MAX_FIELD) };
  if (summary.department) out.department = boundedPerson(summary.department);
  return out;
}

function boundedPerson(person: { id: string; name: string }): { id: string; name: string } {
  return { id: person.id.slice(0, MAX_FIELD), name: person.name.slice(0, MAX_FIELD) };
}

/**
 * Keeps the server-owned `cases` document in step with the case documents: one summary per case,
 * written after the case's own update is stored. Case documents record which of their updates the
 * index has seen, so a crash between the two writes is repaired at the next start.
 */
export class CaseIndex {
  readonly #registry: DocRegistry;
  readonly #auth: SyncAuth;
  readonly #store: DocStore;
  readonly #log: Logger;
  #index: LiveDoc | undefined;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #work: Promise<void> = Promise.resolve();

  constructor(options: { registry: DocRegistry; store: DocStore; log: Logger; auth: SyncAuth }) {
    this.#auth = options.auth;
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
    await this.#write(index, parsed.id, summary);
    for (const userId of await this.#auth.caseReaders(parsed.id)) {
      await this.#inUserIndex(userId, (own) => this.#write(own, parsed.id, summary));
    }
    await this.#store.setMarker(name, INDEXED_SEQ, seq);
  }

  /** Sets one entry of an index document, if it changed, and waits until it is stored. */
  async #write(index: LiveDoc, caseId: string, summary: CaseSummary | undefined): Promise<void> {
    const entries = getCaseIndex(index.doc);
    const current = entries.get(caseId);
    if (summary ? sameSummary(current, summary) : current === undefined) return;
    index.doc.transact(() => {
      if (summary) entries.set(caseId, summary);
      else entries.delete(caseId);
    }, this);
    await index.settled();
    if (index.failed) throw new Error(`the case index ${index.name} could not be stored`);
  }

  async #inUserIndex(userId: string, work: (index: LiveDoc) => Promise<void>): Promise<void> {
    const name = userIndexName(userId);
    const own = await this.#registry.acquire(name);
    try {
      await work(own);
    } finally {
      this.#registry.release(name, own);
    }
  }

  /** A user gained or lost access to a case: their own index gains or loses its entry. */
  accessChanged(caseId: string, userId: string): void {
    this.#enqueue(async () => {
      const index = this.#index;
      if (!index) return;
      const readers = await this.#auth.caseReaders(caseId);
      const summary = readers.includes(userId) ? getCaseIndex(index.doc).get(caseId) : undefined;
      await this.#inUserIndex(userId, (own) => this.#write(own, caseId, summary));
    });
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
