import { liveQuery } from 'dexie';
import { localDb } from '$lib/db/local-db';
import { syncManager, type DocHandle } from '$lib/managers/sync-manager.svelte';
import { encodeDocName } from '$lib/shared/doc-names';
import { readCaseIndex, type CaseSummary } from '$lib/shared/case-doc';
import { YState } from '$lib/utils/y-state.svelte';
import {
  EMPTY_QUERY,
  filterCases,
  searchDocument,
  type CaseQuery,
  type SearchDocument,
} from '$lib/search/case-query';
import { CaseSearch } from '$lib/search/case-search';

export interface CaseListItem extends CaseSummary {
  /** True while the server has not confirmed storing this device's changes to the case. */
  localOnly: boolean;
  /**
   * True when this device holds the whole case, so its evidence names, annotations and comments
   * are searched; otherwise only its summary (from the server's case index) is.
   */
  held: boolean;
}

/**
 * The cases this person can see: the server's case index (as last synced to this device) joined
 * with the cases this device holds, including those created offline and not yet on the server.
 */
export class CaseListView {
  #local = $state.raw<Array<{ name: string; pending: 0 | 1; summary?: CaseSummary }>>([]);
  readonly #handle: DocHandle;
  readonly #index: YState<CaseSummary[]>;
  readonly #subscriptions: Array<{ unsubscribe(): void }>;
  /** Searchable text of the cases held in full, by case id. */
  #texts = $state.raw<Record<string, string>>({});
  readonly #search = new CaseSearch();
  /** The search's answer for `#matchesFor`; undefined until it comes. */
  #matches = $state.raw<{ text: string; ids: string[] } | undefined>(undefined);

  /** What the list shows: words, filters and order. */
  query = $state<CaseQuery>({ ...EMPTY_QUERY });

  /** Needs a component being set up: the index follows the list while the component lives. */
  constructor() {
    this.#handle = syncManager.open(encodeDocName({ kind: 'cases' }));
    this.#index = new YState(this.#handle.doc, () => readCaseIndex(this.#handle.doc));
    this.#subscriptions = [
      liveQuery(() => localDb().documents.toArray()).subscribe({
        next: (docs) => (this.#local = docs),
        error: (err: unknown) => console.error('cannot read local cases', err),
      }),
      liveQuery(() => localDb().caseTexts.toArray()).subscribe({
        next: (rows) =>
          (this.#texts = Object.fromEntries(rows.map((row) => [row.caseId, row.text]))),
        error: (err: unknown) => console.error('cannot read what this device indexed', err),
      }),
    ];
    $effect(() => this.#search.sync(this.#documents));
    $effect(() => {
      const text = this.query.text.trim();
      void this.#documents; // a changed list is searched again
      if (!text) return;
      let current = true;
      void this.#search.search(text).then((ids) => {
        if (current) this.#matches = { text, ids };
      });
      return () => (current = false);
    });
  }

  readonly #documents: SearchDocument[] = $derived.by(() =>
    this.cases.map((c) => searchDocument(c, this.#texts[c.id])),
  );

  /** The cases the query selects, in its order; while a search runs, its last answer. */
  readonly shown: CaseListItem[] = $derived.by(() => {
    const text = this.query.text.trim();
    if (!text) return filterCases(this.cases, this.query);
    return filterCases(this.cases, this.query, this.#matches?.ids ?? []);
  });

  /** True while the words typed have not been searched yet. */
  get searching(): boolean {
    const text = this.query.text.trim();
    return text !== '' && this.#matches?.text !== text;
  }

  readonly cases: CaseListItem[] = $derived.by(() => {
    // A scratch map inside a derivation, rebuilt on every change: not state of its own.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const byId = new Map<string, CaseListItem>();
    const held = new Set(this.#local.map((doc) => doc.name)); // eslint-disable-line svelte/prefer-svelte-reactivity -- scratch, as above
    const isHeld = (id: string) => held.has(encodeDocName({ kind: 'case', id }));
    for (const summary of this.#index.current)
      byId.set(summary.id, { ...summary, localOnly: false, held: isHeld(summary.id) });
    for (const doc of this.#local) {
      if (!doc.summary) continue;
      const known = byId.get(doc.summary.id);
      // Cases the server no longer lists for us (access removed) show only while this device
      // still holds changes for them that the server has not taken.
      if (!known && doc.pending !== 1) continue;
      const newer = !known || doc.summary.updatedAt > known.updatedAt;
      byId.set(doc.summary.id, {
        ...(newer ? doc.summary : (known as CaseSummary)),
        localOnly: doc.pending === 1,
        held: true,
      });
    }
    return [...byId.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  });

  destroy(): void {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    this.#search.destroy();
    this.#index.destroy();
    syncManager.release(this.#handle);
  }
}
