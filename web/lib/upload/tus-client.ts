/**
 * A client for resumable uploads over tus 1.0.0 (creation, termination, checksum) with Exhibit's
 * additions: `Exhibit-Chunk-Size` (the PATCH size the server prefers) and `Exhibit-Sha256` (the
 * digest of the whole file, sent with the last chunk and confirmed by the server). No Svelte and
 * no browser globals beyond fetch and Web Crypto, so tests drive it in Node against real servers.
 */
import { asSentence } from '../utils/format.ts';

export const TUS_VERSION = '1.0.0';

export interface TransportRequest {
  method: 'POST' | 'HEAD' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
  /** Bytes of the body sent so far; a transport that cannot tell reports nothing. */
  onProgress?: (sent: number) => void;
}

export interface TransportResponse {
  status: number;
  /** A response header, case-insensitively; undefined when absent. */
  header(name: string): string | undefined;
  body: string;
}

/**
 * Sends one request. Throws `AbortError` when the signal aborts, and any other error when no
 * answer came (offline, connection reset, timed out).
 */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/** Base of every failure of an upload request; `message` is written for the person uploading. */
export class TusError extends Error {
  override name = 'TusError';
  constructor(
    message: string,
    readonly status?: number,
    /** The server's machine-readable `error` code, when it sent one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** No answer, a timeout, or the server is overloaded or restarting: try again later. */
export class ServerUnavailable extends TusError {
  override name = 'ServerUnavailable';
}

/** There is no access token right now (offline sign-in, or renewal pending): wait for one. */
export class NotSignedIn extends TusError {
  override name = 'NotSignedIn';
}

/** Another client is writing this upload at the moment (423): wait and try again. */
export class UploadBusy extends TusError {
  override name = 'UploadBusy';
}

/** The server does not know this upload, or it expired (404, 410): start it again. */
export class UploadGone extends TusError {
  override name = 'UploadGone';
}

/** The server holds a different offset than the one sent (409): ask it where to continue. */
export class OffsetMismatch extends TusError {
  override name = 'OffsetMismatch';
}

/** One chunk arrived damaged (460) and was discarded: send it again. */
export class ChunkDamaged extends TusError {
  override name = 'ChunkDamaged';
}

/** The server's SHA-256 of the whole stored file is not the browser's: the upload is void. */
export class FileMismatch extends TusError {
  override name = 'FileMismatch';
}

/** The server refused for good (not allowed, too large, malformed): retrying will not help. */
export class UploadRefused extends TusError {
  override name = 'UploadRefused';
}

/** The access token was refused even after renewing it. */
export class SignedOut extends TusError {
  override name = 'SignedOut';
}

/** Errors that clear up by themselves, so the upload should wait and try again. */
export function isTransient(err: unknown): boolean {
  return (
    err instanceof ServerUnavailable || err instanceof NotSignedIn || err instanceof UploadBusy
  );
}

export interface CreatedUpload {
  url: string;
  expiresAt?: string;
  /** The PATCH size the server asked for, if it did. */
  chunkSize?: number;
  /** An empty file is complete at creation; the server may then confirm its digest at once. */
  sha256?: string;
}

export interface UploadStatus {
  offset: number;
  length?: number;
  expiresAt?: string;
  /** Present once the upload is complete: the server's SHA-256 of the stored object. */
  sha256?: string;
}

export interface TusClientOptions {
  /** The creation endpoint, absolute or same-origin (`/api/uploads`). */
  endpoint: string;
  transport: Transport;
  /**
   * An access token; `renew` asks for a new one after the server refused the last. Undefined
   * means none can be had right now.
   */
  token: (renew: boolean) => Promise<string | undefined>;
}

const SIGNED_OUT = 'Your sign-in has ended. Sign in again, then retry the upload.';
const UNREACHABLE = 'The server cannot be reached. The upload continues when it can.';

export class TusClient {
  readonly #endpoint: string;
  readonly #transport: Transport;
  readonly #token: TusClientOptions['token'];

  constructor(options: TusClientOptions) {
    this.#endpoint = options.endpoint;
    this.#transport = options.transport;
    this.#token = options.token;
  }

  /** Creates an upload of `length` bytes; `metadata` values may be any text. */
  async create(input: {
    length: number;
    metadata: Record<string, string>;
    signal?: AbortSignal;
  }): Promise<CreatedUpload> {
    const response = await this.#send({
      method: 'POST',
      url: this.#endpoint,
      headers: {
        'Upload-Length': String(input.length),
        // An empty Upload-Metadata header is malformed; no metadata means no header.
        ...(Object.keys(input.metadata).length
          ? { 'Upload-Metadata': encodeMetadata(input.metadata) }
          : {}),
      },
      ...(input.signal ? { signal: input.signal } : {}),
    });
    if (response.status !== 201) throw refusalOf(response);
    const location = response.header('location');
    if (!location)
      throw new ServerUnavailable('The server created the upload but sent no address for it.');
    const chunkSize = Number(response.header('exhibit-chunk-size'));
    const expiresAt = response.header('upload-expires');
    const sha256 = response.header('exhibit-sha256')?.toLowerCase();
    return {
      url: resolveLocation(location, this.#endpoint),
      ...(expiresAt ? { expiresAt } : {}),
      ...(Number.isSafeInteger(chunkSize) && chunkSize > 0 ? { chunkSize } : {}),
      ...(sha256 ? { sha256 } : {}),
    };
  }

  /** Where the server's copy of an upload stands. */
  async status(url: string, signal?: AbortSignal): Promise<UploadStatus> {
    const response = await this.#send({
      method: 'HEAD',
      url,
      headers: {},
      ...(signal ? { signal } : {}),
    });
    if (response.status !== 200 && response.status !== 204) throw refusalOf(response);
    const offset = offsetOf(response);
    const length = Number(response.header('upload-length'));
    const expiresAt = response.header('upload-expires');
    const sha256 = response.header('exhibit-sha256')?.toLowerCase();
    return {
      offset,
      ...(Number.isSafeInteger(length) && response.header('upload-length') ? { length } : {}),
      ...(expiresAt ? { expiresAt } : {}),
      ...(sha256 ? { sha256 } : {}),
    };
  }

  /**
   * Appends `chunk` at `offset`. `fileSha256` goes with the chunk that completes the file; the
   * answer then carries the server's digest of the stored object.
   */
  async patch(
    url: string,
    input: {
      offset: number;
      chunk: Uint8Array;
      fileSha256?: string;
      onProgress?: (sent: number) => void;
      signal?: AbortSignal;
    },
  ): Promise<{ offset: number; sha256?: string }> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': String(input.offset),
      'Upload-Checksum': `sha256 ${await chunkChecksum(input.chunk)}`,
    };
    if (input.fileSha256) headers['Exhibit-Sha256'] = input.fileSha256;
    const response = await this.#send({
      method: 'PATCH',
      url,
      headers,
      body: input.chunk,
      ...(input.onProgress ? { onProgress: input.onProgress } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    if (response.status === 460) {
      const { message, code } = errorBody(response);
      const text = message ?? 'The server received different bytes than were sent.';
      // A damaged chunk is discarded and may be sent again; a whole file that does not match
      // what was hashed here means the stored upload is void.
      if (input.fileSha256 && wholeFileMismatch(code, text)) {
        throw new FileMismatch(text, 460, code);
      }
      throw new ChunkDamaged(text, 460, code);
    }
    if (response.status !== 204 && response.status !== 200) throw refusalOf(response);
    const sha256 = response.header('exhibit-sha256')?.toLowerCase();
    return { offset: offsetOf(response), ...(sha256 ? { sha256 } : {}) };
  }

  /** Ends an upload on the server and discards what it holds; unknown uploads are no error. */
  async terminate(url: string, signal?: AbortSignal): Promise<void> {
    const response = await this.#send({
      method: 'DELETE',
      url,
      headers: {},
      ...(signal ? { signal } : {}),
    });
    if (response.status === 204 || response.status === 404 || response.status === 410) return;
    throw refusalOf(response);
  }

  #send(request: TransportRequest): Promise<TransportResponse> {
    return sendAuthorized(this.#transport, this.#token, {
      ...request,
      headers: { ...request.headers, 'Tus-Resumable': TUS_VERSION },
    });
  }
}

