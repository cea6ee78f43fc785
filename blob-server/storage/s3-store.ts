import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import {
  Client,
  CopyDestinationOptions,
  CopySourceOptions,
  S3Error,
  type ClientOptions,
} from 'minio';
import {
  BlobNotFound,
  ExhibitError,
  MultipartNotFound,
  RangeNotSatisfiable,
  StorageUnavailable,
} from '../errors.ts';
import type {
  BlobInfo,
  BlobReadResult,
  BlobStore,
  ByteRange,
  PutOptions,
  ReadOptions,
  StoredPart,
} from './blob-store.ts';
import { assertPartList, assertValidPartNumber } from './multipart.ts';
import { assertValidRange } from './byte-range.ts';
import { assertValidKey, assertValidPrefix } from './keys.ts';

export interface S3StoreConfig {
  /** Full URL of the S3 API, e.g. http://127.0.0.1:9000 */
  endPoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** MinIO's default; set it when the server is configured with another region. */
  region?: string;
  /** How long startup may spend reaching the server and making sure the bucket exists. */
  startupTimeoutMs?: number;
  /** A request that sees no network activity for this long is abandoned as unreachable. */
  requestTimeoutMs?: number;
  /**
   * Write-once protection of originals with S3 Object Lock. The bucket must have been created
   * with Object Lock (a new bucket is); `protect` then sets a retention in this mode.
   */
  objectLock?: 'GOVERNANCE' | 'COMPLIANCE';
}

const DEFAULT_REGION = 'us-east-1';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const STARTUP_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 2_000;
const MiB = 1024 * 1024;
/** Above S3's 5 MiB minimum part; also the largest object sent as one plain PUT. */
const BASE_PART_SIZE = 8 * MiB;
const MAX_PARTS = 10_000;
/** S3's own rules for multipart writes. */
export const S3_LIMITS = { minPartSize: 5 * MiB, maxParts: MAX_PARTS } as const;

/** What the store will promise, known before it is reached. */
export function s3Capabilities(config: Pick<S3StoreConfig, 'objectLock'>) {
  return { ...S3_LIMITS, protection: config.objectLock ? 'object-lock' : 'none' } as const;
}

/** Errors that mean "the server could not be talked to", as opposed to "it said no". */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

export async function createS3Store(config: S3StoreConfig): Promise<BlobStore> {
  const target = parseEndPoint(config.endPoint);
  const requestTimeoutMs = config.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const agent = target.useSSL
    ? new https.Agent({ keepAlive: true })
    : new http.Agent({ keepAlive: true });
  const client = new Client({
    endPoint: target.host,
    port: target.port,
    useSSL: target.useSSL,
    accessKey: config.accessKey,
    secretKey: config.secretKey,
    // Setting it spares a bucket-location lookup before the first request to each bucket.
    region: config.region ?? DEFAULT_REGION,
    transport: idleTimeoutTransport(target.useSSL, requestTimeoutMs),
    transportAgent: agent,
  });
  const store = new S3Store(client, agent, config.bucket, config.endPoint, config.objectLock);
  const startupTimeoutMs = config.startupTimeoutMs ?? STARTUP_TIMEOUT_MS;
  try {
    await withDeadline(store.ensureBucket(config.region ?? DEFAULT_REGION), startupTimeoutMs, () =>
      unreachable(config.endPoint, `within ${startupTimeoutMs / 1000} s at startup`),
    );
  } catch (err) {
    agent.destroy();
    throw err;
  }
  return store;
}

class S3Store implements BlobStore {
  readonly kind = 's3';
  readonly minPartSize = S3_LIMITS.minPartSize;
  readonly maxParts = S3_LIMITS.maxParts;
  readonly protection: 'object-lock' | 'none';

  constructor(
    private readonly client: Client,
    private readonly agent: http.Agent,
    private readonly bucket: string,
    private readonly endPoint: string,
    private readonly objectLock: 'GOVERNANCE' | 'COMPLIANCE' | undefined,
  ) {
    this.protection = objectLock ? 'object-lock' : 'none';
  }

  async ensureBucket(region: string): Promise<void> {
    const exists = await this.call(`check the bucket ${this.bucket}`, undefined, () =>
      this.client.bucketExists(this.bucket),
    );
    if (!exists) {
      try {
        await this.client.makeBucket(this.bucket, region, {
          ...(this.objectLock ? { ObjectLocking: true } : {}),
        });
      } catch (err) {
        // Another instance created it between our check and our request: what we wanted.
        if (!(err instanceof S3Error && err.code === 'BucketAlreadyOwnedByYou')) {
          throw this.failure(err, `create the bucket ${this.bucket}`);
        }
      }
    }
    if (this.objectLock) await this.ensureObjectLock();
  }

