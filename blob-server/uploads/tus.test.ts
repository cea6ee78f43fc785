import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tus from 'tus-js-client';
import { minioClient, startMinio, type MinioServer } from '../../tests/helpers/minio.ts';
import { rawRequest, type RawReply } from '../../tests/helpers/http.ts';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { within } from '../../tests/helpers/async.ts';
import type { Logger } from '../../sync-server/logger.ts';
import { createBlobServer, type BlobServer } from '../server.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { createFsStore } from '../storage/fs-store.ts';
import { createS3Store } from '../storage/s3-store.ts';
import { uploadKeys } from './upload-record.ts';

const MiB = 1024 * 1024;
const CASE_ID = 'case-0123456789';
const CASE_TIMEOUT_MS = 90_000;
const quiet: Logger = {
  info() {},
  warn() {},
  error: (...a: unknown[]) => console.error(...a),
} as unknown as Logger;

interface Api {
  base: string;
  server: BlobServer;
  store: BlobStore;
  token: string;
  /** Actions recorded in the audit trail so far. */
  actions(): Promise<string[]>;
  tokenFor(role: 'investigator' | 'guest' | 'analyst'): Promise<string>;
  /** Lets the clock jump, for expiry. */
  advance(ms: number): void;
  /** Unfinished multipart writes the backend still holds (S3 only; fs: part directories). */
  openMultiparts(): Promise<number>;
}

type Reply = RawReply;

