import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openIdentity } from '../../blob-server/identity/index.ts';
import { createBlobServer } from '../../blob-server/server.ts';
import { createS3Store } from '../../blob-server/storage/s3-store.ts';
import type { Logger } from '../../sync-server/logger.ts';
import { startMinio, type MinioServer } from '../helpers/minio.ts';
import { freePort, waitForHealth } from '../helpers/net.ts';
import { within } from '../helpers/async.ts';
import { rawRequest, type RawReply } from '../helpers/http.ts';
import { administratorIn } from '../helpers/identity.ts';

const MiB = 1024 * 1024;
const CASE_ID = 'case-faults-0001';
const quiet = { info() {}, warn() {}, error() {} } as unknown as Logger;

type Reply = RawReply;

const send = (url: string, method: string, headers: Record<string, string>, body?: Buffer) =>
  rawRequest(url, { method, headers, ...(body ? { body } : {}) });

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A tus client that counts what it sends, as a PWA or dock station would behave. */
class Sender {
  sent = 0;
  constructor(
    readonly base: () => string,
    readonly token: string,
    readonly file: Buffer,
    readonly chunkSize: number,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${this.token}`, ...extra };
  }

  async create(): Promise<string> {
    const reply = await send(
      `${this.base()}/api/uploads`,
      'POST',
      this.headers({
        'Upload-Length': String(this.file.length),
        'Upload-Metadata': `case ${Buffer.from(CASE_ID).toString('base64')}`,
      }),
    );
    assert.is(reply.status, 201, reply.text);
    return String(reply.headers.location);
  }

  async offset(path: string): Promise<Reply> {
    return send(`${this.base()}${path}`, 'HEAD', this.headers());
  }

  /** Sends the rest from `offset`; the last answer must carry the server's matching digest. */
  async finishFrom(path: string, offset: number): Promise<void> {
    let last: Reply | undefined;
    while (offset < this.file.length) {
      last = await this.chunk(path, offset);
      assert.is(last.status, 204, last.text);
      offset = Number(last.headers['upload-offset']);
    }
    assert.is(last?.headers['exhibit-sha256'], sha256(this.file));
  }

  /** The stored evidence, downloaded as any reader of the case would. */
  async download(): Promise<Buffer> {
    const read = await send(`${this.base()}/api/blobs/${sha256(this.file)}`, 'GET', this.headers());
    assert.is(read.status, 200);
    return read.body;
  }

  /** Sends the chunk at `offset`; resolves with the reply, or rejects if the connection dies. */
  async chunk(path: string, offset: number): Promise<Reply> {
    const bytes = this.file.subarray(offset, offset + this.chunkSize);
    const final = offset + bytes.length === this.file.length;
    this.sent += bytes.length;
    return send(
      `${this.base()}${path}`,
      'PATCH',
      this.headers({
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': String(offset),
        'Upload-Checksum': `sha256 ${createHash('sha256').update(bytes).digest('base64')}`,
        ...(final ? { 'Exhibit-Sha256': sha256(this.file) } : {}),
      }),
      bytes,
    );
  }
}

const test = suite('upload faults');
let minio: MinioServer | undefined;
let child: ChildProcess | undefined;
const dirs: string[] = [];

test.after(async () => {
  child?.kill('SIGKILL');
  await minio?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('resumes after the server is killed with SIGKILL mid-upload; the stored file is exact', () =>
  within(180_000, 'SIGKILL', async () => {
    minio ??= await startMinio();
    const dataDir = await mkdtemp(join(tmpdir(), 'exhibit-kill-'));
    dirs.push(dataDir);
    // The administrator is made before the server starts; the server then honours their token.
    const token = await administratorIn(dataDir);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const startServer = async () => {
      child = spawn(process.execPath, ['--import', 'tsx', 'blob-server/bin/blob-server.ts'], {
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          LOG_LEVEL: 'error',
          S3_ENDPOINT: minio!.endPoint,
          S3_ACCESS_KEY: minio!.accessKey,
          S3_SECRET_KEY: minio!.secretKey,
          S3_BUCKET: 'kill-test',
        },
        stdio: 'ignore',
      });
      await waitForHealth(base);
    };
    await startServer();
    const file = randomBytes(48 * MiB + 4321);
    const sender = new Sender(() => base, token, file, 16 * MiB);
    const path = await sender.create();
    assert.is((await sender.chunk(path, 0)).status, 204);
    // Kill while the second chunk is on its way.
    const inFlight = sender.chunk(path, 16 * MiB).catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 150));
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    // Whether that chunk was stored before the kill is up to timing; HEAD tells the client.
    await inFlight;
    await startServer();
    const offset = Number((await sender.offset(path)).headers['upload-offset']);
    assert.ok(offset === 16 * MiB || offset === 32 * MiB, `resumes from ${offset}`);
    await sender.finishFrom(path, offset);
    assert.ok((await sender.download()).equals(file));
    // At most the one chunk in flight was sent again.
    assert.ok(sender.sent - file.length <= 16 * MiB, `re-sent ${sender.sent - file.length} bytes`);
    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;
  }));

test('waits out a MinIO restart mid-upload with clear errors, then finishes exactly', () =>
  within(180_000, 'MinIO restart', async () => {
    minio ??= await startMinio();
    const dataDir = await mkdtemp(join(tmpdir(), 'exhibit-outage-'));
    dirs.push(dataDir);
    const token = await administratorIn(dataDir);
    const identity = await openIdentity({
      dataDir,
      accessTokenTtlSeconds: 3600,
      sessionTtlMs: 3600_000,
    });
    const store = await createS3Store({
      endPoint: minio.endPoint,
      accessKey: minio.accessKey,
      secretKey: minio.secretKey,
      bucket: 'outage-test',
      requestTimeoutMs: 3_000,
    });
    const server = await createBlobServer({
      store,
      maxUploadBytes: MiB,
      log: quiet,
      auth: { service: identity.service, cases: identity.cases, refreshTtlMs: 60_000 },
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const file = randomBytes(24 * MiB + 17);
      const sender = new Sender(() => base, token, file, 8 * MiB);
      const path = await sender.create();
      assert.is((await sender.chunk(path, 0)).status, 204);
      await minio.stopProcess();
      const during = await sender.chunk(path, 8 * MiB);
      assert.is(during.status, 503, during.text);
      assert.match(
        (JSON.parse(during.text) as { message: string }).message,
        /could not be reached/,
      );
      assert.is((await sender.offset(path)).status, 503);
      await minio.restart();
      const offset = Number((await sender.offset(path)).headers['upload-offset']);
      assert.is(offset, 8 * MiB);
      await sender.finishFrom(path, offset);
      assert.ok((await sender.download()).equals(file));
    } finally {
      await server.close();
      await store.close();
      await identity.close();
    }
  }));

test.run();
