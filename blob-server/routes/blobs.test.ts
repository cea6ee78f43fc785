import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startMinio, type MinioServer } from '../../tests/helpers/minio.ts';
import type { Logger } from '../../sync-server/logger.ts';
import { createBlobServer, type BlobServer } from '../server.ts';
import { testIdentity } from '../../tests/helpers/identity.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { createFsStore } from '../storage/fs-store.ts';
import { createS3Store } from '../storage/s3-store.ts';
import { within } from '../../tests/helpers/async.ts';

const MiB = 1024 * 1024;
const MAX_UPLOAD_BYTES = 4 * MiB;
/** Every single request is bounded, so a server that hangs fails the case instead of the run. */
const REQUEST_TIMEOUT_MS = 15_000;
const CASE_TIMEOUT_MS = 60_000;

export interface OpenedStore {
  store: BlobStore;
  /** What a failed write may have left behind below the key space (temp files, open uploads). */
  leftovers(): Promise<string[]>;
  cleanup(): Promise<void>;
}

interface Api {
  base: string;
  server: BlobServer;
  /** The store the server uses, for looking behind the API. */
  store: BlobStore;
  /** Calls to the store's `get`, to tell whether a request read the stored bytes. */
  reads(): number;
  /** Resolves once the server has no store operation in flight (e.g. after an aborted upload). */
  storeSettled(): Promise<void>;
  leftovers(): Promise<string[]>;
}

/**
 * The blob HTTP API against one storage backend. `openStore` gives an empty store; each
 * behaviour area gets its own store and server, opened by its first case rather than in a
 * before hook, because uvu swallows errors thrown by hooks.
 */
