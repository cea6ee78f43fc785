import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { BlobStore, StoredPart } from '../storage/blob-store.ts';
import {
  BadRequest,
  BlobNotFound,
  ChunkChecksumMismatch,
  ExhibitError,
  Forbidden,
  MultipartNotFound,
  NotFound,
  PayloadTooLarge,
  UploadGone,
  UploadLocked,
  UploadOffsetMismatch,
} from '../errors.ts';
import type { Logger } from '../../sync-server/logger.ts';
import { uploadKeys, uploadRecord, type UploadRecord } from './upload-record.ts';
import { versionOf, type EvidenceRefs } from './evidence-refs.ts';

const MiB = 1024 * 1024;
/** Large enough that a 1 GiB file is 128 parts, small enough to buffer a couple per upload. */
const BASE_PART_SIZE = 8 * MiB;
/** Part writes to the backend that may run while the next part is being received. */
const PARTS_IN_FLIGHT = 3;

/** The whole file's SHA-256 did not match what the client computed: the upload is discarded. */
export class FileChecksumMismatch extends ExhibitError {
  override readonly status = 460;
  override readonly code = 'file_checksum_mismatch';
}

export interface NewUpload {
  owner: string;
  ownerName?: string;
  caseId: string;
  length: number;
  metadata: string;
  evidenceId?: string;
  filename?: string;
  filetype?: string;
  clientSha256?: string;
}

export interface ChunkChecksum {
  algorithm: 'sha256';
  /** The digest the client computed over this request's bytes. */
  digest: Buffer;
}

export interface UploadServiceOptions {
  store: BlobStore;
  refs: EvidenceRefs;
  log: Logger;
  /** How long an unfinished upload is kept after its last chunk. */
  expiryMs: number;
  maxLength: number;
  /**
   * How long verified originals are protected against deletion and change, where the store can
   * (S3 Object Lock); absent: not at all.
   */
  retentionDays?: number;
  /** Called once an upload is verified, e.g. to let the case's readers download it. */
  onVerified?: (upload: UploadRecord) => Promise<void>;
  /** Called when the whole file did not match the client's digest. */
  onRejected?: (upload: UploadRecord) => Promise<void>;
  now?: () => Date;
}

/**
 * Resumable uploads (the state behind the tus protocol), stored in the blob store itself: the
 * parts in the backend's multipart write, a short tail in `uploads/<id>/tail`, the record in
 * `uploads/<id>/info`. Each chunk is committed only once its bytes are durable, so a crash at
 * any point leaves the record describing bytes that are really stored, and the client resends
 * from there.
 *
 * When the last byte is in, the parts are joined and the server reads the stored object back and
 * computes its SHA-256: only when that matches the client's own digest is the upload verified.
 */
export class UploadService {
  readonly #store: BlobStore;
  readonly #refs: EvidenceRefs;
  readonly #log: Logger;
  readonly #options: UploadServiceOptions;
  readonly #now: () => Date;
  /** Uploads a request is writing to right now, in this process. */
  readonly #busy = new Set<string>();

