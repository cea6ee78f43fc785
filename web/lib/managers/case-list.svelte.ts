import { liveQuery } from 'dexie';
import { localDb } from '$lib/db/local-db';
import { syncManager, type DocHandle } from '$lib/managers/sync-manager.svelte';
import { encodeDocName } from '$lib/shared/doc-names';
import { readCaseIndex, type CaseSummary } from '$lib/shared/case-doc';
import { YState } from '$lib/utils/y-state.svelte';

export interface CaseListItem extends CaseSummary {
  /** True while the server has not confirmed storing this device's changes to the case. */
  localOnly: boolean;
}

/**
 * The cases this person can see: the server's case index (as last synced to this device) joined
 * with the cases this device holds, including those created offline and not yet on the server.
 */
export class CaseListView {
  #local = $state.raw<Array<{ name: string; pending: 0 | 1; summary?: CaseSummary }>>([]);
  readonly #handle: DocHandle;
  readonly #index: YState<CaseSummary[]>;
  readonly #subscription: { unsubscribe(): void };

  constructor() {
    this.#handle = syncManager.open(encodeDocName({ kind: 'cases' }));
    this.#index = new YState(this.#handle.doc, () => readCaseIndex(this.#handle.doc));
    this.#subscription = liveQuery(() => localDb().documents.toArray()).subscribe({
      next: (docs) => (this.#local = docs),
      error: (err: unknown) => console.error('cannot read local cases', err),
    });
  }

  readonly cases: CaseListItem[] = $derived.by(() => {
    // A scratch map inside a derivation, rebuilt on every change: not state of its own.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const byId = new Map<string, CaseListItem>();
    for (const summary of this.#index.current)
      byId.set(summary.id, { ...summary, localOnly: false });
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
      });
    }
    return [...byId.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  });

  destroy(): void {
    this.#subscription.unsubscribe();
    this.#index.destroy();
    syncManager.release(this.#handle);
  }
}
