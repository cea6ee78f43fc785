import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ChunkDamaged,
  encodeMetadata,
  fetchTransport,
  FileMismatch,
  OffsetMismatch,
  ServerUnavailable,
  SignedOut,
  TusClient,
  UploadBusy,
  UploadGone,
  UploadRefused,
  type Transport,
} from './tus-client.ts';
import { failure } from '../../../tests/helpers/async.ts';
import { freePort } from '../../../tests/helpers/net.ts';
import { withTusServer, type Fault } from '../../../tests/helpers/tus-server.ts';

const TOKEN = 'token-1';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function clientFor(endpoint: string, transport: Transport = fetchTransport(5_000)): TusClient {
  return new TusClient({ endpoint, transport, token: async () => TOKEN });
}

const client = suite('TusClient');

client('creates, reads, appends to and terminates an upload on a standard tus server', async () => {
  await withTusServer({ token: TOKEN }, async (server) => {
    const tus = clientFor(server.endpoint);
    const created = await tus.create({ length: 10, metadata: { case: 'c1' } });
    assert.match(created.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/uploads\/[0-9a-f]+$/);
    assert.is(created.chunkSize, undefined, 'a standard server recommends no chunk size');
    assert.equal(await tus.status(created.url), { offset: 0, length: 10 });
    const first = await tus.patch(created.url, { offset: 0, chunk: Buffer.from('01234') });
    assert.is(first.offset, 5);
    const last = await tus.patch(created.url, { offset: 5, chunk: Buffer.from('56789') });
    assert.equal(last, { offset: 10 });
    assert.is((await server.stored(created.url)).toString(), '0123456789');
    await tus.terminate(created.url);
    assert.instance(await failure(tus.status(created.url)), UploadGone);
    await tus.terminate(created.url);
  });
});

client('sends metadata in UTF-8 that a standard server decodes', async () => {
  await withTusServer({}, async (server) => {
    const metadata = {
      case: 'c-42',
      evidence: 'e-1',
      filename: 'Zeugenaussage – Müller, 2. Fassung.txt',
      filetype: 'text/plain',
    };
    const created = await clientFor(server.endpoint).create({ length: 1, metadata });
    assert.equal(await server.metadata(created.url), metadata);
  });
});

client('reports the chunk size and the SHA-256 an Exhibit server adds', async () => {
  await withTusServer({ exhibit: { chunkSize: 4 } }, async (server) => {
    const tus = clientFor(server.endpoint);
    const created = await tus.create({ length: 6, metadata: { case: 'c1' } });
    assert.is(created.chunkSize, 4);
    await tus.patch(created.url, { offset: 0, chunk: Buffer.from('abcd') });
    const whole = sha256(Buffer.from('abcdef'));
    const done = await tus.patch(created.url, {
      offset: 4,
      chunk: Buffer.from('ef'),
      fileSha256: whole,
    });
    assert.equal(done, { offset: 6, sha256: whole });
    assert.is((await tus.status(created.url)).sha256, whole);
  });
});

client('a chunk at the wrong offset is an OffsetMismatch', async () => {
  await withTusServer({}, async (server) => {
    const tus = clientFor(server.endpoint);
    const { url } = await tus.create({ length: 4, metadata: {} });
    await tus.patch(url, { offset: 0, chunk: Buffer.from('ab') });
    assert.instance(
      await failure(tus.patch(url, { offset: 0, chunk: Buffer.from('ab') })),
      OffsetMismatch,
    );
  });
});