export function blobApiSuite(name: string, openStore: () => Promise<OpenedStore>): void {
  const area = (title: string) => apiSuite(`blob API (${name}): ${title}`, openStore);

  const storing = area('storing');

  storing.it('stores a file whose digest matches and answers 201 with its size', async (api) => {
    const bytes = randomBytes(1234);
    const response = await putBlob(api, bytes);
    assert.is(response.status, 201);
    assert.equal(response.json(), { sha256: sha256(bytes), size: 1234, created: true });
  });

  storing.it('answers 200 with created:false when the same file is stored again', async (api) => {
    const bytes = randomBytes(2048);
    assert.is((await putBlob(api, bytes)).status, 201);
    const again = await putBlob(api, bytes);
    assert.is(again.status, 200);
    assert.equal(again.json(), { sha256: sha256(bytes), size: 2048, created: false });
    assert.equal(await keys(api.store, 'incoming/'), []);
  });

  storing.it('stores an empty file', async (api) => {
    const empty = Buffer.alloc(0);
    const response = await putBlob(api, empty);
    assert.is(response.status, 201);
    assert.equal(response.json(), { sha256: sha256(empty), size: 0, created: true });
    const read = await request(`${api.base}/api/blobs/${sha256(empty)}`);
    assert.is(read.status, 200);
    assert.is(read.body.length, 0);
  });

  storing.it(
    'refuses a digest mismatch with 422 naming both digests, and keeps nothing',
    async (api) => {
      const before = await keys(api.store, '');
      const bytes = randomBytes(5000);
      const actual = sha256(bytes);
      const claimed = sha256(Buffer.from('something else entirely'));
      const response = await request(`${api.base}/api/blobs/${claimed}`, {
        method: 'PUT',
        body: bytes,
      });
      assert.is(response.status, 422);
      const error = response.json();
      assert.is(error.error, 'checksum_mismatch');
      assert.ok(error.message.includes(actual), error.message);
      assert.ok(error.message.includes(claimed), error.message);

      assert.is((await request(`${api.base}/api/blobs/${claimed}`)).status, 404);
      assert.is((await request(`${api.base}/api/blobs/${actual}`)).status, 404);
      await api.storeSettled();
      assert.equal(await keys(api.store, 'incoming/'), []);
      assert.equal(await keys(api.store, ''), before);
      assert.equal(await api.leftovers(), []);
    },
  );

  storing.it(
    'refuses with 413 a body whose Content-Length is over the limit, without reading it',
    async (api) => {
      const before = await keys(api.store, '');
      const digest = sha256(Buffer.from('never sent'));
      // Only the first KiB is sent: the answer must come without waiting for the rest.
      const response = await putDeclaringMore(
        `${api.base}/api/blobs/${digest}`,
        MAX_UPLOAD_BYTES + 1,
        randomBytes(1024),
      );
      assert.is(response.status, 413);
      const error = JSON.parse(response.body.toString());
      assert.is(error.error, 'payload_too_large');
      assert.ok(error.message.includes(String(MAX_UPLOAD_BYTES)), error.message);
      await api.storeSettled();
      assert.equal(await keys(api.store, ''), before);
      assert.equal(await api.leftovers(), []);
    },
  );

  storing.it(
    'refuses with 413 a chunked body that grows over the limit, leaving nothing behind',
    async (api) => {
      const before = await keys(api.store, '');
      const bytes = randomBytes(MAX_UPLOAD_BYTES + MiB);
      const response = await putChunked(`${api.base}/api/blobs/${sha256(bytes)}`, bytes);
      assert.is(response.status, 413);
      assert.is(JSON.parse(response.body.toString()).error, 'payload_too_large');
      await api.storeSettled();
      assert.equal(await keys(api.store, ''), before);
      assert.equal(await api.leftovers(), []);
      assert.is((await request(`${api.base}/api/blobs/${sha256(bytes)}`)).status, 404);
    },
  );

  storing.it('stores a chunked body within the limit', async (api) => {
    const bytes = randomBytes(MiB + 17);
    const response = await putChunked(`${api.base}/api/blobs/${sha256(bytes)}`, bytes);
    assert.is(response.status, 201);
    assert.equal(JSON.parse(response.body.toString()), {
      sha256: sha256(bytes),
      size: bytes.length,
      created: true,
    });
  });

  storing.it(
    'keeps nothing from an upload the client abandons halfway, and keeps serving',
    async (api) => {
      const before = await keys(api.store, '');
      const bytes = randomBytes(2 * MiB);
      await abandonUpload(`${api.base}/api/blobs/${sha256(bytes)}`, bytes);
      await api.storeSettled();
      assert.equal(await keys(api.store, ''), before);
      assert.equal(await api.leftovers(), []);

      assert.is((await request(`${api.base}/api/health`)).status, 200);
      assert.is((await putBlob(api, bytes)).status, 201);
      assert.equal(
        sha256((await request(`${api.base}/api/blobs/${sha256(bytes)}`)).body),
        sha256(bytes),
      );
    },
  );

  storing.run();

  const reading = area('reading');

  reading.it('returns byte-identical content with its validators and type', async (api) => {
    const bytes = randomBytes(3 * MiB + 123);
    const digest = sha256(bytes);
    assert.is((await putBlob(api, bytes, 'video/mp4')).status, 201);
    const response = await request(`${api.base}/api/blobs/${digest}`);
    assert.is(response.status, 200);
    assert.is(response.body.length, bytes.length);
    assert.is(sha256(response.body), digest);
    assert.is(response.headers.get('etag'), `"${digest}"`);
    assert.is(response.headers.get('accept-ranges'), 'bytes');
    assert.is(response.headers.get('content-type'), 'video/mp4');
    assert.is(response.headers.get('content-length'), String(bytes.length));
  });

  reading.it(
    'labels a file sent without a usable type as application/octet-stream',
    async (api) => {
      const bytes = randomBytes(100);
      assert.is((await putBlob(api, bytes, 'not a media type')).status, 201);
      const response = await request(`${api.base}/api/blobs/${sha256(bytes)}`);
      assert.is(response.headers.get('content-type'), 'application/octet-stream');
    },
  );

  reading.it('never lets stored content run in the origin', async (api) => {
    const html = Buffer.from('<script>alert(document.cookie)</script>');
    assert.is((await putBlob(api, html, 'text/html')).status, 201);
    const response = await request(`${api.base}/api/blobs/${sha256(html)}`);
    assert.is(response.headers.get('content-security-policy'), "default-src 'none'; sandbox");
    assert.is(response.headers.get('x-content-type-options'), 'nosniff');
    assert.match(response.headers.get('content-disposition') ?? '', /^attachment;/);
  });

  reading.it('names the download after the digest when no filename is asked for', async (api) => {
    const bytes = randomBytes(10);
    await putBlob(api, bytes);
    const response = await request(`${api.base}/api/blobs/${sha256(bytes)}`);
    const disposition = parseDisposition(response.headers.get('content-disposition'));
    assert.is(disposition.fallback, sha256(bytes));
    assert.is(disposition.utf8, sha256(bytes));
  });

  reading.it('names the download with a non-ASCII ?filename=', async (api) => {
    const bytes = randomBytes(10);
    await putBlob(api, bytes);
    const filename = 'Überwachung 1.mp4';
    const response = await request(
      `${api.base}/api/blobs/${sha256(bytes)}?filename=${encodeURIComponent(filename)}`,
    );
    assert.is(response.status, 200);
    const disposition = parseDisposition(response.headers.get('content-disposition'));
    assert.is(disposition.fallback, '_berwachung 1.mp4');
    assert.is(disposition.utf8, filename);
  });

  reading.it('names the download with a ?filename= containing quotes', async (api) => {
    const bytes = randomBytes(10);
    await putBlob(api, bytes);
    const filename = `Zeuge "K" O'Neil (2)*.pdf`;
    const response = await request(
      `${api.base}/api/blobs/${sha256(bytes)}?filename=${encodeURIComponent(filename)}`,
    );
    const disposition = parseDisposition(response.headers.get('content-disposition'));
    assert.is(disposition.fallback, `Zeuge _K_ O'Neil (2)*.pdf`);
    assert.is(disposition.utf8, filename);
  });

  reading.it('answers 304 when the client already has the file', async (api) => {
    const bytes = randomBytes(1000);
    await putBlob(api, bytes);
    const digest = sha256(bytes);
    const response = await request(`${api.base}/api/blobs/${digest}`, {
      headers: { 'If-None-Match': `"${digest}"` },
    });
    assert.is(response.status, 304);
    assert.is(response.body.length, 0);
    assert.is(response.headers.get('etag'), `"${digest}"`);
    assert.is(api.reads(), 0);

    const stale = await request(`${api.base}/api/blobs/${digest}`, {
      headers: { 'If-None-Match': `"${'0'.repeat(64)}"` },
    });
    assert.is(stale.status, 200);
    assert.is(stale.body.length, 1000);
  });

  reading.it('answers HEAD with the headers only, without reading the bytes', async (api) => {
    const bytes = randomBytes(4321);
    await putBlob(api, bytes, 'image/png');
    const response = await request(`${api.base}/api/blobs/${sha256(bytes)}`, { method: 'HEAD' });
    assert.is(response.status, 200);
    assert.is(response.body.length, 0);
    assert.is(response.headers.get('content-length'), '4321');
    assert.is(response.headers.get('content-type'), 'image/png');
    assert.is(response.headers.get('etag'), `"${sha256(bytes)}"`);
    assert.is(response.headers.get('accept-ranges'), 'bytes');
    assert.is(api.reads(), 0);
  });

  reading.it('answers 404 for a digest nothing was stored under', async (api) => {
    const missing = sha256(Buffer.from('never stored'));
    const response = await request(`${api.base}/api/blobs/${missing}`);
    assert.is(response.status, 404);
    assert.is(response.json().error, 'not_found');
    assert.ok(response.json().message.includes(missing));
    const head = await request(`${api.base}/api/blobs/${missing}`, { method: 'HEAD' });
    assert.is(head.status, 404);
  });

  reading.run();

  const ranges = area('byte ranges');
  const SIZE = 1000;
  let rangeBlob: Buffer | undefined;
  /** One stored file of SIZE bytes, shared by the range cases. */
  const stored = async (api: Api): Promise<{ bytes: Buffer; url: string }> => {
    if (!rangeBlob) {
      const bytes = randomBytes(SIZE);
      assert.is((await putBlob(api, bytes)).status, 201);
      rangeBlob = bytes;
    }
    return { bytes: rangeBlob, url: `${api.base}/api/blobs/${sha256(rangeBlob)}` };
  };

  const servesRange = (header: string, start: number, end: number) =>
    ranges.it(`serves "${header}" as bytes ${start}-${end}`, async (api) => {
      const { bytes, url } = await stored(api);
      const response = await request(url, { headers: { Range: header } });
      assert.is(response.status, 206);
      assert.is(response.headers.get('content-range'), `bytes ${start}-${end}/${SIZE}`);
      assert.is(response.headers.get('content-length'), String(end - start + 1));
      assert.equal(response.body, bytes.subarray(start, end + 1));
    });
  servesRange('bytes=0-0', 0, 0);
  servesRange('bytes=10-19', 10, 19);
  servesRange('bytes=-5', SIZE - 5, SIZE - 1);
  servesRange('bytes=100-', 100, SIZE - 1);
  servesRange('bytes=990-5000', 990, SIZE - 1);

  ranges.it('answers HEAD with a range with the partial headers', async (api) => {
    const { url } = await stored(api);
    const response = await request(url, { method: 'HEAD', headers: { Range: 'bytes=10-19' } });
    assert.is(response.status, 206);
    assert.is(response.headers.get('content-length'), '10');
    assert.is(response.headers.get('content-range'), `bytes 10-19/${SIZE}`);
    assert.is(response.body.length, 0);
  });

  const refusesRange = (header: string, status: number, code: string) =>
    ranges.it(`refuses "${header}" with ${status} ${code}`, async (api) => {
      const { url } = await stored(api);
      const response = await request(url, { headers: { Range: header } });
      assert.is(response.status, status);
      const error = response.json();
      assert.is(error.error, code);
      assert.ok(error.message.includes(header), error.message);
      assert.is(response.headers.get('content-range'), `bytes */${SIZE}`);
    });
  refusesRange(`bytes=${SIZE}-`, 416, 'range_not_satisfiable');
  refusesRange('bytes=5000-6000', 416, 'range_not_satisfiable');

  // HTTP lets a server ignore a Range it cannot use; the whole file is the safe answer.
  const ignoresRange = (header: string) =>
    ranges.it(`ignores "${header}" and serves the whole file`, async (api) => {
      const { url, bytes } = await stored(api);
      const response = await request(url, { headers: { Range: header } });
      assert.is(response.status, 200);
      assert.is(response.headers.get('content-range'), null);
      assert.ok(response.body.equals(bytes));
    });
  ignoresRange('bytes=0-1,10-11');
  ignoresRange('bytes 0-10');
  ignoresRange('bytes=abc');
  ignoresRange('items=0-5');

  ranges.run();

  const routing = area('addresses and health');

  for (const [what, digest] of [
    ['uppercase', 'A'.repeat(64)],
    ['too short', 'a'.repeat(63)],
    ['too long', 'a'.repeat(65)],
    ['non-hex', 'g'.repeat(64)],
  ] as const) {
    routing.it(`refuses a ${what} digest in the address with 400`, async (api) => {
      for (const method of ['GET', 'HEAD', 'PUT'] as const) {
        const response = await request(`${api.base}/api/blobs/${digest}`, {
          method,
          ...(method === 'PUT' ? { body: 'x' } : {}),
        });
        assert.is(response.status, 400, `${method} ${what}`);
        if (method !== 'HEAD') {
          const error = response.json();
          assert.is(error.error, 'bad_request');
          assert.match(error.message, /SHA-256/);
        }
      }
      assert.equal(await keys(api.store, ''), []);
    });
  }

  routing.it('answers an unknown API route with 404 no_such_route', async (api) => {
    for (const path of ['/api/nothing-here', '/api/blobs', '/api']) {
      const response = await request(`${api.base}${path}`);
      assert.is(response.status, 404, path);
      assert.is(response.json().error, 'no_such_route', path);
      assert.ok(response.json().message.includes(path), response.json().message);
    }
  });

  routing.it('reports healthy storage on /api/health', async (api) => {
    const response = await request(`${api.base}/api/health`);
    assert.is(response.status, 200);
    const health = response.json();
    assert.is(health.status, 'ok');
    assert.is(health.storage.backend, api.store.kind);
    assert.is(health.storage.ok, true);
    assert.type(health.storage.detail, 'string');
  });

  routing.run();
}

