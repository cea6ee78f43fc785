import { createHash, randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resumableUpload, type UploadCheckpoint } from './resumable-upload.ts';
import {
  fetchTransport,
  FileMismatch,
  ownBuffer,
  TusClient,
  UploadRefused,
  type Transport,
} from './tus-client.ts';
import { failure } from '../../../tests/helpers/async.ts';
import { withTusServer, type TusTestServer } from '../../../tests/helpers/tus-server.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const KIB = 1024;

function tusClient(server: TusTestServer, transport: Transport = fetchTransport(5_000)) {
  return new TusClient({ endpoint: server.endpoint, transport, token: async () => 'token' });
}

/** A file that records which byte ranges were read from it. */
function watchedFile(bytes: Uint8Array): { file: Blob; reads: [number, number][] } {
  const blob = new Blob([ownBuffer(bytes)]);
  const reads: [number, number][] = [];
  const file = {
    size: blob.size,
    slice(start = 0, end = blob.size) {
      reads.push([start, end]);
      return blob.slice(start, end);
    },
  } as Blob;
  return { file, reads };
}

/** Runs an upload with instant back-off, recording checkpoints and waits. */
function run(
  server: TusTestServer,
  file: Blob,
  extra: Partial<Parameters<typeof resumableUpload>[0]> = {},
) {
  const checkpoints: UploadCheckpoint[] = [];
  const waits: number[] = [];
  const stop = new AbortController();
  const result = resumableUpload({
    client: tusClient(server),
    file,
    metadata: {
      case: 'c1',
      evidence: 'e1',
      filename: 'f.bin',
      filetype: 'application/octet-stream',
    },
    checkpoint: {},
    saveCheckpoint: async (c) => {
      checkpoints.push(c);
    },
    onWaiting: (_reason, ms) => waits.push(ms),
    sleep: async () => undefined,
    signal: stop.signal,
    ...extra,
  });
  return { result, checkpoints, waits, stop };
}

const patches = (server: TusTestServer) => server.requests.filter((r) => r.method === 'PATCH');

const upload = suite('resumableUpload');

upload('sends a file in chunks to a standard tus server, hashing it on the way', async () => {
  await withTusServer({}, async (server) => {
    const bytes = randomBytes(300 * KIB + 5);
    const progress: number[] = [];
    const { result, checkpoints } = run(server, new Blob([bytes]), {
      defaultChunkSize: 64 * KIB,
      onProgress: (sent) => progress.push(sent),
    });
    const done = await result;
    assert.equal(done, { sha256: sha256(bytes) }, 'a standard server confirms no digest');
    const url = checkpoints.at(-1)?.url as string;
    assert.ok((await server.stored(url)).equals(bytes));
    assert.equal(
      patches(server).map((p) => p.bytes),
      [65536, 65536, 65536, 65536, 45061],
    );
    assert.equal(
      checkpoints.map((c) => c.hash?.offset),
      [0, 65536, 131072, 196608, 262144, 307205],
    );
    assert.is(progress.at(-1), bytes.length);
  });
});

upload(
  'sends the chunk size an Exhibit server asks for, and has the digest confirmed',
  async () => {
    await withTusServer({ exhibit: { chunkSize: 100 * KIB } }, async (server) => {
      const bytes = randomBytes(250 * KIB);
      const { result } = run(server, new Blob([bytes]));
      assert.equal(await result, { sha256: sha256(bytes), serverSha256: sha256(bytes) });
      assert.equal(
        patches(server).map((p) => p.bytes),
        [102400, 102400, 51200],
      );
    });
  },
);

upload('reads and hashes the next chunk while the previous one is on its way', async () => {
  await withTusServer({}, async (server) => {
    const bytes = randomBytes(256 * KIB);
    const { file, reads } = watchedFile(bytes);
    // At the moment each PATCH is sent: how far the file has been read.
    const readWhenSent: number[] = [];
    const base = fetchTransport(5_000);
    const transport: Transport = async (request) => {
      if (request.method !== 'PATCH') return base(request);
      const response = await base(request);
      // Give the client a turn to prepare while the request "travels".
      await new Promise((resolve) => setTimeout(resolve, 20));
      readWhenSent.push(Math.max(...reads.map(([, end]) => end)));
      return response;
    };
    const { result } = run(server, file, {
      client: tusClient(server, transport),
      defaultChunkSize: 64 * KIB,
    });
    assert.equal(await result, { sha256: sha256(bytes) });
    // While chunk n was answered, chunk n+1 had been read already (the last has no successor).
    assert.equal(
      readWhenSent,
      [128, 192, 256, 256].map((k) => k * KIB),
    );
    // Each byte was read once: prefetching never reads anything twice.
    assert.is(
      reads.reduce((sum, [start, end]) => sum + end - start, 0),
      bytes.length,
    );
  });
});