  /**
   * Object Lock can only be enabled when a bucket is created. With it, S3 keeps every version:
   * old versions of working objects (upload records, tails) are expired after a day by a
   * lifecycle rule, which S3 does not apply to versions still under retention.
   */
  private async ensureObjectLock(): Promise<void> {
    const lock = await (
      this.client.getObjectLockConfig(this.bucket) as unknown as Promise<unknown>
    ).catch((err: unknown) => {
      if (err instanceof S3Error && err.code === 'ObjectLockConfigurationNotFoundError') {
        return undefined;
      }
      throw this.failure(err, `read the Object Lock setting of ${this.bucket}`);
    });
    if (!lock || (lock as { objectLockEnabled?: string }).objectLockEnabled !== 'Enabled') {
      throw new StorageUnavailable(
        `the bucket ${this.bucket} at ${this.endPoint} was created without Object Lock, so originals cannot be made write-once; ` +
          'S3 can only enable it on a new bucket: set S3_BUCKET to a new name, or S3_OBJECT_LOCK=off',
      );
    }
    await this.call(`set the version clean-up rule of ${this.bucket}`, undefined, () =>
      this.client.setBucketLifecycle(this.bucket, {
        Rule: [
          {
            ID: 'exhibit-expire-old-versions',
            Status: 'Enabled',
            Filter: { Prefix: '' },
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            Expiration: { ExpiredObjectDeleteMarker: true },
          },
        ],
      } as unknown as Parameters<Client['setBucketLifecycle']>[1]),
    );
  }

  async protect(key: string, until: Date): Promise<{ versionId?: string }> {
    assertValidKey(key);
    const mode = this.objectLock;
    if (!mode) return {};
    const stat = await this.call(`read ${key}`, key, () =>
      this.client.statObject(this.bucket, key),
    );
    const versionId = stat.versionId;
    if (!versionId) {
      throw new StorageUnavailable(
        `${key} in ${this.bucket} has no version, so it cannot be locked: the bucket must have Object Lock`,
      );
    }
    await this.call(`protect ${key}`, key, () =>
      this.client.putObjectRetention(this.bucket, key, {
        mode,
        retainUntilDate: until.toISOString(),
        versionId,
      }),
    );
    return { versionId };
  }

  async setLegalHold(key: string, hold: boolean, options?: ReadOptions): Promise<void> {
    assertValidKey(key);
    const version = versionOf(options);
    // Also answers BlobNotFound for a missing object, on a bucket without Object Lock too.
    await this.call(`read ${key}`, key, () => this.client.statObject(this.bucket, key, version));
    if (!this.objectLock) return;
    await this.call(`hold ${key}`, key, async () => {
      // minio-js types this as void, but it returns the request's promise.
      await (this.client.setObjectLegalHold(this.bucket, key, {
        status: hold ? 'ON' : 'OFF',
        ...(version ?? {}),
      }) as unknown as Promise<void>);
    });
  }

  /**
   * Splits the stream into parts itself instead of handing it to putObject. Given a stream of
   * unknown length, minio-js's putObject never settles when the source stream errors (and, with
   * no other 'error' listener on the source, crashes the process); it also resumes any earlier
   * unfinished multipart upload of the same key. One part means one plain PUT; more become a
   * multipart upload that is aborted on any failure. Both are atomic in S3.
   */
  async put(key: string, body: Readable, options?: PutOptions): Promise<{ size: number }> {
    assertValidKey(key);
    const contentType = options?.contentType ?? DEFAULT_CONTENT_TYPE;
    const parts = splitIntoParts(body, partSizeFor(options?.size));
    try {
      const first = await nextPart(parts);
      const second = await nextPart(parts);
      if (first === undefined || second === undefined) {
        return await this.putWhole(key, first ?? Buffer.alloc(0), contentType);
      }
      return await this.putInParts(key, contentType, prepend([first, second], parts));
    } catch (err) {
      body.destroy();
      throw err;
    } finally {
      await parts.return(undefined);
    }
  }

  async startMultipart(key: string, options?: { contentType?: string }): Promise<string> {
    assertValidKey(key);
    const contentType = options?.contentType ?? DEFAULT_CONTENT_TYPE;
    return this.call(`start storing ${key}`, undefined, () =>
      this.client.initiateNewMultipartUpload(this.bucket, key, { 'Content-Type': contentType }),
    );
  }