interface ApiSuite {
  it(title: string, body: (api: Api) => Promise<void>): void;
  run(): void;
}

function apiSuite(title: string, openStore: () => Promise<OpenedStore>): ApiSuite {
  const test = suite(title);
  let opened: Promise<{ api: Api; close(): Promise<void>; reset(): void }> | undefined;
  const open = async () => {
    const store = await openStore();
    const tracked = trackStore(store.store);
    try {
      const server = await createBlobServer({
        store: tracked.store,
        maxUploadBytes: MAX_UPLOAD_BYTES,
        log: silentLogger,
        auth: await callerAuth(),
      });
      const api: Api = {
        base: `http://127.0.0.1:${server.port}`,
        server,
        store: store.store,
        reads: tracked.reads,
        storeSettled: tracked.settled,
        leftovers: store.leftovers,
      };
      return {
        api,
        reset: tracked.reset,
        async close() {
          await server.close();
          await store.cleanup();
        },
      };
    } catch (err) {
      await store.cleanup();
      throw err;
    }
  };
  test.after(async () => {
    if (opened) await (await opened.catch(() => undefined))?.close();
  });
  return {
    it(name, body) {
      test(name, async () => {
        const { api, reset } = await (opened ??= open());
        reset();
        await within(CASE_TIMEOUT_MS, name, () => body(api));
      });
    },
    run: () => test.run(),
  };
}

