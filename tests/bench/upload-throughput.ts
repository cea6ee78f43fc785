// `npm run bench:upload`: a 1 GiB file into a real MinIO, once directly with the minio client's
// putObject and once through Exhibit's tus endpoint (blob-server in its own process, the client
// hashing with hash-wasm as the PWA does and checksumming every chunk), then the same upload
// with the server killed (SIGKILL) halfway and resumed. Prints throughput, the ratio, the
// server's verification rate (read back from MinIO and hashed) and the bytes a resume re-sent.
// SIZE_MIB=<n> changes the file size.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { minioClient, startMinio } from '../helpers/minio.ts';
import { rawRequest } from '../helpers/http.ts';
import { administratorIn } from '../helpers/identity.ts';
import { freePort, waitForHealth } from '../helpers/net.ts';

const require = createRequire(import.meta.url);
const MiB = 1024 * 1024;
const SIZE = Number(process.env.SIZE_MIB ?? 1024) * MiB;
const CASE_ID = 'bench-case-0001';

async function writeRandomFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const block = randomBytes(16 * MiB);
  for (let written = 0; written < size; written += block.length) {
    const piece = block.subarray(0, Math.min(block.length, size - written));
    // Each block differs, so no storage layer can deduplicate them.
    block.writeUInt32LE(written / block.length, 0);
    if (!out.write(Buffer.from(piece)))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

/**
 * A tus client as a dock station would be written: a worker thread reads the file and hashes it
 * with hash-wasm (the PWA's hasher) a chunk or two ahead of the sender, so hashing overlaps the
 * network; each chunk goes with its Upload-Checksum, the last with the whole file's digest. After
 * a failure the client asks the server where it stands and continues from there with the hash
 * state it saved at that offset.
 */
async function tusUpload(
  base: string,
  token: string,
  path: string,
  fault: { killAt?: number; kill?: () => Promise<void> },
): Promise<{
  clientSha256: string;
  serverSha256: string;
  sent: number;
  killedAt?: number;
  resumedFrom?: number;
}> {
  const headers = { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${token}` };
  const created = await request(`${base}/api/uploads`, 'POST', {
    ...headers,
    'Upload-Length': String(SIZE),
    'Upload-Metadata': `case ${Buffer.from(CASE_ID).toString('base64')},filename ${Buffer.from('evidence.bin').toString('base64')}`,
  });
  const location = `${base}${String(created.headers.location)}`;
  const chunkSize = Number(created.headers['exhibit-chunk-size']);
  /** Hash state after each chunk end, so a resume at any acknowledged offset can go on. */
  const states = new Map<number, Uint8Array>();
  let reader = new ChunkReader(path, chunkSize, 0, undefined);
  let offset = 0;
  let sent = 0;
  let killedAt: number | undefined;
  let resumedFrom: number | undefined;
  let serverSha256 = '';
  let clientSha256 = '';
  try {
    while (offset < SIZE) {
      const chunk = await reader.next();
      if (chunk.offset !== offset)
        throw new Error(`reader at ${chunk.offset}, upload at ${offset}`);
      states.set(chunk.offset + chunk.bytes.length, chunk.state);
      const final = chunk.fileSha256 !== undefined;
      if (final) clientSha256 = chunk.fileSha256!;
      const send = request(
        location,
        'PATCH',
        {
          ...headers,
          'Content-Type': 'application/offset+octet-stream',
          'Upload-Offset': String(offset),
          'Upload-Checksum': `sha256 ${chunk.checksum}`,
          ...(final ? { 'Exhibit-Sha256': clientSha256 } : {}),
        },
        chunk.bytes,
      );
      sent += chunk.bytes.length;
      if (
        fault.killAt !== undefined &&
        killedAt === undefined &&
        offset + chunk.bytes.length > fault.killAt
      ) {
        killedAt = offset;
        const cut = send.catch(() => undefined);
        await new Promise((r) => setTimeout(r, 30));
        await fault.kill!();
        await cut;
        const status = await request(location, 'HEAD', headers);
        resumedFrom = Number(status.headers['upload-offset']);
        await reader.close();
        reader = new ChunkReader(path, chunkSize, resumedFrom, states.get(resumedFrom));
        offset = resumedFrom;
        continue;
      }
      const reply = await send;
      if (reply.status !== 204) throw new Error(`PATCH answered ${reply.status}: ${reply.text}`);
      offset = Number(reply.headers['upload-offset']);
      if (final) serverSha256 = String(reply.headers['exhibit-sha256']);
    }
  } finally {
    await reader.close();
  }
  return {
    clientSha256,
    serverSha256,
    sent,
    ...(killedAt !== undefined ? { killedAt, resumedFrom } : {}),
  };
}

interface PreparedChunk {
  offset: number;
  bytes: Buffer;
  /** Base64 SHA-256 of the chunk, for Upload-Checksum. */
  checksum: string;
  /** hash-wasm state after this chunk. */
  state: Uint8Array;
  fileSha256?: string;
}

/** Reads and hashes chunks in a worker thread, at most two ahead of the sender. */
class ChunkReader {
  readonly #worker: Worker;
  readonly #ready: PreparedChunk[] = [];
  #waiting: ((chunk: PreparedChunk) => void) | undefined;
  #failure: Error | undefined;

  constructor(path: string, chunkSize: number, from: number, state: Uint8Array | undefined) {
    this.#worker = new Worker(HASH_WORKER, {
      eval: true,
      workerData: { path, chunkSize, from, state, size: SIZE, ahead: 2 },
    });
    this.#worker.on('message', (message: PreparedChunk & { bytes: Uint8Array }) => {
      const chunk = {
        ...message,
        bytes: Buffer.from(
          message.bytes.buffer,
          message.bytes.byteOffset,
          message.bytes.byteLength,
        ),
      };
      if (this.#waiting) {
        const deliver = this.#waiting;
        this.#waiting = undefined;
        deliver(chunk);
      } else this.#ready.push(chunk);
    });
    this.#worker.on('error', (err) => (this.#failure = err));
  }

  next(): Promise<PreparedChunk> {
    if (this.#failure) return Promise.reject(this.#failure);
    const chunk = this.#ready.shift();
    this.#worker.postMessage('more');
    if (chunk) return Promise.resolve(chunk);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

// Plain JavaScript, run with eval: the worker needs no TypeScript loader.
const HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { createSHA256 } = require(${JSON.stringify(require.resolve('hash-wasm'))});
(async () => {
  const { path, chunkSize, from, state, size, ahead } = workerData;
  const hasher = await createSHA256();
  hasher.init();
  if (state) hasher.load(state);
  const fd = openSync(path, 'r');
  let offset = from;
  let credit = ahead;
  let closed = false;
  const produce = () => {
    while (credit > 0 && offset < size) {
      credit--;
      const length = Math.min(chunkSize, size - offset);
      const bytes = new Uint8Array(length);
      readSync(fd, bytes, 0, length, offset);
      hasher.update(bytes);
      const final = offset + length === size;
      const chunk = {
        offset,
        bytes,
        checksum: createHash('sha256').update(bytes).digest('base64'),
        state: final ? new Uint8Array(0) : hasher.save(),
        fileSha256: final ? hasher.digest('hex') : undefined,
      };
      offset += length;
      parentPort.postMessage(chunk, [bytes.buffer]);
    }
    if (offset >= size && !closed) {
      closed = true;
      closeSync(fd);
    }
  };
  parentPort.on('message', () => {
    credit++;
    produce();
  });
  produce();
})();
`;

function request(url: string, method: string, headers: Record<string, string>, body?: Buffer) {
  return rawRequest(url, { method, headers, ...(body ? { body } : {}), timeoutMs: 300_000 });
}

const work = await mkdtemp(join(tmpdir(), 'exhibit-bench-upload-'));
const minio = await startMinio();
let server: ChildProcess | undefined;
const verifications: { size: number; verifyMs: number }[] = [];

try {
  const path = join(work, 'evidence.bin');
  await writeRandomFile(path, SIZE);
  const client = minioClient(minio);
  await client.makeBucket('direct', 'us-east-1');

  let started = performance.now();
  await client.putObject('direct', 'evidence.bin', createReadStream(path), SIZE);
  const directSeconds = (performance.now() - started) / 1000;

  const dataDir = join(work, 'data');
  const token = await administratorIn(dataDir);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const startServer = async () => {
    server = spawn(process.execPath, ['--import', 'tsx', 'blob-server/bin/blob-server.ts'], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        S3_ENDPOINT: minio.endPoint,
        S3_ACCESS_KEY: minio.accessKey,
        S3_SECRET_KEY: minio.secretKey,
        S3_BUCKET: 'exhibit',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let pending = '';
    server.stderr!.on('data', (data: Buffer) => {
      pending += data.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue; // Node's own warnings
        const event = JSON.parse(line) as { event?: string; size?: number; verifyMs?: number };
        if (event.event === 'upload.verified') {
          verifications.push({ size: event.size ?? 0, verifyMs: event.verifyMs ?? 0 });
        }
      }
    });
    await waitForHealth(base);
  };
  await startServer();

  started = performance.now();
  const ours = await tusUpload(base, token, path, {});
  const oursSeconds = (performance.now() - started) / 1000;
  const verify = verifications.at(-1);

  // The same again (a new copy of the bytes is not needed: dedup happens only after verifying).
  const resumed = await tusUpload(base, token, path, {
    killAt: Math.floor(SIZE / 2),
    kill: async () => {
      server!.kill('SIGKILL');
      await new Promise<void>((r) => server!.once('exit', () => r()));
      await startServer();
    },
  });

  const rate = (seconds: number) => `${(SIZE / MiB / seconds).toFixed(0)} MiB/s`;
  console.log(`file: ${SIZE / MiB} MiB, random bytes, on local disk`);
  console.log(
    `direct putObject into MinIO: ${directSeconds.toFixed(2)} s = ${rate(directSeconds)}`,
  );
  console.log(
    `Exhibit tus upload (client hashing, per-chunk checksums, server read-back verification): ${oursSeconds.toFixed(2)} s = ${rate(oursSeconds)}`,
  );
  console.log(
    `ratio Exhibit / direct, until verified: ${(directSeconds / oursSeconds).toFixed(2)}`,
  );
  if (verify) {
    const storedSeconds = oursSeconds - verify.verifyMs / 1000;
    console.log(
      `ratio Exhibit / direct, until the last byte is stored (before the read-back): ${(directSeconds / storedSeconds).toFixed(2)} (${rate(storedSeconds)})`,
    );
    console.log(
      `server verification (read back from MinIO + SHA-256): ${verify.verifyMs} ms = ${(((verify.size / verify.verifyMs) * 1000) / 1e9).toFixed(2)} GB/s`,
    );
  }
  console.log(
    `digest agreed: ${ours.serverSha256 === ours.clientSha256} (${ours.serverSha256.slice(0, 16)}…)`,
  );
  console.log(
    `SIGKILL at ${resumed.killedAt} bytes: resumed from ${resumed.resumedFrom}, re-sent ${resumed.sent - SIZE} bytes (${((resumed.sent - SIZE) / MiB).toFixed(1)} MiB); digest agreed: ${resumed.serverSha256 === resumed.clientSha256}`,
  );
} finally {
  server?.kill('SIGKILL');
  await minio.stop();
  await rm(work, { recursive: true, force: true });
}