  async putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    bytes: Buffer,
  ): Promise<StoredPart> {
    assertValidKey(key);
    assertValidPartNumber(partNumber, MAX_PARTS);
    try {
      const { etag } = await this.uploadPart(key, uploadId, partNumber, bytes);
      return { part: partNumber, etag, size: bytes.length };
    } catch (err) {
      throw this.multipartFailure(err, key, uploadId);
    }
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: StoredPart[],
  ): Promise<{ size: number }> {
    assertValidKey(key);
    assertPartList(parts, this.minPartSize);
    try {
      await this.call(`finish storing ${key}`, undefined, () =>
        this.client.completeMultipartUpload(
          this.bucket,
          key,
          uploadId,
          parts.map(({ part, etag }) => ({ part, etag })),
        ),
      );
    } catch (err) {
      throw this.multipartFailure(err, key, uploadId);
    }
    return { size: parts.reduce((sum, part) => sum + part.size, 0) };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.call(`discard the unfinished ${key}`, undefined, () =>
        this.client.abortMultipartUpload(this.bucket, key, uploadId),
      );
    } catch (err) {
      if (this.multipartFailure(err, key, uploadId) instanceof MultipartNotFound) return;
      throw err;
    }
  }

  private multipartFailure(err: unknown, key: string, uploadId: string): unknown {
    const cause = err instanceof StorageUnavailable ? err.cause : err;
    if (cause instanceof S3Error && cause.code === 'NoSuchUpload') {
      return new MultipartNotFound(
        `no unfinished upload ${JSON.stringify(uploadId)} of ${JSON.stringify(key)}: it was completed, aborted or never started`,
      );
    }
    return err;
  }

  async get(key: string, range?: ByteRange, options?: ReadOptions): Promise<BlobReadResult> {
    assertValidKey(key);
    if (range) assertValidRange(range);
    try {
      return await this.fetch(key, range, options);
    } catch (err) {
      // S3 refuses every explicit range on an empty object, even one starting at byte 0.
      if (err instanceof RangeNotSatisfiable && range?.start === 0) {
        return this.fetchEmpty(key, options);
      }
      throw err;
    }
  }

  async stat(key: string, options?: ReadOptions): Promise<BlobInfo | null> {
    assertValidKey(key);
    try {
      const info = await this.call(`read ${key}`, key, () =>
        this.client.statObject(this.bucket, key, versionOf(options)),
      );
      const contentType = info.metaData['content-type'];
      return {
        size: info.size,
        contentType: typeof contentType === 'string' ? contentType : DEFAULT_CONTENT_TYPE,
      };
    } catch (err) {
      if (err instanceof BlobNotFound) return null;
      throw err;
    }
  }

  /** Server-side; note S3 limits a single CopyObject to sources of at most 5 GiB. */
  async copy(fromKey: string, toKey: string): Promise<void> {
    assertValidKey(fromKey);
    assertValidKey(toKey);
    await this.call(`copy ${fromKey} to ${toKey}`, fromKey, () =>
      this.client.copyObject(
        new CopySourceOptions({ Bucket: this.bucket, Object: fromKey }),
        new CopyDestinationOptions({ Bucket: this.bucket, Object: toKey }),
      ),
    );
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    // S3 answers 204 for a missing key too, so deleting twice is not an error.
    await this.call(`delete ${key}`, undefined, () => this.client.removeObject(this.bucket, key));
  }

  /** S3 returns keys in UTF-8 binary order, which for our ASCII-only keys is string order. */
  async *list(prefix: string): AsyncIterable<string> {
    assertValidPrefix(prefix);
    try {
      for await (const item of this.client.listObjectsV2(this.bucket, prefix, true)) {
        if (typeof item.name === 'string') yield item.name;
      }
    } catch (err) {
      throw this.failure(err, `list keys under ${JSON.stringify(prefix)}`);
    }
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    const where = `S3 bucket ${this.bucket} at ${this.endPoint}`;
    try {
      const exists = await withDeadline(
        this.client.bucketExists(this.bucket),
        HEALTH_TIMEOUT_MS,
        () => unreachable(this.endPoint, `within ${HEALTH_TIMEOUT_MS / 1000} s`),
      );
      return exists
        ? { ok: true, detail: `${where} is reachable` }
        : { ok: false, detail: `${where} does not exist` };
    } catch (err) {
      return { ok: false, detail: this.failure(err, 'check health').message };
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private async putWhole(
    key: string,
    bytes: Buffer,
    contentType: string,
  ): Promise<{ size: number }> {
    await this.call(`store ${key}`, undefined, () =>
      this.client.putObject(this.bucket, key, bytes, bytes.length, { 'Content-Type': contentType }),
    );
    return { size: bytes.length };
  }

  private async putInParts(
    key: string,
    contentType: string,
    parts: AsyncIterable<Buffer>,
  ): Promise<{ size: number }> {
    const uploadId = await this.call(`start storing ${key}`, undefined, () =>
      this.client.initiateNewMultipartUpload(this.bucket, key, { 'Content-Type': contentType }),
    );
    try {
      const etags: { part: number; etag: string }[] = [];
      let size = 0;
      for await (const part of parts) {
        etags.push(await this.uploadPart(key, uploadId, etags.length + 1, part));
        size += part.length;
      }
      await this.call(`finish storing ${key}`, undefined, () =>
        this.client.completeMultipartUpload(this.bucket, key, uploadId, etags),
      );
      return { size };
    } catch (err) {
      // Best effort: if the server is unreachable, MinIO expires stale uploads by itself.
      await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => {});
      throw err;
    }
  }

  private async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    part: Buffer,
  ): Promise<{ part: number; etag: string }> {
    // No Content-MD5: over http minio-js signs the payload's SHA-256, which the server checks,
    // and over https TLS does; an MD5 on top cost a fifth of the upload's CPU time.
    const headers = { 'Content-Length': part.length };
    const { etag } = await this.call(`store part ${partNumber} of ${key}`, undefined, () =>
      this.client.uploadPart(
        { bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber, headers },
        part,
      ),
    );
    return { part: partNumber, etag };
  }

  private async fetch(
    key: string,
    range: ByteRange | undefined,
    options: ReadOptions | undefined,
  ): Promise<BlobReadResult> {
    const partial = range !== undefined && (range.start > 0 || range.end !== undefined);
    const version = versionOf(options);
    const response = await this.call(`read ${key}`, key, () =>
      partial
        ? this.client.getPartialObject(this.bucket, key, range.start, lengthOf(range), version)
        : this.client.getObject(this.bucket, key, version),
    );
    return readResultOf(response);
  }

  private async fetchEmpty(key: string, options: ReadOptions | undefined): Promise<BlobReadResult> {
    const result = await this.fetch(key, undefined, options);
    if (result.size === 0) return result;
    // Replaced by a non-empty object between the two requests: the range no longer applies.
    result.body.destroy();
    throw new RangeNotSatisfiable(`The object ${JSON.stringify(key)} changed while being read`);
  }

  private async call<T>(
    action: string,
    key: string | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw this.failure(err, action, key);
    }
  }

  private failure(err: unknown, action: string, key?: string): Error {
    if (err instanceof ExhibitError) return err;
    if (err instanceof S3Error) return this.refusal(err, action, key);
    if (isConnectionError(err)) {
      return unreachable(this.endPoint, `to ${action} (${describe(err)})`, err);
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  private refusal(err: S3Error, action: string, key?: string): Error {
    if (key !== undefined && (err.code === 'NoSuchKey' || err.code === 'NotFound')) {
      return new BlobNotFound(`No blob is stored under the key ${JSON.stringify(key)}`);
    }
    if (err.code === 'InvalidRange') {
      return new RangeNotSatisfiable(
        `Byte range is past the end of the object ${JSON.stringify(key ?? '')}`,
      );
    }
    return new StorageUnavailable(
      `S3 storage at ${this.endPoint} refused to ${action}: ${err.code ?? 'error'}: ${err.message}`,
      { cause: err },
    );
  }
}

function parseEndPoint(endPoint: string): { host: string; port: number; useSSL: boolean } {
  let url: URL;
  try {
    url = new URL(endPoint);
  } catch {
    throw new Error(
      `S3 endPoint must be a URL like http://127.0.0.1:9000, got ${JSON.stringify(endPoint)}`,
    );
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/') {
    throw new Error(
      `S3 endPoint must be an http(s) URL without a path, like http://127.0.0.1:9000, got ${JSON.stringify(endPoint)}`,
    );
  }
  const useSSL = url.protocol === 'https:';
  const port = url.port === '' ? (useSSL ? 443 : 80) : Number(url.port);
  // URL keeps the brackets of an IPv6 literal; the client wants the bare address.
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, useSSL };
}