/**
 * Passes every call through to the real store, counting reads and in-flight operations: the
 * server may still be cleaning up after it has answered (or after the client has gone).
 */
function trackStore(inner: BlobStore): {
  store: BlobStore;
  reads(): number;
  reset(): void;
  settled(): Promise<void>;
} {
  let inFlight = 0;
  let reads = 0;
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight++;
    return work.finally(() => inFlight--);
  };
  const store: BlobStore = {
    kind: inner.kind,
    put: (key, body, options) => track(inner.put(key, body, options)),
    get: (key, range, options) => {
      // Reading a small reference (`refs/…`) to find the bytes is not reading the bytes.
      if (!key.startsWith('refs/')) reads++;
      return track(inner.get(key, range, options));
    },
    stat: (key, options) => track(inner.stat(key, options)),
    copy: (from, to) => track(inner.copy(from, to)),
    delete: (key) => track(inner.delete(key)),
    list: (prefix) => inner.list(prefix),
    protection: inner.protection,
    protect: (key, until) => track(inner.protect(key, until)),
    setLegalHold: (key, hold, options) => track(inner.setLegalHold(key, hold, options)),
    minPartSize: inner.minPartSize,
    maxParts: inner.maxParts,
    startMultipart: (key, options) => track(inner.startMultipart(key, options)),
    putPart: (key, id, n, bytes) => track(inner.putPart(key, id, n, bytes)),
    completeMultipart: (key, id, parts) => track(inner.completeMultipart(key, id, parts)),
    abortMultipart: (key, id) => track(inner.abortMultipart(key, id)),
    health: () => inner.health(),
    close: () => inner.close(),
  };
  return {
    store,
    reads: () => reads,
    reset: () => {
      reads = 0;
    },
    async settled() {
      // Idle for a few consecutive looks, since one operation can start as another ends.
      const deadline = Date.now() + REQUEST_TIMEOUT_MS;
      for (let idleLooks = 0; idleLooks < 5;) {
        if (Date.now() > deadline) throw new Error('the server never finished its store calls');
        idleLooks = inFlight === 0 ? idleLooks + 1 : 0;
        await sleep(40);
      }
    },
  };
}