function send(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: Buffer },
): Promise<Reply> {
  return rawRequest(url, { ...init, timeoutMs: 30_000 });
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const chunkSum = (bytes: Buffer) => `sha256 ${createHash('sha256').update(bytes).digest('base64')}`;

function tusHeaders(api: Api, extra: Record<string, string> = {}, token = api.token) {
  return { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${token}`, ...extra };
}

async function create(
  api: Api,
  length: number,
  metadata = `case ${b64(CASE_ID)},filename ${b64('body-cam.mp4')},filetype ${b64('video/mp4')}`,
  token = api.token,
): Promise<{ reply: Reply; url: string }> {
  const reply = await send(`${api.base}/api/uploads`, {
    method: 'POST',
    headers: tusHeaders(
      api,
      { 'Upload-Length': String(length), 'Upload-Metadata': metadata },
      token,
    ),
  });
  return { reply, url: `${api.base}${reply.headers.location ?? ''}` };
}

function patch(
  api: Api,
  url: string,
  offset: number,
  bytes: Buffer,
  extra: Record<string, string> = {},
  token = api.token,
): Promise<Reply> {
  return send(url, {
    method: 'PATCH',
    headers: tusHeaders(
      api,
      {
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': String(offset),
        'Upload-Checksum': chunkSum(bytes),
        ...extra,
      },
      token,
    ),
    body: bytes,
  });
}

const head = (api: Api, url: string, token = api.token) =>
  send(url, { method: 'HEAD', headers: tusHeaders(api, {}, token) });

/** Sends the whole file in chunks of `chunkSize`, the last one with the file's digest. */
async function uploadAll(api: Api, url: string, file: Buffer, chunkSize: number): Promise<Reply> {
  let last: Reply | undefined;
  for (let offset = 0; offset < file.length || offset === 0; offset += chunkSize) {
    const chunk = file.subarray(offset, offset + chunkSize);
    const final = offset + chunk.length === file.length;
    last = await patch(api, url, offset, chunk, final ? { 'Exhibit-Sha256': sha256(file) } : {});
    assert.is(last.status, 204, last.text);
    if (file.length === 0) break;
  }
  return last!;
}

function download(api: Api, digest: string, range?: string): Promise<Reply> {
  return rawRequest(`${api.base}/api/blobs/${digest}`, {
    method: 'GET',
    headers: { Authorization: `Bearer ${api.token}`, ...(range ? { Range: range } : {}) },
  });
}

const errorOf = (reply: Reply) => JSON.parse(reply.text) as { error: string; message: string };

export function tusSuite(
  name: string,
  openStore: () => Promise<{
    store: BlobStore;
    openMultiparts(): Promise<number>;
    cleanup(): Promise<void>;
  }>,
): void {
  const test = suite(`tus uploads (${name})`);
  let opened: Promise<{ api: Api; close(): Promise<void> }> | undefined;
  const open = async () => {
    const backend = await openStore();
    const ids = await testIdentity();
    let skew = 0;
    const server = await createBlobServer({
      store: backend.store,
      maxUploadBytes: 4 * MiB,
      log: quiet,
      auth: { service: ids.identity.service, cases: ids.identity.cases, refreshTtlMs: 60_000 },
      audit: ids.identity.audit,
      uploads: {
        maxFileBytes: 8 * 1024 ** 3,
        expiryMs: 60 * 60 * 1000,
        corsOrigins: ['https://intranet.example.org'],
      },
    });
    // The service's clock is the wall clock; expiry is tested by moving records' expiry instead.
    const api: Api = {
      base: `http://127.0.0.1:${server.port}`,
      server,
      store: backend.store,
      token: ids.adminToken,
      actions: async () => (await ids.identity.audit.list({ limit: 100_000 })).map((e) => e.action),
      tokenFor: (role) => ids.tokenFor(role),
      advance: (ms) => (skew += ms),
      openMultiparts: () => backend.openMultiparts(),
    };
    return {
      api,
      async close() {
        await server.close();
        await ids.close();
        await backend.cleanup();
      },
    };
  };
  const it = (title: string, body: (api: Api) => Promise<void>) =>
    test(title, () =>
      within(CASE_TIMEOUT_MS, title, async () => body((await (opened ??= open())).api)),
    );
  test.after(async () => {
    if (opened) await (await opened.catch(() => undefined))?.close();
  });

  it('advertises tus 1.0 with its extensions and sha256 checksums', async (api) => {
    const reply = await send(`${api.base}/api/uploads`, { method: 'OPTIONS' });
    assert.is(reply.status, 204);
    assert.is(reply.headers['tus-version'], '1.0.0');
    assert.is(reply.headers['tus-checksum-algorithm'], 'sha256');
    for (const ext of ['creation', 'termination', 'expiration', 'checksum']) {
      assert.ok(String(reply.headers['tus-extension']).split(',').includes(ext), ext);
    }
    assert.is(reply.headers['tus-max-size'], String(8 * 1024 ** 3));
  });

  it('lets only configured web origins upload from a browser (CORS)', async (api) => {
    const preflight = (origin: string) =>
      send(`${api.base}/api/uploads`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization, tus-resumable, upload-length',
        },
      });
    const allowed = await preflight('https://intranet.example.org');
    assert.is(allowed.status, 204);
    assert.is(allowed.headers['access-control-allow-origin'], 'https://intranet.example.org');
    assert.match(String(allowed.headers['access-control-allow-headers']), /Upload-Metadata/);
    assert.match(String(allowed.headers['access-control-expose-headers']), /Location/);
    const other = await preflight('https://evil.example.com');
    assert.is(other.headers['access-control-allow-origin'], undefined);
  });

  it('stores a file sent in chunks and verifies it against the client digest', async (api) => {
    const file = randomBytes(13 * MiB + 123);
    const { reply, url } = await create(api, file.length);
    assert.is(reply.status, 201, reply.text);
    assert.match(String(reply.headers.location), /^\/api\/uploads\/[A-Za-z0-9_-]{22}$/);
    assert.ok(Number(reply.headers['exhibit-chunk-size']) >= 5 * MiB);
    assert.ok(reply.headers['upload-expires']);
    const last = await uploadAll(api, url, file, Number(reply.headers['exhibit-chunk-size']));
    assert.is(last.headers['upload-offset'], String(file.length));
    assert.is(last.headers['exhibit-sha256'], sha256(file));
    const status = await head(api, url);
    assert.is(status.status, 200);
    assert.is(status.headers['upload-offset'], String(file.length));
    assert.is(status.headers['exhibit-sha256'], sha256(file));
    const whole = await download(api, sha256(file));
    assert.is(whole.status, 200);
    assert.is(whole.headers['content-type'], 'video/mp4');
    assert.ok(whole.body.equals(file));
    const actions = await api.actions();
    for (const action of ['evidence.upload_started', 'evidence.stored', 'evidence.played']) {
      assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
    }
    // Seeking: a range far into the file is served alone.
    const range = await download(api, sha256(file), 'bytes=10485760-10485999');
    assert.is(range.status, 206);
    assert.ok(range.body.equals(file.subarray(10485760, 10486000)));
    assert.is(await api.openMultiparts(), 0);
  });

  it('keeps chunks that do not fill a part and joins them correctly', async (api) => {
    const file = randomBytes(11 * MiB + 7);
    const { url } = await create(api, file.length);
    await uploadAll(api, url, file, 3 * MiB + 1);
    assert.ok((await download(api, sha256(file))).body.equals(file));
  });

  it('takes a zero-byte file', async (api) => {
    const { reply, url } = await create(api, 0);
    assert.is(reply.status, 201, reply.text);
    assert.is(reply.headers['exhibit-sha256'], sha256(Buffer.alloc(0)));
    const status = await head(api, url);
    assert.is(status.headers['upload-offset'], '0');
    const read = await download(api, sha256(Buffer.alloc(0)));
    assert.is(read.status, 200);
    assert.is(read.body.length, 0);
  });

  it('accepts a declared size of several GB without storing anything yet', async (api) => {
    const { reply, url } = await create(api, 6 * 1024 ** 3);
    assert.is(reply.status, 201, reply.text);
    const status = await head(api, url);
    assert.is(status.headers['upload-offset'], '0');
    assert.is(status.headers['upload-length'], String(6 * 1024 ** 3));
    const tooBig = await create(api, 9 * 1024 ** 3);
    assert.is(tooBig.reply.status, 413);
    assert.match(errorOf(tooBig.reply).message, /at most 8589934592 bytes/);
    assert.is((await send(url, { method: 'DELETE', headers: tusHeaders(api) })).status, 204);
  });

  it('refuses a chunk at the wrong offset and keeps the upload as it was', async (api) => {
    const file = randomBytes(6 * MiB);
    const { url } = await create(api, file.length);
    assert.is((await patch(api, url, 0, file.subarray(0, 5 * MiB))).status, 204);
    const wrong = await patch(api, url, 4 * MiB, file.subarray(4 * MiB));
    assert.is(wrong.status, 409);
    assert.match(errorOf(wrong).message, /stands at byte 5242880/);
    const ahead = await patch(api, url, 5 * MiB + 10, file.subarray(5 * MiB + 10));
    assert.is(ahead.status, 409);
    assert.is((await head(api, url)).headers['upload-offset'], String(5 * MiB));
    await patch(api, url, 5 * MiB, file.subarray(5 * MiB), { 'Exhibit-Sha256': sha256(file) });
    assert.ok((await download(api, sha256(file))).body.equals(file));
  });

  it('refuses the same chunk sent twice, and the file stays right', async (api) => {
    const file = randomBytes(7 * MiB);
    const { url } = await create(api, file.length);
    const first = file.subarray(0, 6 * MiB);
    assert.is((await patch(api, url, 0, first)).status, 204);
    assert.is((await patch(api, url, 0, first)).status, 409);
    const end = await patch(api, url, 6 * MiB, file.subarray(6 * MiB), {
      'Exhibit-Sha256': sha256(file),
    });
    assert.is(end.headers['exhibit-sha256'], sha256(file));
    assert.ok((await download(api, sha256(file))).body.equals(file));
  });

  it('lets only one of two clients continue an upload at a time', async (api) => {
    const file = randomBytes(16 * MiB);
    const { url } = await create(api, file.length);
    const chunk = file.subarray(0, 8 * MiB);
    const replies = await Promise.all([patch(api, url, 0, chunk), patch(api, url, 0, chunk)]);
    const statuses = replies.map((r) => r.status).sort();
    // One wins; the other is told the upload is busy (423) or has moved on (409).
    assert.is(statuses[0], 204, JSON.stringify(statuses));
    assert.ok([409, 423].includes(statuses[1]!), JSON.stringify(statuses));
    await patch(api, url, 8 * MiB, file.subarray(8 * MiB), { 'Exhibit-Sha256': sha256(file) });
    assert.ok((await download(api, sha256(file))).body.equals(file));
  });

  it('refuses a chunk damaged in transit (460) and keeps nothing of it', async (api) => {
    const file = randomBytes(6 * MiB);
    const { url } = await create(api, file.length);
    const damaged = Buffer.from(file.subarray(0, 6 * MiB));
    damaged[12345] = damaged[12345]! ^ 0xff;
    const reply = await patch(api, url, 0, damaged, { 'Upload-Checksum': chunkSum(file) });
    assert.is(reply.status, 460);
    assert.is(errorOf(reply).error, 'checksum_mismatch');
    assert.is((await head(api, url)).headers['upload-offset'], '0');
    await patch(api, url, 0, file, { 'Exhibit-Sha256': sha256(file) });
    assert.ok((await download(api, sha256(file))).body.equals(file));
  });

  it('discards a file whose stored digest differs from the client digest', async (api) => {
    const file = randomBytes(2 * MiB);
    const { url } = await create(api, file.length);
    const claimed = sha256(Buffer.from('not this file'));
    const reply = await patch(api, url, 0, file, { 'Exhibit-Sha256': claimed });
    assert.is(reply.status, 460);
    assert.is(errorOf(reply).error, 'file_checksum_mismatch');
    assert.match(errorOf(reply).message, new RegExp(`${sha256(file)}.*not ${claimed}`));
    assert.is((await head(api, url)).status, 410);
    assert.ok((await api.actions()).includes('evidence.rejected'));
    assert.is((await download(api, sha256(file))).status, 404);
    assert.is(await api.store.stat(uploadKeys.object(url.split('/').pop()!)), null);
  });

  it('keeps what arrived before the client went away, without a checksum', async (api) => {
    const file = randomBytes(12 * MiB);
    const { url } = await create(api, file.length);
    await cutShort(url, api, file.subarray(0, 10 * MiB), 9 * MiB, false);
    const offset = await settledOffset(api, url, (o) => o > 0);
    assert.ok(offset > 0 && offset <= 9 * MiB, `kept ${offset} bytes`);
    await patch(api, url, offset, file.subarray(offset), { 'Exhibit-Sha256': sha256(file) });
    assert.ok((await download(api, sha256(file))).body.equals(file));
  });

  it('keeps nothing of a checksummed chunk cut short', async (api) => {
    const file = randomBytes(12 * MiB);
    const { url } = await create(api, file.length);
    await cutShort(url, api, file.subarray(0, 10 * MiB), 9 * MiB, true);
    // Give the server time to notice and roll back; the offset must stay 0.
    await new Promise((r) => setTimeout(r, 500));
    assert.is(await settledOffset(api, url, () => true), 0);
    await uploadAll(api, url, file, 8 * MiB);
    assert.ok((await download(api, sha256(file))).body.equals(file));
  });

  it('expires unfinished uploads and cleans up their parts', async (api) => {
    const file = randomBytes(12 * MiB);
    const { url } = await create(api, file.length);
    assert.is((await patch(api, url, 0, file.subarray(0, 10 * MiB))).status, 204);
    assert.ok((await api.openMultiparts()) > 0);
    const id = url.split('/').pop()!;
    await backdate(api.store, id);
    const gone = await head(api, url);
    assert.is(gone.status, 410);
    const late = await patch(api, url, 10 * MiB, file.subarray(10 * MiB));
    assert.is(late.status, 410);
    assert.match(errorOf(late).message, /expired/);
    const swept = await api.server.uploads.sweep();
    assert.ok(swept.expired >= 1);
    assert.is((await head(api, url)).status, 404);
    assert.is(await api.openMultiparts(), 0);
    assert.is(await api.store.stat(uploadKeys.tail(id)), null);
  });

  it('cancels an upload on DELETE and discards its parts', async (api) => {
    const file = randomBytes(9 * MiB);
    const { url } = await create(api, file.length);
    await patch(api, url, 0, file.subarray(0, 8 * MiB + 5));
    assert.is((await send(url, { method: 'DELETE', headers: tusHeaders(api) })).status, 204);
    assert.is((await head(api, url)).status, 404);
    assert.is(await api.openMultiparts(), 0);
    assert.ok((await api.actions()).includes('evidence.upload_cancelled'));
  });

  it('lets only those who may add evidence to the case upload', async (api) => {
    const guest = await api.tokenFor('guest');
    const refused = await create(api, 10, undefined, guest);
    assert.is(refused.reply.status, 403);
    const other = await api.tokenFor('investigator');
    const { url } = await create(api, 10);
    assert.is((await head(api, url, other)).status, 403);
    const stolen = await patch(api, url, 0, Buffer.alloc(10), {}, other);
    assert.is(stolen.status, 403);
    assert.is((await head(api, url)).headers['upload-offset'], '0');
    const anonymous = await send(`${api.base}/api/uploads`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' },
    });
    assert.is(anonymous.status, 401);
  });

  it('refuses malformed requests with a reason', async (api) => {
    const noVersion = await send(`${api.base}/api/uploads`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${api.token}`, 'Upload-Length': '1' },
    });
    assert.is(noVersion.status, 412);
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'Upload-Length': '-1', 'Upload-Metadata': `case ${b64(CASE_ID)}` }, /whole number/],
      [{ 'Upload-Length': 'ten', 'Upload-Metadata': `case ${b64(CASE_ID)}` }, /whole number/],
      [{ 'Upload-Metadata': `case ${b64(CASE_ID)}` }, /Upload-Length header is missing/],
      [{ 'Upload-Length': '1' }, /which case/],
      [{ 'Upload-Length': '1', 'Upload-Metadata': 'case !!!' }, /not base64/],
      [{ 'Upload-Length': '1', 'Upload-Metadata': `case ${b64('../x')}` }, /which case/],
      [{ 'Upload-Length': '1', 'Upload-Metadata': `case ${b64(CASE_ID)},case x` }, /twice/],
      [{ 'Upload-Length': '1', 'Upload-Defer-Length': '1' }, /deferred/],
    ];
    for (const [headers, message] of cases) {
      const reply = await send(`${api.base}/api/uploads`, {
        method: 'POST',
        headers: tusHeaders(api, headers),
      });
      assert.is(reply.status, 400, JSON.stringify(headers));
      assert.match(errorOf(reply).message, message);
    }
    const { url } = await create(api, 4);
    const wrongType = await send(url, {
      method: 'PATCH',
      headers: tusHeaders(api, { 'Upload-Offset': '0', 'Content-Type': 'text/plain' }),
      body: Buffer.from('abcd'),
    });
    assert.is(wrongType.status, 415);
    const md5 = await patch(api, url, 0, Buffer.from('abcd'), { 'Upload-Checksum': 'md5 AAAA' });
    assert.is(md5.status, 400);
    assert.match(errorOf(md5).message, /sha256 only/);
    const tooMuch = await patch(api, url, 0, Buffer.from('abcdef'));
    assert.is(tooMuch.status, 413, tooMuch.text);
    assert.is((await head(api, url)).headers['upload-offset'], '0');
    assert.is((await head(api, `${api.base}/api/uploads/not-an-id`)).status, 400);
    assert.is((await head(api, `${api.base}/api/uploads/${'A'.repeat(22)}`)).status, 404);
  });

  it('works with the standard tus client (tus-js-client)', async (api) => {
    const file = randomBytes(10 * MiB + 99);
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new tus.Upload(file, {
        endpoint: `${api.base}/api/uploads`,
        headers: { Authorization: `Bearer ${api.token}` },
        metadata: { case: CASE_ID, filename: 'cctv-export.avi', filetype: 'video/x-msvideo' },
        chunkSize: 3 * MiB,
        retryDelays: [],
        onError: reject,
        onSuccess: () => resolve(upload.url ?? ''),
      });
      upload.start();
    });
    const status = await head(api, url);
    assert.is(status.headers['exhibit-sha256'], sha256(file));
    const read = await download(api, sha256(file));
    assert.is(read.headers['content-type'], 'video/x-msvideo');
    assert.ok(read.body.equals(file));
  });

  test.run();
}

/** Sends `bytes` as a chunk announced longer, then drops the connection after `cutAt` bytes. */
async function cutShort(
  url: string,
  api: Api,
  bytes: Buffer,
  cutAt: number,
  withChecksum: boolean,
): Promise<void> {
  await new Promise<void>((resolve) => {
    const req = http.request(url, {
      method: 'PATCH',
      headers: tusHeaders(api, {
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': '0',
        'Content-Length': String(bytes.length),
        ...(withChecksum ? { 'Upload-Checksum': chunkSum(bytes) } : {}),
      }),
    });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      resolve();
    });
    req.write(bytes.subarray(0, cutAt), () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
  });
}

/** The offset once the server has finished with an interrupted request. */
async function settledOffset(
  api: Api,
  url: string,
  done: (offset: number) => boolean,
): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const reply = await head(api, url);
    const offset = Number(reply.headers['upload-offset']);
    if (reply.status === 200 && done(offset)) {
      // A PATCH still running would answer 423; one more HEAD after a pause confirms it settled.
      await new Promise((r) => setTimeout(r, 200));
      const again = Number((await head(api, url)).headers['upload-offset']);
      if (again === offset) return offset;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the interrupted upload never settled');
}

/** Moves an upload's expiry into the past, as if a day had passed. */
async function backdate(store: BlobStore, id: string): Promise<void> {
  const { buffer } = await import('node:stream/consumers');
  const { Readable } = await import('node:stream');
  const record = JSON.parse(
    (await buffer((await store.get(uploadKeys.info(id))).body)).toString('utf8'),
  ) as { expiresAt: string };
  record.expiresAt = new Date(Date.now() - 1000).toISOString();
  const json = Buffer.from(JSON.stringify(record));
  await store.put(uploadKeys.info(id), Readable.from([json]));
}

const fsRoot = await mkdtemp(join(tmpdir(), 'exhibit-tus-'));
tusSuite('filesystem', async () => {
  const store = await createFsStore(fsRoot);
  const { readdir } = await import('node:fs/promises');
  return {
    store,
    openMultiparts: async () => (await readdir(join(fsRoot, '.multipart'))).length,
    cleanup: () => rm(fsRoot, { recursive: true, force: true }),
  };
});

let minio: MinioServer | undefined;
tusSuite('MinIO', async () => {
  minio = await startMinio();
  const config = {
    endPoint: minio.endPoint,
    accessKey: minio.accessKey,
    secretKey: minio.secretKey,
    bucket: 'tus-test',
  };
  const store = await createS3Store(config);
  const client = minioClient(minio);
  return {
    store,
    async openMultiparts() {
      let count = 0;
      for await (const _ of client.listIncompleteUploads('tus-test', '', true)) count++;
      return count;
    },
    async cleanup() {
      await store.close();
      await minio?.stop();
    },
  };
});