upload('an empty file is created and completed with one empty chunk', async () => {
  await withTusServer({ exhibit: { chunkSize: 100 } }, async (server) => {
    const { result } = run(server, new Blob([]));
    const empty = sha256(Buffer.alloc(0));
    assert.equal(await result, { sha256: empty, serverSha256: empty });
  });
});

upload(
  'continues from a saved checkpoint without reading the acknowledged bytes again',
  async () => {
    await withTusServer({ exhibit: { chunkSize: 64 * KIB } }, async (server) => {
      const bytes = randomBytes(256 * KIB);
      // The first session stops (a reload) once two chunks are acknowledged.
      const saved: UploadCheckpoint[] = [];
      const stop = new AbortController();
      const interrupted = resumableUpload({
        client: tusClient(server),
        file: new Blob([bytes]),
        metadata: { case: 'c1' },
        checkpoint: {},
        saveCheckpoint: async (c) => {
          saved.push(c);
          if (c.hash?.offset === 128 * KIB) stop.abort();
        },
        signal: stop.signal,
      });
      assert.is((await failure(interrupted)).name, 'AbortError');

      const checkpoint = saved.at(-1) as UploadCheckpoint;
      assert.is(checkpoint.hash?.offset, 128 * KIB);
      const { file, reads } = watchedFile(bytes);
      const before = patches(server).length;
      const resumed = run(server, file, { checkpoint });
      assert.equal(await resumed.result, { sha256: sha256(bytes), serverSha256: sha256(bytes) });
      assert.ok(
        reads.every(([start]) => start >= 128 * KIB),
        `read ${JSON.stringify(reads)}: nothing before the checkpoint`,
      );
      assert.equal(
        patches(server)
          .slice(before)
          .map((p) => p.offset),
        [128 * KIB, 192 * KIB],
      );
      assert.ok((await server.stored(checkpoint.url as string)).equals(bytes));
    });
  },
);

upload(
  'after a lost answer and an offset conflict it continues from the server offset, hashing only the bytes between',
  async () => {
    let dropped = false;
    await withTusServer(
      {
        exhibit: { chunkSize: 64 * KIB },
        // The second chunk reaches the server, but its answer is lost.
        fault: ({ method, offset }) => {
          if (method !== 'PATCH' || offset !== 64 * KIB || dropped) return undefined;
          dropped = true;
          return 'drop-answer';
        },
      },
      async (server) => {
        const bytes = randomBytes(200 * KIB);
        const { file, reads } = watchedFile(bytes);
        const { result, waits } = run(server, file);
        assert.equal(await result, { sha256: sha256(bytes), serverSha256: sha256(bytes) });
        assert.equal(waits, [1000], 'one wait after the connection broke');
        assert.equal(
          server.requests.map((r) => `${r.method} ${r.offset ?? ''} ${r.status}`),
          [
            'POST  201',
            'PATCH 0 204',
            'PATCH 65536 -1',
            'HEAD  200',
            'PATCH 131072 204',
            'PATCH 196608 204',
          ],
        );
        const readTwice = reads.filter(([start]) => start === 64 * KIB);
        assert.is(readTwice.length, 1, 'the chunk whose answer was lost was hashed, not re-read');
      },
    );
  },
);

upload(
  'when another session moved the upload on (409), it asks the server and catches up',
  async () => {
    await withTusServer({ exhibit: { chunkSize: 64 * KIB } }, async (server) => {
      const bytes = randomBytes(200 * KIB);
      const other = tusClient(server);
      let pushed = false;
      const { result } = run(server, new Blob([bytes]), {
        // Another tab sends the next chunk just after this one's first was acknowledged.
        saveCheckpoint: async (c) => {
          if (c.hash?.offset !== 64 * KIB || pushed) return;
          pushed = true;
          await other.patch(c.url as string, {
            offset: 64 * KIB,
            chunk: bytes.subarray(64 * KIB, 128 * KIB),
          });
        },
      });
      assert.equal(await result, { sha256: sha256(bytes), serverSha256: sha256(bytes) });
      assert.equal(
        server.requests.map((r) => `${r.method} ${r.offset ?? ''} ${r.status}`),
        [
          'POST  201',
          'PATCH 0 204',
          'PATCH 65536 204',
          'PATCH 65536 409',
          'HEAD  200',
          'PATCH 131072 204',
          'PATCH 196608 204',
        ],
      );
    });
  },
);

