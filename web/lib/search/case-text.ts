import * as Y from 'yjs';
import { localDb } from '$lib/db/local-db';
import { readEvidence } from '$lib/shared/case-doc';
import { annotatedTargets, annotationTexts } from '$lib/shared/annotations-doc';

/** Enough for every word of a large case; beyond it the case list searches the start. */
const MOST_TEXT = 2_000_000;
const QUIET_MS = 3000;
/** Annotated items read per slice of work, so reading a large case never blocks a frame long. */
const TARGETS_PER_SLICE = 100;

/**
 * What the case list searches in a case held in full: evidence names, annotations, comments.
 * Read a slice at a time, letting the page run in between.
 */
export async function caseContent(doc: Y.Doc): Promise<string> {
  const parts: string[] = [];
  for (const item of readEvidence(doc)) if (!item.deletedAt) parts.push(item.name);
  const targets = annotatedTargets(doc);
  for (let start = 0; start < targets.length; start += TARGETS_PER_SLICE) {
    await yieldToPage();
    for (const target of targets.slice(start, start + TARGETS_PER_SLICE)) {
      for (const annotation of annotationTexts(doc, target)) {
        if (annotation.text) parts.push(annotation.text);
      }
    }
  }
  return parts.join('\n').slice(0, MOST_TEXT);
}

/**
 * Keeps the stored search text of one open case current: read again only when the document
 * differs from the one it was last read from, once edits pause, in idle time, so opening,
 * scrolling and typing never wait for it.
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
    void ready.then(async () => {
      const stored = await localDb()
        .caseTexts.get(caseId)
        .catch(() => undefined);
      if (this.#stopped) return;
      doc.on('update', this.#schedule);
      if (!sameVector(stored?.stateVector, Y.encodeStateVector(doc))) this.#schedule();
    });
  }

  async #write(): Promise<void> {
    if (this.#stopped) return;
    const stateVector = Y.encodeStateVector(this.#doc);
    const text = await caseContent(this.#doc);
    if (this.#stopped) return;
    await localDb()
      .caseTexts.put({
        caseId: this.#caseId,
        text,
        updatedAt: new Date().toISOString(),
        stateVector,
      })
      .catch((err: unknown) => console.warn('the case could not be indexed on this device', err));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#doc.off('update', this.#schedule);
  }
}

function sameVector(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function yieldToPage(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function idle(work: () => void): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(work, { timeout: 5000 });
  else setTimeout(work, 0);
}