/**
 * minio-js has no request timeout of its own, so a server that accepts connections but never
 * answers (stopped, overloaded, a black-holed network) would hang callers forever. The timeout
 * covers connecting, sending and waiting for the response headers; it is lifted once they arrive
 * so that a slow downstream reader of a large object is not mistaken for a dead server.
 */
function idleTimeoutTransport(
  secure: boolean,
  idleMs: number,
): NonNullable<ClientOptions['transport']> {
  const base = secure ? https : http;
  const request = (
    options: http.RequestOptions,
    callback?: (response: http.IncomingMessage) => void,
  ): http.ClientRequest => {
    const req = base.request(options, callback);
    req.setTimeout(idleMs, () => {
      const err = new Error(`no answer from the server for ${idleMs} ms`);
      req.destroy(Object.assign(err, { code: 'ETIMEDOUT' }));
    });
    req.once('response', () => req.setTimeout(0));
    return req;
  };
  // minio-js only ever calls request(options, callback); the other overloads are never used.
  return { request: request as typeof http.request };
}

/**
 * Yields the stream's bytes in parts of `partSize(partNumber)` bytes, the last one shorter, and
 * always at least one part (empty for an empty stream). Source errors propagate unchanged.
 */
async function* splitIntoParts(
  body: Readable,
  partSize: (partNumber: number) => number,
): AsyncGenerator<Buffer, void, undefined> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let partNumber = 1;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    pending.push(bytes);
    pendingBytes += bytes.length;
    while (pendingBytes >= partSize(partNumber)) {
      const all = Buffer.concat(pending, pendingBytes);
      const size = partSize(partNumber++);
      yield all.subarray(0, size);
      const rest = all.subarray(size);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
    }
  }
  if (pendingBytes > 0 || partNumber === 1) yield Buffer.concat(pending, pendingBytes);
}

