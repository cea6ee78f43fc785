import { getContext, setContext } from 'svelte';
import { syncManager, type DocHandle } from '$lib/managers/sync-manager.svelte';
import { encodeDocName } from '$lib/shared/doc-names';
import {
  getDescription,
  isInitialised,
  readEvidence,
  readLegalHold,
  readMeta,
  readTags,
  type EvidenceRecord,
} from '$lib/shared/case-doc';
import type { LegalHold } from '$lib/shared/retention';
import { YState } from '$lib/utils/y-state.svelte';

interface CaseSnapshot {
  exists: boolean;
  id: string;
  title: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  description: string;
  tags: string[];
  evidence: EvidenceRecord[];
  /** As the server last mirrored it into the case. */
  legalHold: LegalHold | undefined;
}

/** One case open on screen: its document and a reactive snapshot of what it holds. */
export class CaseView {
  readonly id: string;
  readonly handle: DocHandle;
  readonly #state: YState<CaseSnapshot>;
  #loaded = $state(false);

  constructor(id: string) {
    this.id = id;
    this.handle = syncManager.open(encodeDocName({ kind: 'case', id }));
    const doc = this.handle.doc;
    this.#state = new YState(doc, () => ({
      exists: isInitialised(doc),
      ...readMeta(doc),
      id,
      description: getDescription(doc).toString(),
      tags: readTags(doc),
      evidence: readEvidence(doc),
      legalHold: readLegalHold(doc),
    }));
    void this.handle.ready.then(() => (this.#loaded = true));
  }

  get snapshot(): CaseSnapshot {
    return this.#state.current;
  }

  /** True once this device's stored copy has been read. */
  get loaded(): boolean {
    return this.#loaded;
  }

  destroy(): void {
    this.#state.destroy();
    syncManager.release(this.handle);
  }
}

const KEY = Symbol('case-view');

export function setCaseView(view: CaseView): CaseView {
  return setContext(KEY, view);
}

export function useCaseView(): CaseView {
  const view = getContext<CaseView | undefined>(KEY);
  if (!view) throw new Error('useCaseView() needs a CaseView set by an enclosing case page');
  return view;
}