client('tells a damaged chunk from a whole file that did not match', async () => {
  await withTusServer({ exhibit: { chunkSize: 4 } }, async (server) => {
    const tus = clientFor(server.endpoint);
    // The transport damages the bytes after the client computed their checksum.
    const damaging: Transport = (request) =>
      fetchTransport()({ ...request, body: Buffer.from('abXd') });
    const { url } = await tus.create({ length: 4, metadata: {} });
    const damaged = await failure(
      clientFor(server.endpoint, damaging).patch(url, { offset: 0, chunk: Buffer.from('abcd') }),
    );
    assert.instance(damaged, ChunkDamaged);
    assert.match(damaged.message, 'damaged');
    assert.is((await tus.status(url)).offset, 0, 'the damaged chunk was not kept');

    const wrong = await failure(
      tus.patch(url, {
        offset: 0,
        chunk: Buffer.from('abcd'),
        fileSha256: sha256(Buffer.from('dcba')),
      }),
    );
    assert.instance(wrong, FileMismatch);
    assert.match(wrong.message, /^The whole file did not match/);
  });
});

client('maps refusals to named errors with words a person understands', async () => {
  let fault: Fault | undefined;
  await withTusServer({ fault: () => fault }, async (server) => {
    const tus = clientFor(server.endpoint);
    const cases: [Exclude<Fault, 'drop-answer'>, new (...a: never[]) => Error, RegExp][] = [
      [
        {
          status: 403,
          body: { error: 'forbidden', message: 'you may not add evidence to this case' },
        },
        UploadRefused,
        /^You may not add evidence to this case\.$/,
      ],
      [{ status: 413 }, UploadRefused, /larger than this server accepts/],
      [{ status: 423 }, UploadBusy, /Another device is sending this file/],
      [{ status: 503 }, ServerUnavailable, /unavailable \(503\)/],
      [{ status: 410 }, UploadGone, /no longer holds this upload/],
      [
        {
          status: 410,
          body: { error: 'request_closed', message: 'this file request has been withdrawn' },
        },
        UploadRefused,
        /^This file request has been withdrawn\.$/,
      ],
      [
        { status: 400, body: { error: 'bad-request', message: 'say which case' } },
        UploadRefused,
        /^Say which case\.$/,
      ],
    ];
    for (const [given, type, words] of cases) {
      fault = given;
      const err = await failure(tus.create({ length: 1, metadata: {} }));
      assert.instance(err, type, `${given.status} gives ${type.name}`);
      assert.match(err.message, words);
      assert.not.match(err.message, /\{|"error"/, 'no raw JSON for a person to read');
    }
  });
});

client('renews the token once on 401, and then gives up as signed out', async () => {
  await withTusServer({ token: TOKEN }, async (server) => {
    const asked: boolean[] = [];
    const renewing = new TusClient({
      endpoint: server.endpoint,
      transport: fetchTransport(),
      token: async (renew) => {
        asked.push(renew);
        return renew ? TOKEN : 'expired';
      },
    });
    await renewing.create({ length: 1, metadata: {} });
    assert.equal(asked, [false, true]);

    const stale = new TusClient({
      endpoint: server.endpoint,
      transport: fetchTransport(),
      token: async () => 'expired',
    });
    const err = await failure(stale.create({ length: 1, metadata: {} }));
    assert.instance(err, SignedOut);
    assert.match(err.message, 'Sign in again');
    assert.is(server.requests.filter((r) => r.status === 401).length, 3);
  });
});

client('no answer at all is ServerUnavailable, an abort stays an AbortError', async () => {
  const nobody = clientFor(`http://127.0.0.1:${await freePort()}/api/uploads`);
  const err = await failure(nobody.create({ length: 1, metadata: {} }));
  assert.instance(err, ServerUnavailable);
  assert.match(err.message, 'cannot be reached');

  const stop = new AbortController();
  stop.abort();
  const aborted = await failure(nobody.create({ length: 1, metadata: {}, signal: stop.signal }));
  assert.is(aborted.name, 'AbortError');
});

client.run();

const metadata = suite('encodeMetadata');

metadata('writes key base64(value) pairs separated by commas', () => {
  assert.is(encodeMetadata({ filename: 'ä.txt', case: 'c1' }), 'filename w6QudHh0,case YzE=');
  assert.is(encodeMetadata({}), '');
});

metadata.run();