/**
 * S3 allows at most 10 000 parts. With a known size the part size is chosen to fit; without one,
 * parts double in size every thousand parts, which keeps memory low for ordinary files and still
 * reaches several terabytes.
 */
function partSizeFor(totalSize: number | undefined): (partNumber: number) => number {
  if (totalSize !== undefined) {
    const fitting = Math.ceil(totalSize / MAX_PARTS / MiB) * MiB;
    const size = Math.max(BASE_PART_SIZE, fitting);
    return () => size;
  }
  return (partNumber) => BASE_PART_SIZE * 2 ** Math.floor((partNumber - 1) / 1000);
}

async function nextPart(
  parts: AsyncGenerator<Buffer, void, undefined>,
): Promise<Buffer | undefined> {
  const result = await parts.next();
  return result.done ? undefined : result.value;
}

async function* prepend(
  first: Buffer[],
  rest: AsyncIterable<Buffer>,
): AsyncGenerator<Buffer, void, undefined> {
  yield* first;
  yield* rest;
}

function versionOf(options: ReadOptions | undefined): { versionId: string } | undefined {
  return options?.versionId ? { versionId: options.versionId } : undefined;
}

function lengthOf(range: ByteRange): number {
  // 0 asks minio-js for an open-ended range ("bytes=<start>-").
  return range.end === undefined ? 0 : range.end - range.start + 1;
}

/** minio-js hands back the HTTP response itself, whose headers describe what was served. */
function readResultOf(response: Readable): BlobReadResult {
  if (!(response instanceof http.IncomingMessage)) {
    throw new Error('minio-js returned something other than an HTTP response');
  }
  const header = (name: string): string | undefined => {
    const value = response.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const contentType = header('content-type') ?? DEFAULT_CONTENT_TYPE;
  const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header('content-range') ?? '');
  if (contentRange) {
    const [, start, end, size] = contentRange.map(Number) as [number, number, number, number];
    return { body: response, contentType, size, start, end };
  }
  const size = Number(header('content-length') ?? 0);
  return { body: response, contentType, size, start: 0, end: size - 1 };
}

async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function unreachable(endPoint: string, circumstances: string, cause?: unknown): StorageUnavailable {
  return new StorageUnavailable(
    `S3 storage at ${endPoint} could not be reached ${circumstances}`,
    cause === undefined ? undefined : { cause },
  );
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  // minio-js turns 5xx answers (e.g. MinIO still starting) into plain errors after retrying.
  return err instanceof Error && /^(Request failed after|Retryable HTTP status)/.test(err.message);
}

function describe(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}
