import { getContext, setContext } from 'svelte';
import { syncManager, type DocHandle } from '$lib/managers/sync-manager.svelte';
import { encodeDocName } from '$lib/shared/doc-names';
import {
  getDescription,
  isInitialised,
  observeEvidence,
  readAssignees,
  readCaseDetails,
  readLegalHold,
  readMeta,
  readTags,
  summaryParts,
  type CaseDetails,
  type CaseStatus,
  type EvidenceRecord,
  type Person,
} from '$lib/shared/case-doc';
import type { LegalHold } from '$lib/shared/retention';
import { YState } from '$lib/utils/y-state.svelte';
import { CaseTextRecorder } from '$lib/search/case-text';

type CaseHead = Omit<CaseSnapshot, 'evidence'>;

interface CaseSnapshot {
  exists: boolean;
  id: string;
  title: string;
  status: CaseStatus;
  details: CaseDetails;
  assignees: Person[];
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
  /** The summary is read again when it changes; evidence only item by item (see below). */
  readonly #head: YState<CaseHead>;
  #evidence = $state.raw<EvidenceRecord[]>([]);
  readonly #stopEvidence: () => void;
  /** So the case list can search this case's evidence and annotations later, offline. */
  readonly #text: CaseTextRecorder;
  #loaded = $state(false);
  readonly #snapshot: CaseSnapshot = $derived.by(() => ({
    ...this.#head.current,
    evidence: this.#evidence,
  }));

  constructor(id: string) {
    this.id = id;
    this.handle = syncManager.open(encodeDocName({ kind: 'case', id }));
    const doc = this.handle.doc;
    this.#head = new YState(
      doc,
      () => ({
        exists: isInitialised(doc),
        ...readMeta(doc),
        id,
        details: readCaseDetails(doc),
        assignees: readAssignees(doc),
        description: getDescription(doc).toString(),
        tags: readTags(doc),
        legalHold: readLegalHold(doc),
      }),
      summaryParts(doc),
    );
    this.#stopEvidence = observeEvidence(doc, (records) => (this.#evidence = records));
    this.#text = new CaseTextRecorder(doc, id, this.handle.ready);
    void this.handle.ready.then(() => (this.#loaded = true));
  }

  get snapshot(): CaseSnapshot {
    return this.#snapshot;
  }

  /** The case's evidence alone: unlike `snapshot`, unchanged by edits to the summary. */
  get evidence(): EvidenceRecord[] {
    return this.#evidence;
  }

  /** True once this device's stored copy has been read. */
  get loaded(): boolean {
    return this.#loaded;
  }

  destroy(): void {
    this.#head.destroy();
    this.#stopEvidence();
    this.#text.stop();
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