  constructor(options: UploadServiceOptions) {
    this.#store = options.store;
    this.#refs = options.refs;
    this.#log = options.log;
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  get maxLength(): number {
    return this.#options.maxLength;
  }

  /** The part size for a file of this length: S3's part limit decides for very large files. */
  partSizeFor(length: number): number {
    const fitting = Math.ceil(length / this.#store.maxParts / MiB) * MiB;
    return Math.max(BASE_PART_SIZE, this.#store.minPartSize, fitting);
  }

  /** The chunk size a client should send: whole parts, so nothing waits in the tail. */
  chunkSizeFor(upload: UploadRecord): number {
    return upload.partSize * Math.max(1, Math.floor((16 * MiB) / upload.partSize));
  }

  async create(input: NewUpload): Promise<UploadRecord> {
    if (input.length > this.#options.maxLength) {
      throw new PayloadTooLarge(
        `the file is ${input.length} bytes; this server accepts files of at most ${this.#options.maxLength} bytes`,
      );
    }
    const partSize = this.partSizeFor(input.length);
    if (Math.ceil(input.length / partSize) > this.#store.maxParts) {
      throw new PayloadTooLarge(`the file is ${input.length} bytes, more than storage can hold`);
    }
    const id = randomBytes(16).toString('base64url');
    const now = this.#now();
    const upload: UploadRecord = {
      id,
      owner: input.owner,
      ...(input.ownerName !== undefined ? { ownerName: input.ownerName } : {}),
      caseId: input.caseId,
      ...(input.evidenceId !== undefined ? { evidenceId: input.evidenceId } : {}),
      ...(input.filename !== undefined ? { filename: input.filename } : {}),
      ...(input.filetype !== undefined ? { filetype: input.filetype } : {}),
      ...(input.clientSha256 !== undefined ? { clientSha256: input.clientSha256 } : {}),
      metadata: input.metadata,
      length: input.length,
      offset: 0,
      partSize,
      objectKey: uploadKeys.object(id),
      parts: [],
      tailLength: 0,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.#options.expiryMs).toISOString(),
      state: 'receiving',
      joined: false,
    };
    await this.#save(upload);
    this.#log.info('upload.created', { id, caseId: input.caseId, length: input.length });
    return upload;
  }

  /** The upload as stored; `UploadGone` once it expired, `NotFound` if there never was one. */
  async get(id: string, owner: string): Promise<UploadRecord> {
    const upload = await this.#load(id);
    if (upload.owner !== owner) throw new Forbidden('this upload was started by someone else');
    if (this.#expired(upload)) {
      throw new UploadGone(
        `this upload expired at ${upload.expiresAt} without being finished; start it again`,
      );
    }
    return upload;
  }

  /**
   * Appends one request's bytes at `offset`. With a checksum the chunk is all or nothing: a
   * mismatch or an interrupted request stores none of it. Without one, what arrived before an
   * interruption is kept, as tus asks. Resolves with the upload after the chunk, verified when
   * it was the last one.
   */
  async append(
    id: string,
    owner: string,
    offset: number,
    body: Readable,
    options: { checksum?: ChunkChecksum; clientSha256?: string } = {},
  ): Promise<UploadRecord> {
    if (this.#busy.has(id)) {
      throw new UploadLocked('another request is sending to this upload right now; try again');
    }
    this.#busy.add(id);
    try {
      const upload = await this.get(id, owner);
      if (upload.state === 'failed') throw new UploadGone(upload.failure ?? 'this upload failed');
      if (options.clientSha256 !== undefined) {
        if (upload.clientSha256 !== undefined && upload.clientSha256 !== options.clientSha256) {
          throw new BadRequest(
            `this upload was announced with SHA-256 ${upload.clientSha256}, not ${options.clientSha256}`,
          );
        }
        upload.clientSha256 = options.clientSha256;
      }
      if (offset !== upload.offset) {
        body.resume();
        throw new UploadOffsetMismatch(
          `this upload stands at byte ${upload.offset}; the chunk was sent for byte ${offset}`,
        );
      }
      if (upload.state === 'receiving') await this.#receive(upload, body, options.checksum);
      else body.resume();
      if (upload.offset === upload.length && upload.state !== 'verified') {
        await this.#finish(upload);
      }
      return upload;
    } finally {
      this.#busy.delete(id);
    }
  }

  /**
   * Finishes an upload whose bytes are all in but whose joining or verification was cut short
   * (storage down, a crash): asked for by a client checking where its upload stands.
   */
  async settle(id: string, owner: string): Promise<UploadRecord> {
    if (this.#busy.has(id)) {
      throw new UploadLocked('this upload is being finished right now; ask again in a moment');
    }
    this.#busy.add(id);
    try {
      const upload = await this.get(id, owner);
      if (upload.state === 'completing') await this.#finish(upload);
      return upload;
    } finally {
      this.#busy.delete(id);
    }
  }

  /** Cancels an unfinished upload and discards its bytes; a verified one stays as evidence. */
  async terminate(id: string, owner: string): Promise<void> {
    const upload = await this.#load(id);
    if (upload.owner !== owner) throw new Forbidden('this upload was started by someone else');
    if (this.#busy.has(id)) {
      throw new UploadLocked('this upload is receiving a chunk right now; try again');
    }
    await this.#discard(upload);
    this.#log.info('upload.terminated', { id });
  }

  /**
   * Removes expired unfinished uploads with their parts, forgets finished ones whose expiry has
   * passed (their evidence stays), and retries uploads stuck while completing.
   */
  async sweep(): Promise<{ expired: number; finished: number }> {
    let expired = 0;
    let finished = 0;
    const ids: string[] = [];
    for await (const key of this.#store.list(uploadKeys.prefix)) {
      const id = uploadKeys.idOfInfo(key);
      if (id !== undefined) ids.push(id);
    }
    for (const id of ids) {
      if (this.#busy.has(id)) continue;
      let upload: UploadRecord;
      try {
        upload = await this.#load(id);
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
        continue;
      }
      if (upload.state === 'completing') {
        this.#busy.add(id);
        try {
          await this.#finish(upload);
          finished++;
        } catch (err) {
          this.#log.warn('upload.finish_failed', { id, error: String(err) });
        } finally {
          this.#busy.delete(id);
        }
        continue;
      }
      if (!this.#expired(upload)) continue;
      if (upload.state === 'verified') await this.#store.delete(uploadKeys.info(id));
      else await this.#discard(upload);
      expired++;
    }
    if (expired > 0 || finished > 0) this.#log.info('upload.swept', { expired, finished });
    return { expired, finished };
  }

  async #receive(
    upload: UploadRecord,
    body: Readable,
    checksum: ChunkChecksum | undefined,
  ): Promise<void> {
    // With a checksum nothing of this request counts until all of it is in and matches.
    const allOrNothing = checksum !== undefined;
    const before = structuredClone(upload);
    const chunkHash = createHash('sha256');
    let pending: Buffer[] = upload.tailLength > 0 ? [await this.#readTail(upload)] : [];
    let pendingBytes = upload.tailLength;
    let received = 0;
    const remaining = upload.length - upload.offset;
    const firstNewPart = upload.parts.length + 1;
    let nextPart = firstNewPart;
    const stored: StoredPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let partFailure: unknown;
    let multipart: Promise<string> | undefined;
    let saving = Promise.resolve();

    // Without a checksum, each part counts as soon as it and all before it are stored: a crash
    // mid-request then costs the client at most the parts still in flight.
    const commitStoredPrefix = (): void => {
      if (allOrNothing) return;
      let count = 0;
      while (stored[count] !== undefined) count++;
      const parts = [...upload.parts, ...stored.slice(0, count)];
      const snapshot: UploadRecord = {
        ...upload,
        parts,
        offset: parts.reduce((sum, part) => sum + part.size, 0),
        tailLength: 0,
      };
      saving = saving.then(() => this.#save(snapshot));
    };
    const sendPart = (bytes: Buffer, partNumber: number): void => {
      const work = (async () => {
        multipart ??= this.#multipart(upload);
        const part = await this.#store.putPart(
          upload.objectKey,
          await multipart,
          partNumber,
          bytes,
        );
        stored[partNumber - firstNewPart] = part;
        commitStoredPrefix();
      })().catch((err: unknown) => {
        partFailure ??= err;
      });
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    };

    let interrupted: unknown;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > remaining) {
          throw new PayloadTooLarge(
            `the chunk goes past the ${upload.length} bytes announced for this upload`,
          );
        }
        if (allOrNothing) chunkHash.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        while (pendingBytes >= upload.partSize) {
          const joined = Buffer.concat(pending, pendingBytes);
          sendPart(joined.subarray(0, upload.partSize), nextPart++);
          const rest = joined.subarray(upload.partSize);
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
          // Backpressure: stop reading the request while the backend catches up.
          while (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight);
          if (partFailure !== undefined) throw partFailure;
        }
      }
    } catch (err) {
      interrupted = err;
    }
    await Promise.all(inFlight);
    await saving;

    const failed = interrupted ?? partFailure;
    let storedCount = 0;
    while (stored[storedCount] !== undefined) storedCount++;
    if (
      failed !== undefined &&
      (allOrNothing || isRefusal(failed) || storedCount < nextPart - firstNewPart)
    ) {
      // The record (as last saved) describes only bytes that are stored; keep it that way.
      const multipartId = upload.multipartId;
      Object.assign(upload, before);
      if (multipartId !== undefined) upload.multipartId = multipartId;
      if (!allOrNothing && storedCount > 0) {
        upload.parts = [...upload.parts, ...stored.slice(0, storedCount)];
        upload.offset = upload.parts.reduce((sum, part) => sum + part.size, 0);
        upload.tailLength = 0;
      }
      throw failed;
    }
    if (allOrNothing && !chunkHash.digest().equals(checksum.digest)) {
      Object.assign(upload, before);
      throw new ChunkChecksumMismatch(
        'the chunk did not arrive as sent (its SHA-256 differs from Upload-Checksum); nothing of it was kept, send it again',
      );
    }
    // Everything sent is stored as parts; what is left over becomes the tail, or the last part.
    upload.parts = [...upload.parts, ...stored];
    const tail = Buffer.concat(pending, pendingBytes);
    upload.offset = upload.parts.reduce((sum, part) => sum + part.size, 0) + tail.length;
    upload.tailLength = tail.length;
    if (upload.offset === upload.length) {
      if (upload.parts.length === 0) {
        // A file smaller than one part: one plain write, no multipart at all.
        await this.#store.put(upload.objectKey, Readable.from([tail]), {
          size: tail.length,
          ...(upload.filetype ? { contentType: upload.filetype } : {}),
        });
        upload.joined = true;
      } else if (tail.length > 0) {
        multipart ??= this.#multipart(upload);
        const last = upload.parts.length + 1;
        upload.parts.push(await this.#store.putPart(upload.objectKey, await multipart, last, tail));
      }
      upload.tailLength = 0;
      upload.state = 'completing';
    } else if (tail.length > 0) {
      await this.#store.put(uploadKeys.tail(upload.id), Readable.from([tail]), {
        size: tail.length,
      });
    }
    upload.expiresAt = new Date(this.#now().getTime() + this.#options.expiryMs).toISOString();
    await this.#save(upload);
    if (failed !== undefined) {
      this.#log.info('upload.interrupted', { id: upload.id, offset: upload.offset });
    }
  }