// --- backends -----------------------------------------------------------------------------

async function openFsStore(): Promise<OpenedStore> {
  const dir = await mkdtemp(join(tmpdir(), 'exhibit-blob-api-'));
  const store = await createFsStore(dir);
  return {
    store,
    // The store writes into .tmp and renames into place; anything still there was abandoned.
    leftovers: async () => readdir(join(dir, '.tmp')),
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

blobApiSuite('filesystem', openFsStore);

/** One MinIO for the whole file, started by the first case that needs it. */
let minio: Promise<MinioServer> | undefined;
const sharedMinio = (): Promise<MinioServer> => (minio ??= startMinio());

async function openMinioStore(): Promise<OpenedStore & { bucket: string; minio: MinioServer }> {
  const server = await sharedMinio();
  const bucket = `blob-api-${randomBytes(4).toString('hex')}`;
  const store = await createS3Store({
    endPoint: server.endPoint,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    bucket,
    requestTimeoutMs: 5_000,
  });
  return {
    store,
    bucket,
    minio: server,
    // Objects under incoming/ show in list(); unfinished multipart uploads do not.
    leftovers: () => incompleteUploads(server, bucket),
    cleanup: () => store.close(),
  };
}

blobApiSuite('MinIO', openMinioStore);

const outage = suite('blob API (MinIO): storage outage');
let outageCtx: Promise<{ api: Api; minio: MinioServer; close(): Promise<void> }> | undefined;
const openOutage = async () => {
  const opened = await openMinioStore();
  const server = await createBlobServer({
    store: opened.store,
    maxUploadBytes: MAX_UPLOAD_BYTES,
    log: silentLogger,
    auth: await callerAuth(),
  });
  const api: Api = {
    base: `http://127.0.0.1:${server.port}`,
    server,
    store: opened.store,
    reads: () => 0,
    storeSettled: async () => undefined,
    leftovers: opened.leftovers,
  };
  return {
    api,
    minio: opened.minio,
    async close() {
      await server.close();
      await opened.cleanup();
    },
  };
};

outage('answers 503 while MinIO is down, and serves the same files once it is back', async () => {
  const { api, minio } = await (outageCtx ??= openOutage());
  await within(CASE_TIMEOUT_MS, 'outage', async () => {
    const before = randomBytes(300 * 1024);
    assert.is((await putBlob(api, before, 'video/mp4')).status, 201);
    const url = `${api.base}/api/blobs/${sha256(before)}`;

    await minio.stopProcess();
    try {
      const health = await request(`${api.base}/api/health`);
      assert.is(health.status, 503);
      assert.is(health.json().status, 'degraded');
      assert.is(health.json().storage.backend, 's3');
      assert.is(health.json().storage.ok, false);
      assert.ok(
        health.json().storage.detail.includes(minio.endPoint),
        health.json().storage.detail,
      );

      const during = randomBytes(1000);
      const put = await putBlob(api, during);
      assert.is(put.status, 503);
      assert.is(put.json().error, 'storage_unavailable');
      assert.ok(put.json().message.includes(minio.endPoint), put.json().message);
      assert.match(put.json().message, /could not be reached/);

      const get = await request(url);
      assert.is(get.status, 503);
      assert.is(get.json().error, 'storage_unavailable');
      assert.ok(get.json().message.includes(minio.endPoint), get.json().message);

      const head = await request(url, { method: 'HEAD' });
      assert.is(head.status, 503);
    } finally {
      await minio.restart();
    }

    const health = await waitForStatus(`${api.base}/api/health`, 200);
    assert.is(health.json().storage.ok, true);
    const after = await request(url);
    assert.is(after.status, 200);
    assert.is(after.headers.get('content-type'), 'video/mp4');
    assert.is(sha256(after.body), sha256(before));
    const again = randomBytes(1000);
    assert.is((await putBlob(api, again)).status, 201);
    assert.is(
      sha256((await request(`${api.base}/api/blobs/${sha256(again)}`)).body),
      sha256(again),
    );
  });
});

outage.after(async () => {
  if (outageCtx) await (await outageCtx.catch(() => undefined))?.close();
  // The last suite in this file: MinIO is no longer needed.
  if (minio) await (await minio.catch(() => undefined))?.stop();
});

outage.run();

// --- helpers ------------------------------------------------------------------------------

const silentLogger: Logger = { info() {}, warn() {}, error() {} };

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions read any field
  json(): any;
}

/**
 * One signed-in administrator for the whole file: these tests are about storing and serving
 * bytes; who may do so is tested in the "who may" suite below and in auth.test.ts.
 */
let identity: Awaited<ReturnType<typeof testIdentity>> | undefined;
async function callerAuth() {
  identity ??= await testIdentity();
  return {
    service: identity.identity.service,
    cases: identity.identity.cases,
    refreshTtlMs: 3600_000,
  };
}
const authorization = () => ({ Authorization: `Bearer ${identity?.adminToken ?? ''}` });

/** The case these tests add evidence to; the administrator may add to any. */
const CASE_ID = '0123456789abcdef';
const forCase = (url: string) =>
  url.includes('?') ? `${url}&case=${CASE_ID}` : `${url}?case=${CASE_ID}`;

async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  if (init.method === 'PUT') url = forCase(url);
  const headers = { ...authorization(), ...(init.headers as Record<string, string> | undefined) };
  const response = await fetch(url, {
    ...init,
    headers,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    body,
    json: () => JSON.parse(body.toString('utf8')),
  };
}

function putBlob(api: Api, bytes: Buffer<ArrayBuffer>, contentType?: string): Promise<Answer> {
  return request(`${api.base}/api/blobs/${sha256(bytes)}`, {
    method: 'PUT',
    body: bytes,
    ...(contentType ? { headers: { 'Content-Type': contentType } } : {}),
  });
}

async function keys(store: BlobStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const key of store.list(prefix)) found.push(key);
  return found;
}

