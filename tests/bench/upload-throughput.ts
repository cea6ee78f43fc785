// `npm run bench:upload`: a 1 GiB file into a real MinIO, once directly with the minio client's
// putObject and once through Exhibit's tus endpoint (blob-server in its own process, the client
// hashing with hash-wasm as the PWA does and checksumming every chunk), then the same upload
// with the server killed (SIGKILL) halfway and resumed. Prints throughput, the ratio, the
// server's verification rate (read back from MinIO and hashed) and the bytes a resume re-sent.
// SIZE_MIB=<n> changes the file size.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'minio';
import { createSHA256 } from 'hash-wasm';
import { openIdentity } from '../../blob-server/identity/index.ts';
import { startMinio } from '../helpers/minio.ts';
import { freePort } from '../helpers/net.ts';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.SIZE_MIB ?? 1024) * MiB;
const CASE_ID = 'bench-case-0001';

const work = await mkdtemp(join(tmpdir(), 'exhibit-bench-upload-'));
const minio = await startMinio();
let server: ChildProcess | undefined;
const verifications: { size: number; verifyMs: number }[] = [];

try {
  const path = join(work, 'evidence.bin');
  await writeRandomFile(path, SIZE);
  const url = new URL(minio.endPoint);
  const client = new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: minio.accessKey,
    secretKey: minio.secretKey,
  });
  await client.makeBucket('direct', 'us-east-1');

  let started = performance.now();
  await client.putObject('direct', 'evidence.bin', createReadStream(path), SIZE);
  const directSeconds = (performance.now() - started) / 1000;

  const dataDir = join(work, 'data');
  const token = await administratorToken(dataDir);
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
  console.log(`ratio Exhibit / direct: ${(directSeconds / oursSeconds).toFixed(2)}`);
  if (verify) {
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

async function administratorToken(dataDir: string): Promise<string> {
  const identity = await openIdentity({
    dataDir,
    accessTokenTtlSeconds: 3600,
    sessionTtlMs: 3600_000,
  });
  const setup = await identity.service.issueSetupToken();
  const admin = await identity.service.setup(
    {
      token: setup ?? '',
      email: 'bench@example.org',
      name: 'Bench',
      password: 'correct horse battery',
    },
    { ip: '127.0.0.1' },
  );
  await identity.close();
  return admin.accessToken;
}

/**
 * The PWA's algorithm in Node: read a chunk, feed the whole-file hasher (hash-wasm), checksum
 * the chunk, PATCH it; on a failure ask the server where it stands and continue from there.
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
  const file = await open(path, 'r');
  const hasher = await createSHA256();
  hasher.init();
  let saved = hasher.save();
  let offset = 0;
  let sent = 0;
  let killedAt: number | undefined;
  let resumedFrom: number | undefined;
  let serverSha256 = '';
  let clientSha256 = '';
  try {
    while (offset < SIZE) {
      const length = Math.min(chunkSize, SIZE - offset);
      const chunk = Buffer.alloc(length);
      await file.read(chunk, 0, length, offset);
      hasher.load(saved);
      hasher.update(chunk);
      const final = offset + length === SIZE;
      if (final) clientSha256 = hasher.digest('hex');
      const send = request(
        location,
        'PATCH',
        {
          ...headers,
          'Content-Type': 'application/offset+octet-stream',
          'Upload-Offset': String(offset),
          'Upload-Checksum': `sha256 ${createHash('sha256').update(chunk).digest('base64')}`,
          ...(final ? { 'Exhibit-Sha256': clientSha256 } : {}),
        },
        chunk,
      );
      sent += length;
      if (fault.killAt !== undefined && killedAt === undefined && offset + length > fault.killAt) {
        killedAt = offset;
        const cut = send.catch(() => undefined);
        await new Promise((r) => setTimeout(r, 30));
        await fault.kill!();
        await cut;
        const status = await request(location, 'HEAD', headers);
        resumedFrom = Number(status.headers['upload-offset']);
        // Back to the hasher state at the server's offset: a chunk boundary the client saved.
        if (resumedFrom !== offset) {
          if (resumedFrom !== offset + length) throw new Error(`unexpected offset ${resumedFrom}`);
          saved = hasher.save();
        }
        offset = resumedFrom;
        continue;
      }
      const reply = await send;
      if (reply.status !== 204) throw new Error(`PATCH answered ${reply.status}: ${reply.body}`);
      if (!final) saved = hasher.save();
      offset = Number(reply.headers['upload-offset']);
      if (final) serverSha256 = String(reply.headers['exhibit-sha256']);
    }
  } finally {
    await file.close();
  }
  return {
    clientSha256,
    serverSha256,
    sent,
    ...(killedAt !== undefined ? { killedAt, resumedFrom } : {}),
  };
}

function request(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    // No connection reuse: a pooled socket to a killed server would only reset.
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitForHealth(base: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${base}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the blob-server did not start');
}