upload('a chunk damaged in transit is sent again', async () => {
  await withTusServer({ exhibit: { chunkSize: 64 * KIB } }, async (server) => {
    const bytes = randomBytes(150 * KIB);
    let damaged = false;
    const damaging: Transport = (request) => {
      if (
        request.method !== 'PATCH' ||
        request.headers['Upload-Offset'] !== String(64 * KIB) ||
        damaged
      ) {
        return fetchTransport()(request);
      }
      damaged = true;
      const body = Buffer.from(request.body as Uint8Array);
      body[10] = (body[10] ?? 0) ^ 1;
      return fetchTransport()({ ...request, body });
    };
    const { result } = run(server, new Blob([bytes]), { client: tusClient(server, damaging) });
    assert.equal(await result, { sha256: sha256(bytes), serverSha256: sha256(bytes) });
    assert.equal(
      patches(server).map((p) => `${p.offset} ${p.status}`),
      ['0 204', '65536 460', '65536 204', '131072 204'],
    );
  });
});

upload(
  'a stored file that does not match the browser’s hash fails with the server’s words',
  async () => {
    await withTusServer({ exhibit: { chunkSize: 64 * KIB } }, async (server) => {
      const bytes = randomBytes(150 * KIB);
      const { result } = run(server, new Blob([bytes]), {
        // The server's storage flips a bit of what it already acknowledged.
        saveCheckpoint: async (c) => {
          if (c.hash?.offset === 64 * KIB) await server.damage(c.url as string, 5);
        },
      });
      const err = await failure(result);
      assert.instance(err, FileMismatch);
      assert.match(
        err.message,
        /^The whole file did not match: the server computed SHA-256 [0-9a-f]{64}/,
      );
    });
  },
);

upload('an upload the server forgot starts again from the first byte', async () => {
  await withTusServer({ exhibit: { chunkSize: 64 * KIB } }, async (server) => {
    const bytes = randomBytes(150 * KIB);
    let ended = false;
    const { result, checkpoints } = run(server, new Blob([bytes]), {
      saveCheckpoint: async (c) => {
        checkpoints.push(c);
        if (c.hash?.offset !== 64 * KIB || ended) return;
        ended = true;
        await tusClient(server).terminate(c.url as string);
      },
    });
    assert.equal(await result, { sha256: sha256(bytes), serverSha256: sha256(bytes) });
    const urls = new Set(checkpoints.map((c) => c.url));
    assert.is(urls.size, 2, 'a second upload was created');
    assert.equal(server.requests.filter((r) => r.method === 'POST').length, 2);
  });
});

upload('waits with growing pauses while the server is unavailable or busy', async () => {
  let failures = 0;
  await withTusServer(
    {
      exhibit: { chunkSize: 64 * KIB },
      fault: ({ method }) => {
        if (method !== 'PATCH' || failures >= 4) return undefined;
        failures++;
        return failures === 3 ? { status: 423 } : { status: 503 };
      },
    },
    async (server) => {
      const bytes = randomBytes(100 * KIB);
      const reasons: string[] = [];
      const { result } = run(server, new Blob([bytes]), {
        onWaiting: (reason) => reasons.push(reason),
      });
      assert.equal(await result, { sha256: sha256(bytes), serverSha256: sha256(bytes) });
      assert.is(reasons.length, 4);
      assert.match(reasons[2] ?? '', 'Another device is sending this file');
    },
  );
});

upload('records each wait, from 1 s up to 30 s', async () => {
  let failures = 0;
  await withTusServer(
    {
      fault: ({ method }) => (method === 'POST' && failures++ < 6 ? { status: 503 } : undefined),
    },
    async (server) => {
      const { result, waits } = run(server, new Blob([Buffer.from('x')]));
      await result;
      assert.equal(waits, [1000, 3000, 10000, 30000, 30000, 30000]);
    },
  );
});

upload('a refusal fails at once, without retrying', async () => {
  await withTusServer(
    {
      fault: () => ({
        status: 403,
        body: { error: 'forbidden', message: 'you may not add evidence to this case' },
      }),
    },
    async (server) => {
      const { result, waits } = run(server, new Blob([Buffer.from('x')]));
      const err = await failure(result);
      assert.instance(err, UploadRefused);
      assert.is(err.message, 'You may not add evidence to this case.');
      assert.equal(waits, []);
      assert.is(server.requests.length, 1);
    },
  );
});

upload('waits for the device to be online before each attempt', async () => {
  await withTusServer({}, async (server) => {
    const events: string[] = [];
    const { result } = run(server, new Blob([Buffer.from('hello')]), {
      online: async () => {
        events.push('online?');
      },
      onProgress: (sent) => events.push(`sent ${sent}`),
    });
    await result;
    assert.is(events[0], 'online?');
  });
});

upload.run();