/**
 * Sends a request with the user's access token, renewing the token once when the server refuses
 * it (it may have run out between asking for it and using it). Throws `SignedOut` when the
 * renewed token is refused too, `NotSignedIn` when there is no token to send, and
 * `ServerUnavailable` when no answer came.
 */
export async function sendAuthorized(
  transport: Transport,
  token: TusClientOptions['token'],
  request: TransportRequest,
): Promise<TransportResponse> {
  const attempt = async (renew: boolean) => {
    const current = await token(renew);
    if (!current) throw new NotSignedIn('Waiting for the sign-in to be confirmed by the server.');
    try {
      return await transport({
        ...request,
        headers: { ...request.headers, Authorization: `Bearer ${current}` },
      });
    } catch (err) {
      // Only the caller's own abort is no failure; a transport's timeout is no answer.
      if (request.signal?.aborted) throw err;
      throw new ServerUnavailable(UNREACHABLE);
    }
  };
  let response = await attempt(false);
  if (response.status === 401) {
    response = await attempt(true);
    if (response.status === 401) throw new SignedOut(SIGNED_OUT, 401);
  }
  return response;
}

/** tus metadata: `key base64(value)` pairs, comma-separated; values are UTF-8. */
export function encodeMetadata(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([key, value]) => `${key} ${base64(new TextEncoder().encode(value))}`)
    .join(',');
}