async function waitForStatus(url: string, status: number): Promise<Answer> {
  const deadline = Date.now() + REQUEST_TIMEOUT_MS;
  for (;;) {
    const response = await request(url).catch(() => undefined);
    if (response?.status === status) return response;
    if (Date.now() > deadline) {
      throw new Error(`${url} did not answer ${status} within ${REQUEST_TIMEOUT_MS} ms`);
    }
    await sleep(200);
  }
}

/** Splits a Content-Disposition into its ASCII fallback and its decoded UTF-8 filename*. */
function parseDisposition(header: string | null): { fallback: string; utf8: string } {
  const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''(\S+)$/.exec(header ?? '');
  assert.ok(match, `unexpected Content-Disposition: ${header}`);
  const [, fallback = '', encoded = ''] = match;
  // RFC 8187: outside attr-char everything must be percent-encoded, quotes and parentheses too.
  assert.match(encoded, /^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+$/);
  return { fallback, utf8: decodeURIComponent(encoded) };
}

/** Response of a raw request, read whole; rejects if no answer comes within the timeout. */
interface RawAnswer {
  status: number;
  body: Buffer;
}

function readAnswer(req: http.ClientRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`));
    }, REQUEST_TIMEOUT_MS);
    req.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) });
      });
      response.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`the server gave no answer: ${err.message}`, { cause: err }));
    });
  });
}

/** Announces `declared` bytes, sends only `sent`, and waits for the answer. */
async function putDeclaringMore(url: string, declared: number, sent: Buffer): Promise<RawAnswer> {
  const req = http.request(forCase(url), {
    method: 'PUT',
    headers: {
      ...authorization(),
      'Content-Length': declared,
      'Content-Type': 'application/octet-stream',
    },
  });
  const answer = readAnswer(req);
  req.write(sent);
  try {
    return await answer;
  } finally {
    req.destroy();
  }
}

/** Sends the body without a Content-Length, so the server only learns its size by reading it. */
async function putChunked(url: string, bytes: Buffer): Promise<RawAnswer> {
  const req = http.request(forCase(url), { method: 'PUT', headers: authorization() });
  const answer = readAnswer(req);
  const chunks = Array.from({ length: Math.ceil(bytes.length / (64 * 1024)) }, (_, i) =>
    bytes.subarray(i * 64 * 1024, (i + 1) * 64 * 1024),
  );
  // The server may stop reading once it has seen enough; that is not the test's concern.
  Readable.from(chunks)
    .pipe(req)
    .on('error', () => undefined);
  try {
    return await answer;
  } finally {
    req.destroy();
  }
}

/** Sends half the body, gives the server time to start storing it, then drops the connection. */
async function abandonUpload(url: string, bytes: Buffer): Promise<void> {
  const req = http.request(forCase(url), {
    method: 'PUT',
    headers: { ...authorization(), 'Content-Length': bytes.length },
  });
  const answered = new Promise<boolean>((resolve) => {
    req.once('response', () => resolve(true));
    req.once('error', () => resolve(false));
    req.once('close', () => resolve(false));
  });
  await new Promise<void>((resolve, reject) =>
    req.write(bytes.subarray(0, bytes.length / 2), (err) => (err ? reject(err) : resolve())),
  );
  await sleep(200);
  req.destroy();
  assert.is(await answered, false, 'the server answered before the upload was complete');
}

async function incompleteUploads(server: MinioServer, bucket: string): Promise<string[]> {
  const url = new URL(server.endPoint);
  const client = new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    region: 'us-east-1',
  });
  const found: string[] = [];
  for await (const upload of client.listIncompleteUploads(bucket, '', true)) {
    found.push(`${upload.key} (unfinished upload)`);
  }
  return found;
}

/** A blob server on the file's shared identity and a fresh filesystem store, for one test. */
async function withServer(body: (base: string) => Promise<void>): Promise<void> {
  const store = await openFsStore();
  const server = await createBlobServer({
    store: store.store,
    maxUploadBytes: MAX_UPLOAD_BYTES,
    log: silentLogger,
    auth: await callerAuth(),
  });
  try {
    await body(`http://127.0.0.1:${server.port}`);
  } finally {
    await server.close();
    await store.cleanup();
  }
}

