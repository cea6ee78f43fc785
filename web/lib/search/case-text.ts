import type * as Y from 'yjs';
import { localDb } from '$lib/db/local-db';
import { readEvidence } from '$lib/shared/case-doc';
import { annotationTexts } from '$lib/shared/annotations-doc';

/** Enough for every word of a large case; beyond it the case list searches the start. */
const MOST_TEXT = 2_000_000;
const QUIET_MS = 3000;

/** What the case list searches in a case held in full: evidence names, annotations, comments. */
export function caseContent(doc: Y.Doc): string {
  const parts: string[] = [];
  for (const item of readEvidence(doc)) if (!item.deletedAt) parts.push(item.name);
  for (const annotation of annotationTexts(doc)) {
    if (annotation.text) parts.push(annotation.text);
  }
  return parts.join('\n').slice(0, MOST_TEXT);
}

/**
 * Keeps the stored search text of one open case current: written when the case opens and again
 * once edits pause, in idle time, so typing never waits for it.
 */
export class CaseTextRecorder {
  readonly #doc: Y.Doc;
  readonly #caseId: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #schedule = () => {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => idle(() => void this.#write()), QUIET_MS);
  };

  constructor(doc: Y.Doc, caseId: string, ready: Promise<unknown>) {
    this.#doc = doc;
    this.#caseId = caseId;
    void ready.then(() => {
      if (this.#stopped) return;
      this.#schedule();
      doc.on('update', this.#schedule);
    });
  }

  async #write(): Promise<void> {
    if (this.#stopped) return;
    const text = caseContent(this.#doc);
    await localDb()
      .caseTexts.put({ caseId: this.#caseId, text, updatedAt: new Date().toISOString() })
      .catch((err: unknown) => console.warn('the case could not be indexed on this device', err));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#doc.off('update', this.#schedule);
  }
}

function idle(work: () => void): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(work, { timeout: 5000 });
  else setTimeout(work, 0);
}
