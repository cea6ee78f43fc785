import type { Level } from 'level';
import { openLevel } from './level.ts';
import * as Y from 'yjs';

/**
 * Yjs updates in LevelDB, one key per update, appended in order and merged when they pile up.
 *
 * Written here rather than taken from y-leveldb: y-leveldb catches storage errors and logs them,
 * so a failed write looks like a successful one and the server would acknowledge an update it
 * never stored. Every method here rejects when LevelDB does.
 *
 * Keys: `u\0<doc>\0<seq>` (updates, seq as 16 hex digits so order is numeric) and `m\0<doc>\0<key>`
 * (small per-document markers). Document names never contain \0 (see doc-names.ts).
 */
export interface DocStore {
  /** Every stored update of the document, oldest first; merges them when there are many. */
  load(name: string): Promise<Uint8Array[]>;
  /** Durably appends one update; resolves after LevelDB has written it. */
  append(name: string, update: Uint8Array): Promise<void>;
  /** Replaces all stored updates of the document by their merge, in one atomic batch. */
  compact(name: string): Promise<void>;
  /** Sequence number of the newest stored update, or -1 when there is none. */
  lastSeq(name: string): Promise<number>;
  getMarker(name: string, key: string): Promise<number | undefined>;
  setMarker(name: string, key: string, value: number): Promise<void>;
  /** Names of every stored document, in order. */
  names(): AsyncIterable<string>;
  close(): Promise<void>;
}

/** Updates kept separately before `load` merges them into one. */
export const COMPACT_THRESHOLD = 200;

export class DocStoreUnavailable extends Error {
  override readonly name = 'DocStoreUnavailable';
}

const SEP = '\u0000';
const updateKey = (name: string, seq: number) =>
  `u${SEP}${name}${SEP}${seq.toString(16).padStart(16, '0')}`;
const updatePrefix = (name: string) => `u${SEP}${name}${SEP}`;
const markerKey = (name: string, key: string) => `m${SEP}${name}${SEP}${key}`;

export async function openDocStore(location: string): Promise<DocStore> {
  try {
    return new LevelDocStore(
      await openLevel<Uint8Array>(location, 'sync', { valueEncoding: 'view' }),
    );
  } catch (err) {
    throw new DocStoreUnavailable((err as Error).message, { cause: err });
  }
}

class LevelDocStore implements DocStore {
  readonly #db: Level<string, Uint8Array>;
  /** Next sequence number per document, known once the document was read or written. */
  readonly #nextSeq = new Map<string, number>();
  /** Per-document queue: appends and compactions of one document never interleave. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(db: Level<string, Uint8Array>) {
    this.#db = db;
  }

  #serial<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(name) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(name, settled);
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    });
    return next;
  }

  async #readUpdates(name: string): Promise<{ keys: string[]; values: Uint8Array[] }> {
    const prefix = updatePrefix(name);
    const keys: string[] = [];
    const values: Uint8Array[] = [];
    for await (const [key, value] of this.#db.iterator({ gt: prefix, lt: `${prefix}\uffff` })) {
      keys.push(key);
      values.push(value);
    }
    return { keys, values };
  }

  async #seqAfter(name: string): Promise<number> {
    const known = this.#nextSeq.get(name);
    if (known !== undefined) return known;
    const last = await this.#lastSeqUnqueued(name);
    this.#nextSeq.set(name, last + 1);
    return last + 1;
  }

  async #lastSeqUnqueued(name: string): Promise<number> {
    const prefix = updatePrefix(name);
    const keys = await this.#db
      .keys({ gt: prefix, lt: `${prefix}\uffff`, reverse: true, limit: 1 })
      .all();
    const key = keys[0];
    return key === undefined ? -1 : parseInt(key.slice(prefix.length), 16);
  }

  load(name: string): Promise<Uint8Array[]> {
    return this.#serial(name, async () => {
      const { keys, values } = await this.#readUpdates(name);
      if (values.length > COMPACT_THRESHOLD) {
        const merged = await this.#merge(name, keys, values);
        return [merged];
      }
      return values;
    });
  }

  append(name: string, update: Uint8Array): Promise<void> {
    return this.#serial(name, async () => {
      const seq = await this.#seqAfter(name);
      await this.#db.put(updateKey(name, seq), update);
      this.#nextSeq.set(name, seq + 1);
    });
  }

  compact(name: string): Promise<void> {
    return this.#serial(name, async () => {
      const { keys, values } = await this.#readUpdates(name);
      if (values.length > 1) await this.#merge(name, keys, values);
    });
  }

  /** Keeps the newest sequence number so that `lastSeq` only ever grows. */
  async #merge(name: string, keys: string[], values: Uint8Array[]): Promise<Uint8Array> {
    const merged = Y.mergeUpdates(values);
    const lastKey = keys[keys.length - 1] as string;
    const batch = this.#db.batch();
    for (const key of keys) if (key !== lastKey) batch.del(key);
    batch.put(lastKey, merged);
    await batch.write();
    return merged;
  }

  lastSeq(name: string): Promise<number> {
    return this.#serial(name, () => this.#lastSeqUnqueued(name));
  }

  async getMarker(name: string, key: string): Promise<number | undefined> {
    const value = await this.#db.get(markerKey(name, key));
    if (value === undefined) return undefined;
    return new DataView(value.buffer, value.byteOffset, value.byteLength).getFloat64(0);
  }

  async setMarker(name: string, key: string, value: number): Promise<void> {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value);
    await this.#db.put(markerKey(name, key), bytes);
  }

  async *names(): AsyncIterable<string> {
    let after = `u${SEP}`;
    for (;;) {
      const keys = await this.#db.keys({ gt: after, lt: `u${SEP}\uffff`, limit: 1 }).all();
      const key = keys[0];
      if (key === undefined) return;
      const name = key.slice(2, key.indexOf(SEP, 2));
      yield name;
      after = `${updatePrefix(name)}\uffff`;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()]);
    await this.#db.close();
  }
}