async function chunkChecksum(chunk: Uint8Array): Promise<string> {
  return base64(new Uint8Array(await crypto.subtle.digest('SHA-256', ownBuffer(chunk))));
}

/**
 * The bytes as a view of a plain ArrayBuffer, which Web Crypto, fetch and Blob take; bytes in a
 * shared buffer are copied.
 */
export function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function resolveLocation(location: string, endpoint: string): string {
  // A same-origin endpoint keeps same-origin upload addresses, which the browser resolves.
  if (!/^[a-z][a-z\d+.-]*:/i.test(endpoint)) return location;
  return new URL(location, endpoint).href;
}

function offsetOf(response: TransportResponse): number {
  const offset = Number(response.header('upload-offset'));
  if (!Number.isSafeInteger(offset) || offset < 0 || !response.header('upload-offset')) {
    throw new ServerUnavailable('The server did not say how much of the file it holds.');
  }
  return offset;
}

function errorBody(response: TransportResponse): { message?: string; code?: string } {
  try {
    const parsed = JSON.parse(response.body) as { message?: unknown; error?: unknown };
    return {
      ...(typeof parsed.message === 'string' && parsed.message.trim()
        ? { message: asSentence(parsed.message) }
        : {}),
      ...(typeof parsed.error === 'string' ? { code: parsed.error } : {}),
    };
  } catch {
    // A plain-text answer (a standard tus server, a proxy) is still better than a status code.
    const text = response.body.trim();
    return text && text.length < 300 && !text.startsWith('<') ? { message: asSentence(text) } : {};
  }
}

function wholeFileMismatch(code: string | undefined, message: string): boolean {
  return (
    (code !== undefined && /file|sha256|digest/i.test(code)) ||
    /whole file|the file (did|does) not match|file's sha-?256/i.test(message)
  );
}

/** The error a refusal stands for, with the words a person should read. */
export function refusalOf(response: TransportResponse): TusError {
  const { status } = response;
  const { message, code } = errorBody(response);
  // A closed file request (withdrawn, expired, full) answers 410 too, but starting the upload
  // again would not help: it takes nothing more.
  if (code === 'request_closed') {
    return new UploadRefused(message ?? 'This link takes no more files.', status, code);
  }
  switch (status) {
    case 401:
      return new SignedOut(SIGNED_OUT, status, code);
    case 403:
      return new UploadRefused(message ?? 'You may not add evidence to this case.', status, code);
    case 404:
    case 410:
      return new UploadGone(
        message ?? 'The server no longer holds this upload; it starts again.',
        status,
        code,
      );
    case 409:
      return new OffsetMismatch(
        message ?? 'The server holds a different part of the file.',
        status,
        code,
      );
    case 413:
      return new UploadRefused(
        message ?? 'The file is larger than this server accepts.',
        status,
        code,
      );
    case 423:
      return new UploadBusy(
        message ?? 'Another device is sending this file right now; waiting for it.',
        status,
        code,
      );
    case 429:
      return new ServerUnavailable(
        message ?? 'The server is busy; the upload continues soon.',
        status,
        code,
      );
  }
  if (status >= 500) {
    return new ServerUnavailable(
      message ?? `The server is unavailable (${status}); the upload continues when it is back.`,
      status,
      code,
    );
  }
  return new UploadRefused(message ?? `The server refused the upload (${status}).`, status, code);
}

/** Sends requests with fetch: Node, or a browser request whose progress nobody watches. */
export function fetchTransport(timeoutMs = 60_000): Transport {
  return async (request) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body ? ownBuffer(request.body) : null,
      signal,
      credentials: 'same-origin',
    });
    const body = request.method === 'HEAD' ? '' : await response.text();
    request.onProgress?.(request.body?.byteLength ?? 0);
    return {
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      body,
    };
  };
}
