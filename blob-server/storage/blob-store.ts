import type { Readable } from 'node:stream';

/**
 * Where evidence bytes live. Every backend (filesystem, S3/MinIO) passes the same contract suite
 * in `contract.ts`; code above this interface never knows which one it talks to.
 *
 * Keys are validated object names (see `keys.ts`): '/'-separated segments of [A-Za-z0-9._-],
 * never '.' or '..'. A backend may map them to paths or object names as it likes.
 */
export interface BlobStore {
  /** 'fs' or 's3': shown in health output and logs. */
  readonly kind: 'fs' | 's3';

  /**
   * Stores the whole stream under `key`, atomically: a reader never sees a partial object, and a
   * failed or aborted write leaves any previous object under `key` untouched. Resolves with the
   * stored size once the bytes are durable in the backend.
   */
  put(key: string, body: Readable, options?: PutOptions): Promise<{ size: number }>;

  /**
   * Opens the object for reading, whole or a byte range (inclusive `start`..`end`, as in HTTP).
   * Rejects with `BlobNotFound` when there is no such object and `RangeNotSatisfiable` when the
   * range starts past its end.
   */
  get(key: string, range?: ByteRange, options?: ReadOptions): Promise<BlobReadResult>;

  /** Size and content type of the object, or null when there is none. */
  stat(key: string, options?: ReadOptions): Promise<BlobInfo | null>;

  /**
   * What `protect` can promise: 'object-lock' (S3 Object Lock: not even someone holding the
   * storage credentials can delete or change a protected version before its date) or 'none'
   * (the filesystem: protection is whatever the host's permissions and backups give).
   */
  readonly protection: 'object-lock' | 'none';

  /**
   * Protects the object as it is now until `until`, where the backend can, and names the
   * version protected: reads of that version keep giving these bytes whatever is written under
   * the key later.
   */
  protect(key: string, until: Date): Promise<{ versionId?: string }>;

  /**
   * Places or lifts a legal hold on the object (the version named, or the current one), where
   * the backend can (S3 Object Lock: a held version cannot be deleted, whatever its retention);
   * elsewhere it only checks that the object exists. Rejects with `BlobNotFound` when it does not.
   */
  setLegalHold(key: string, hold: boolean, options?: ReadOptions): Promise<void>;

  /** Copies an object within the store (server-side where the backend can). */
  copy(fromKey: string, toKey: string): Promise<void>;

  /** Removes the object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;

  /** Keys under a prefix, in lexicographic order. */
  list(prefix: string): AsyncIterable<string>;

  /**
   * Resumable writes in numbered parts (S3 multipart semantics on every backend): parts may
   * arrive in any order and be sent again, the last one sent under a number wins, and nothing is
   * visible under `key` until `completeMultipart` joins the listed parts, atomically. Every part
   * but the last must be at least `minPartSize` bytes; at most `maxParts` parts.
   */
  readonly minPartSize: number;
  readonly maxParts: number;
  startMultipart(key: string, options?: { contentType?: string }): Promise<string>;
  putPart(key: string, uploadId: string, partNumber: number, bytes: Buffer): Promise<StoredPart>;
  /** Rejects with `MultipartNotFound` when the upload was completed, aborted or never existed. */
  completeMultipart(key: string, uploadId: string, parts: StoredPart[]): Promise<{ size: number }>;
  /** Discards the parts; aborting an unknown or finished upload is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;

  /** Checks that the backend answers and is writable; never throws. */
  health(): Promise<{ ok: boolean; detail: string }>;

  /** Releases connections or handles. */
  close(): Promise<void>;
}

export interface StoredPart {
  part: number;
  etag: string;
  size: number;
}

export interface PutOptions {
  contentType?: string;
  /** When known in advance; backends may use it to choose single or multipart writes. */
  size?: number;
}

export interface ReadOptions {
  /** A version `protect` named; the current object when absent. */
  versionId?: string;
}

export interface ByteRange {
  start: number;
  /** Inclusive; clamped to the last byte. Omitted means "to the end". */
  end?: number;
}

export interface BlobInfo {
  size: number;
  contentType: string;
}

export interface BlobReadResult extends BlobInfo {
  body: Readable;
  /** The range actually served (inclusive), after clamping; whole object when no range was asked. */
  start: number;
  end: number;
}
