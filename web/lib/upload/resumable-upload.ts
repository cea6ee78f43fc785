import { readBytes, ResumableHash, type HashCheckpoint } from './resumable-hash.ts';
import {
  ChunkDamaged,
  FileMismatch,
  isTransient,
  OffsetMismatch,
  UploadGone,
  type TusClient,
} from './tus-client.ts';

/** Where one file's upload stands, saved after every chunk the server acknowledged. */
export interface UploadCheckpoint {
  url?: string;
  expiresAt?: string;
  chunkSize?: number;
  /** The hash of the bytes the server acknowledged: its offset is the upload's offset. */
  hash?: HashCheckpoint;
}

export interface UploadResult {
  /** The browser's SHA-256 of the whole file. */
  sha256: string;
  /** The server's SHA-256 of the object it stored, when it said. */
  serverSha256?: string;
}

export interface ResumableUploadOptions {
  client: TusClient;
  file: Blob;
  /** tus metadata for the creation request (case, evidence, filename, filetype). */
  metadata: Record<string, string>;
  /** Where an earlier session left off; `{}` for a new upload. */
  checkpoint: UploadCheckpoint;
  /** Persist this before the upload goes on, so a reload continues from it. */
  saveCheckpoint: (checkpoint: UploadCheckpoint) => Promise<void>;
  /** Bytes the server holds plus bytes of the chunk in flight. */
  onProgress?: (sent: number) => void;
  /** The upload waits `delayMs` before trying again, for `reason` (a sentence for a person). */
  onWaiting?: (reason: string, delayMs: number) => void;
  signal: AbortSignal;
  /** PATCH size when the server recommends none. */
  defaultChunkSize?: number;
  retryDelaysMs?: readonly number[];
  /** Waits `ms`, or less if waiting longer is pointless (the device came back online). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Resolves when requests can reach the network. */
  online?: (signal: AbortSignal) => Promise<void>;
}

/** A chunk read and hashed, ready to send; `after` is the hash state once it is included. */
interface Prepared {
  start: number;
  end: number;
  chunk: Uint8Array;
  after: HashCheckpoint;
  fileSha256?: string;
}

const DEFAULT_CHUNK = 8 * 1024 * 1024;
/** A server asking for bigger chunks still gets at most this much of the file held in memory. */
const MAX_CHUNK = 64 * 1024 * 1024;
export const RETRY_DELAYS_MS = [1_000, 3_000, 10_000, 30_000] as const;
/** A damaged chunk is resent at once this many times before backing off. */
const QUICK_RESENDS = 2;

/**
 * Uploads one file with tus, hashing it chunk by chunk on the way: each chunk is hashed just
 * before it is sent, the hash state is saved with every acknowledged offset, and the last chunk
 * carries the whole file's SHA-256 for the server to confirm. Transient failures wait and try
 * again without end; the caller's signal stops it. Throws the permanent failures (refused,
 * signed out, file mismatch).
 */