  /** Joins the parts, reads the object back, and verifies it against the client's digest. */
  async #finish(upload: UploadRecord): Promise<void> {
    if (upload.state === 'receiving') {
      upload.state = 'completing';
      await this.#save(upload);
    }
    if (!upload.joined) {
      try {
        await this.#store.completeMultipart(
          upload.objectKey,
          await this.#multipart(upload),
          upload.parts,
        );
      } catch (err) {
        // Joined by an attempt whose answer was lost: the object is there already.
        if (!(err instanceof MultipartNotFound) || !(await this.#store.stat(upload.objectKey))) {
          throw err;
        }
      }
      upload.joined = true;
      await this.#save(upload);
    }
    const started = performance.now();
    const { sha256, size } = await this.#digestOfStored(upload.objectKey);
    const verifyMs = performance.now() - started;
    upload.sha256 = sha256;
    if (size !== upload.length || (upload.clientSha256 && upload.clientSha256 !== sha256)) {
      upload.state = 'failed';
      upload.failure =
        size !== upload.length
          ? `the server stored ${size} bytes, not the ${upload.length} announced; the file was discarded, send it again`
          : `the server computed SHA-256 ${sha256} for the stored file, not ${upload.clientSha256} as computed on the device; the file was discarded, send it again`;
      await this.#store.delete(upload.objectKey);
      await this.#store.delete(uploadKeys.tail(upload.id));
      await this.#save(upload);
      this.#log.warn('upload.checksum_mismatch', {
        id: upload.id,
        expected: upload.clientSha256,
        actual: sha256,
      });
      await this.#options.onRejected?.(upload);
      throw new FileChecksumMismatch(upload.failure);
    }
    // The same bytes stored before: keep that copy, drop this one (before it is locked).
    const earlier = await this.#refs.locate(sha256);
    const kept =
      earlier && (await this.#store.stat(earlier.key, versionOf(earlier)))
        ? earlier
        : await this.#refs.adopt(sha256, {
            key: upload.objectKey,
            size,
            contentType: upload.filetype ?? 'application/octet-stream',
            ...(await this.#protect(upload.objectKey)),
          });
    if (kept.key !== upload.objectKey) await this.#store.delete(upload.objectKey);
    upload.state = 'verified';
    upload.completedAt = this.#now().toISOString();
    await this.#store.delete(uploadKeys.tail(upload.id));
    await this.#save(upload);
    this.#log.info('upload.verified', {
      id: upload.id,
      sha256,
      size,
      verifyMs: Math.round(verifyMs),
    });
    await this.#options.onVerified?.(upload);
  }

  /**
   * Reads the stored object back and hashes it. One streamed read: ranged reads fetched ahead in
   * parallel measured four times slower against MinIO (`npm run bench:upload`).
   */
  /** Locks the original for the retention period where the store can (S3 Object Lock). */
  async #protect(key: string): Promise<{ versionId?: string }> {
    const days = this.#options.retentionDays;
    if (days === undefined || this.#store.protection !== 'object-lock') return {};
    return this.#store.protect(key, new Date(this.#now().getTime() + days * 24 * 60 * 60 * 1000));
  }

  async #digestOfStored(key: string): Promise<{ sha256: string; size: number }> {
    const { body } = await this.#store.get(key);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { sha256: hash.digest('hex'), size };
  }

  async #multipart(upload: UploadRecord): Promise<string> {
    if (upload.multipartId === undefined) {
      upload.multipartId = await this.#store.startMultipart(upload.objectKey, {
        ...(upload.filetype ? { contentType: upload.filetype } : {}),
      });
      await this.#save(upload);
    }
    return upload.multipartId;
  }

  async #readTail(upload: UploadRecord): Promise<Buffer> {
    const { body } = await this.#store.get(uploadKeys.tail(upload.id), {
      start: 0,
      end: upload.tailLength - 1,
    });
    const tail = await buffer(body);
    if (tail.length !== upload.tailLength) {
      throw new Error(
        `upload ${upload.id}: its stored tail has ${tail.length} bytes, the record says ${upload.tailLength}`,
      );
    }
    return tail;
  }

  async #discard(upload: UploadRecord): Promise<void> {
    if (upload.multipartId !== undefined && !upload.joined) {
      await this.#store.abortMultipart(upload.objectKey, upload.multipartId);
    }
    if (upload.state !== 'verified') await this.#store.delete(upload.objectKey);
    await this.#store.delete(uploadKeys.tail(upload.id));
    await this.#store.delete(uploadKeys.info(upload.id));
  }

  #expired(upload: UploadRecord): boolean {
    return upload.state !== 'completing' && Date.parse(upload.expiresAt) <= this.#now().getTime();
  }

  async #load(id: string): Promise<UploadRecord> {
    let raw: Buffer;
    try {
      raw = await buffer((await this.#store.get(uploadKeys.info(id))).body);
    } catch (err) {
      if (err instanceof BlobNotFound) {
        throw new NotFound('no such upload: it was finished long ago, cancelled, or never started');
      }
      throw err;
    }
    return uploadRecord.parse(JSON.parse(raw.toString('utf8')));
  }

  async #save(upload: UploadRecord): Promise<void> {
    const json = Buffer.from(JSON.stringify(upload));
    await this.#store.put(uploadKeys.info(upload.id), Readable.from([json]), {
      size: json.length,
      contentType: 'application/json',
    });
  }
}

/** Errors that are the client's fault: nothing of such a request is kept. */
function isRefusal(err: unknown): boolean {
  return err instanceof ExhibitError && err.status < 500;
}
