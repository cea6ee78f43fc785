import type * as Y from 'yjs';

/**
 * A reactive view of something read from a Yjs document: `read` runs again after every change
 * to the document, whoever made it, and components see `current` update.
 */
export class YState<T> {
  #current: T = $state.raw() as T;
  readonly #doc: Y.Doc;
  readonly #read: () => T;
  readonly #onUpdate = () => {
    this.#current = this.#read();
  };

  constructor(doc: Y.Doc, read: () => T) {
    this.#doc = doc;
    this.#read = read;
    this.#current = read();
    doc.on('update', this.#onUpdate);
  }

  get current(): T {
    return this.#current;
  }

  destroy(): void {
    this.#doc.off('update', this.#onUpdate);
  }
}
