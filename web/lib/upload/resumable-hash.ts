import { createSHA256, type IHasher } from 'hash-wasm';

/** A SHA-256 computation paused after `offset` bytes, in a form IndexedDB can store. */
export interface HashCheckpoint {
  offset: number;
  /** hash-wasm's `IHasher.save()` output. */
  state: Uint8Array;
}

/** Catching up reads at most this much of the file at once. */
const READ_SLICE = 4 * 1024 * 1024;

/**
 * SHA-256 of a file that is hashed a chunk at a time while it uploads, and can be paused and
 * continued in another session from a checkpoint, so a resumed upload never hashes again the
 * bytes the server already acknowledged.
 */
export class ResumableHash {
  readonly #hasher: IHasher;
  #offset = 0;

  private constructor(hasher: IHasher) {
    this.#hasher = hasher;
  }

  /** A hash of nothing yet, or continued from a checkpoint. */
  static async create(from?: HashCheckpoint): Promise<ResumableHash> {
    const hash = new ResumableHash(await createSHA256());
    hash.reset();
    if (from) hash.restore(from);
    return hash;
  }

  /** How many bytes of the file have gone into the hash. */
  get offset(): number {
    return this.#offset;
  }

  update(bytes: Uint8Array): void {
    this.#hasher.update(bytes);
    this.#offset += bytes.byteLength;
  }

  reset(): void {
    this.#hasher.init();
    this.#offset = 0;
  }

  checkpoint(): HashCheckpoint {
    // save() may hand back a view of the hasher's own memory; the checkpoint must outlive it.
    return { offset: this.#offset, state: this.#hasher.save().slice() };
  }

  /**
   * Continues from a checkpoint. A state hash-wasm cannot read (one saved by another version)
   * throws, and leaves the hash as it was.
   */
  restore(from: HashCheckpoint): void {
    this.#hasher.load(from.state);
    this.#offset = from.offset;
  }

  /** The lowercase hex digest of the bytes so far; the hash can still be continued after. */
  hex(): string {
    const state = this.#hasher.save().slice();
    const digest = this.#hasher.digest('hex');
    this.#hasher.load(state);
    return digest;
  }

  /**
   * Hashes `file` from the current offset up to `end`, a slice at a time, so a file of any size
   * is never held in memory whole.
   */
  async catchUp(file: Blob, end: number, signal?: AbortSignal): Promise<void> {
    if (end < this.#offset || end > file.size) {
      throw new RangeError(`cannot hash up to byte ${end} from byte ${this.#offset}`);
    }
    while (this.#offset < end) {
      signal?.throwIfAborted();
      const stop = Math.min(end, this.#offset + READ_SLICE);
      this.update(await readBytes(file, this.#offset, stop));
    }
  }
}

export async function readBytes(file: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}