export async function resumableUpload(options: ResumableUploadOptions): Promise<UploadResult> {
  const { client, file, signal } = options;
  const delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  const sleep = options.sleep ?? abortableSleep;
  const hash = await ResumableHash.create();
  let checkpoint: UploadCheckpoint = { ...options.checkpoint };
  // The newest state the server acknowledged; the hash never falls back behind it.
  let acknowledged = hash.checkpoint();
  // The state after the chunk whose answer did not arrive.
  let inFlight: HashCheckpoint | undefined;
  if (checkpoint.hash) {
    try {
      hash.restore(checkpoint.hash);
      acknowledged = checkpoint.hash;
    } catch {
      // Saved by an incompatible hasher: the bytes are still here to hash again from the start.
      hash.reset();
    }
  }

  /** Brings the hash to the server's offset, and saves that as the acknowledged state. */
  const align = async (serverOffset: number) => {
    if (serverOffset > file.size) {
      throw new FileMismatch('The server holds more bytes than the file has.');
    }
    // The answer to a chunk may have been lost after the server stored it: its hash state is
    // still good, and saves reading the chunk again.
    if (inFlight && inFlight.offset <= serverOffset && inFlight.offset > hash.offset) {
      hash.restore(inFlight);
    }
    inFlight = undefined;
    if (serverOffset < hash.offset) {
      if (serverOffset >= acknowledged.offset) hash.restore(acknowledged);
      else hash.reset();
    }
    await hash.catchUp(file, serverOffset, signal);
    if (hash.offset !== acknowledged.offset) {
      acknowledged = hash.checkpoint();
      checkpoint = { ...checkpoint, hash: acknowledged };
      await options.saveCheckpoint(checkpoint);
    }
    options.onProgress?.(serverOffset);
  };

  const finish = (serverSha256: string | undefined): UploadResult => {
    const sha256 = hash.hex();
    if (serverSha256 && serverSha256 !== sha256) {
      throw new FileMismatch(
        `The server stored a file with SHA-256 ${serverSha256}, but this device computed ${sha256}. The upload was not accepted.`,
      );
    }
    return { sha256, ...(serverSha256 ? { serverSha256 } : {}) };
  };

  /** Reads the chunk at `start` and feeds it to the hash, which then stands after it. */
  const prepare = async (start: number, size: number): Promise<Prepared> => {
    const end = Math.min(file.size, start + size);
    const chunk = await readBytes(file, start, end);
    hash.update(chunk);
    return {
      start,
      end,
      chunk,
      after: hash.checkpoint(),
      ...(end === file.size ? { fileSha256: hash.hex() } : {}),
    };
  };

  let failures = 0;
  let resends = 0;
  // An upload continued from an earlier session must first learn where the server stands.
  let askServer = checkpoint.url !== undefined;
  for (;;) {
    signal.throwIfAborted();
    await options.online?.(signal);
    try {
      if (!checkpoint.url) {
        hash.reset();
        acknowledged = hash.checkpoint();
        const created = await client.create({
          length: file.size,
          metadata: options.metadata,
          signal,
        });
        const { sha256: confirmed, ...where } = created;
        checkpoint = { ...where, hash: acknowledged };
        await options.saveCheckpoint(checkpoint);
        options.onProgress?.(0);
        if (file.size === 0 && confirmed) return finish(confirmed);
      } else if (askServer) {
        const status = await client.status(checkpoint.url, signal);
        await align(status.offset);
        if (status.offset === file.size && (status.sha256 || file.size > 0)) {
          return finish(status.sha256);
        }
      }
      askServer = true;
      const url = checkpoint.url;
      if (url === undefined) continue;
      const chunkSize = Math.min(
        checkpoint.chunkSize ?? options.defaultChunkSize ?? DEFAULT_CHUNK,
        MAX_CHUNK,
      );
      // The next chunk is read and hashed while the one before it travels, so hashing costs
      // no time on a fast network; it is dropped whenever the server's answer is not the
      // expected one.
      let next: Prepared | undefined;
      for (;;) {
        const current = next ?? (await prepare(hash.offset, chunkSize));
        next = undefined;
        const sending = client.patch(url, {
          offset: current.start,
          chunk: current.chunk,
          ...(current.fileSha256 ? { fileSha256: current.fileSha256 } : {}),
          ...(options.onProgress
            ? { onProgress: (sent) => options.onProgress?.(current.start + sent) }
            : {}),
          signal,
        });
        const following =
          current.end < file.size ? prepare(current.end, chunkSize) : Promise.resolve(undefined);
        let answer: { offset: number; sha256?: string };
        try {
          answer = await sending;
        } catch (err) {
          await following.catch(() => undefined);
          inFlight = current.after;
          hash.restore(acknowledged);
          throw err;
        }
        next = await following;
        if (answer.offset === current.end) {
          acknowledged = current.after;
          checkpoint = { ...checkpoint, hash: acknowledged };
          await options.saveCheckpoint(checkpoint);
          options.onProgress?.(answer.offset);
        } else {
          // A server may take less than it was sent; it then holds only what its offset says.
          next = undefined;
          hash.restore(acknowledged);
          await align(answer.offset);
        }
        failures = 0;
        resends = 0;
        if (answer.offset === file.size) {
          hash.restore(current.after);
          return finish(answer.sha256);
        }
      }
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof UploadGone) {
        // Expired or never known: start over, with a pause if that keeps happening.
        checkpoint = {};
        askServer = false;
        if (++failures > 1) await backOff(err.message);
        continue;
      }
      if (err instanceof OffsetMismatch) {
        askServer = true;
        if (++failures > 1) await backOff(err.message);
        continue;
      }
      if (err instanceof ChunkDamaged) {
        askServer = true;
        if (++resends > QUICK_RESENDS) await backOff(err.message);
        continue;
      }
      if (isTransient(err)) {
        askServer = checkpoint.url !== undefined;
        failures++;
        await backOff((err as Error).message);
        continue;
      }
      throw err;
    }
  }

  async function backOff(reason: string): Promise<void> {
    const delay = delays[Math.min(Math.max(failures, 1) - 1, delays.length - 1)] ?? 30_000;
    options.onWaiting?.(reason, delay);
    await sleep(delay, signal);
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }
    signal.addEventListener('abort', aborted, { once: true });
  });
}
