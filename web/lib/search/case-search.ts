import { CaseSearchIndex, type SearchDocument } from './case-query';

export type SearchRequest =
  { type: 'sync'; documents: SearchDocument[] } | { type: 'search'; seq: number; text: string };
export type SearchResponse = { seq: number; ids: string[] };

/**
 * The case list's full-text index in a Web Worker. Requests are answered in order, so a search
 * sent after a sync sees what that sync added. Where workers are unavailable it runs here.
 */
export class CaseSearch {
  readonly #worker: Worker | undefined;
  readonly #local: CaseSearchIndex | undefined;
  readonly #waiting = new Map<number, (ids: string[]) => void>();
  #seq = 0;

  constructor() {
    if (typeof Worker === 'undefined') {
      this.#local = new CaseSearchIndex();
      return;
    }
    this.#worker = new Worker(new URL('./case-search.worker.ts', import.meta.url), {
      type: 'module',
    });
    this.#worker.onmessage = ({ data }: MessageEvent<SearchResponse>) => {
      this.#waiting.get(data.seq)?.(data.ids);
      this.#waiting.delete(data.seq);
    };
  }

  sync(documents: SearchDocument[]): void {
    if (this.#local) this.#local.sync(documents);
    else this.#post({ type: 'sync', documents });
  }

  /** Ids of the cases holding every word, best first. */
  search(text: string): Promise<string[]> {
    if (this.#local) return Promise.resolve(this.#local.search(text));
    const seq = ++this.#seq;
    return new Promise((resolve) => {
      this.#waiting.set(seq, resolve);
      this.#post({ type: 'search', seq, text });
    });
  }

  #post(request: SearchRequest): void {
    this.#worker?.postMessage(request);
  }

  destroy(): void {
    this.#worker?.terminate();
    for (const resolve of this.#waiting.values()) resolve([]);
    this.#waiting.clear();
  }
}