const who = suite('blob API: who may read and add evidence');

who('refuses callers who are not signed in, with 401 and a reason', () =>
  withServer(async (base) => {
    const bytes = Buffer.from('evidence');
    const url = `${base}/api/blobs/${sha256(bytes)}`;
    for (const init of [{ method: 'PUT', body: bytes }, { method: 'GET' }, { method: 'HEAD' }]) {
      const response = await fetch(url, {
        ...init,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      assert.is(response.status, 401, init.method);
    }
    const forged = await fetch(url, {
      headers: { Authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    assert.is(forged.status, 401);
    assert.match(((await forged.json()) as { message: string }).message, /token/);
  }),
);

who('lets only members read a case’s evidence, and only contributors add to it', () =>
  withServer(async (base) => {
    const bytes = Buffer.from('witness statement');
    const url = `${base}/api/blobs/${sha256(bytes)}`;
    assert.is((await request(url, { method: 'PUT', body: bytes })).status, 201);
    const cases = identity!.identity.cases;
    const admin = await identity!.identity.service.authenticate(identity!.adminToken);
    await cases.recordEvidence(CASE_ID, [sha256(bytes)]);
    const ctx = { ip: '127.0.0.1' };
    const as = (token: string, init: RequestInit = {}, target = url) =>
      fetch(target, {
        ...init,
        headers: { Authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    const addUrl = `${url}?case=${CASE_ID}`;
    for (const role of ['guest', 'analyst', 'investigator'] as const) {
      const email = `outsider-${role}@example.org`;
      const token = await identity!.tokenFor(role, email);
      assert.is((await as(token)).status, 403, `${role} who is not a member reads`);
      const put = { method: 'PUT', body: bytes };
      assert.is((await as(token, put, addUrl)).status, 403, `${role} who is not a member adds`);
      await cases.setMember(admin, CASE_ID, { email, level: 'view' }, ctx);
      assert.is((await as(token)).status, 200, `${role} viewer reads`);
      assert.is((await as(token, put, addUrl)).status, 403, `${role} viewer adds`);
      await cases.setMember(admin, CASE_ID, { email, level: 'contribute' }, ctx);
      assert.is((await as(token, put, addUrl)).status, 200, `${role} contributor adds`);
    }
    const noCase = await fetch(url, {
      method: 'PUT',
      body: bytes,
      headers: authorization(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    assert.is(noCase.status, 400);
    assert.match(((await noCase.json()) as { message: string }).message, /case/);
  }),
);

who('accepts the access cookie for reads only, never for adding evidence', () =>
  withServer(async (base) => {
    const bytes = Buffer.from('cookie evidence');
    const url = `${base}/api/blobs/${sha256(bytes)}`;
    assert.is((await request(url, { method: 'PUT', body: bytes })).status, 201);
    const cookie = `exhibit_access=${identity!.adminToken}`;
    const get = await fetch(url, {
      headers: { cookie },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    assert.is(get.status, 200);
    const other = Buffer.from('another file');
    const put = await fetch(`${base}/api/blobs/${sha256(other)}`, {
      method: 'PUT',
      body: other,
      headers: { cookie },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    assert.is(put.status, 401);
  }),
);

who.after(async () => {
  await identity?.close();
});

who.run();
