import type * as Y from 'yjs';

/**
 * A reactive view of something read from a Yjs document: `read` runs again after every change
 * to the document, whoever made it, and components see `current` update. Given `parts`, it runs
 * again only when one of them (or anything inside it) changes: a large document's other parts
 * (evidence, annotations) then cost nothing here.
 */
export class YState<T> {
  #current: T = $state.raw() as T;
  readonly #doc: Y.Doc;
  readonly #read: () => T;
  readonly #parts: ReadonlyArray<Y.AbstractType<Y.YEvent<never>>> | undefined;
  readonly #onUpdate = () => {
    this.#current = this.#read();
  };

  constructor(doc: Y.Doc, read: () => T, parts?: ReadonlyArray<Y.AbstractType<Y.YEvent<never>>>) {
    this.#doc = doc;
    this.#read = read;
    this.#parts = parts;
    this.#current = read();
    if (parts) for (const part of parts) part.observeDeep(this.#onUpdate);
    else doc.on('update', this.#onUpdate);
  }

  get current(): T {
    return this.#current;
  }

  destroy(): void {
    if (this.#parts) for (const part of this.#parts) part.unobserveDeep(this.#onUpdate);
    else this.#doc.off('update', this.#onUpdate);
  }
}
