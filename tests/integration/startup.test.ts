import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import { startMinio } from '../helpers/minio.ts';
import { TestPeer } from '../helpers/sync-client.ts';
import * as assert from 'uvu/assert';

/**
 * The entry scripts as an operator runs them: a real `node` process per case, configured only
 * through the environment, judged by its exit code, its stderr and its HTTP answers.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXHIBIT = 'blob-server/bin/exhibit.ts';
const BLOB_SERVER = 'blob-server/bin/blob-server.ts';
const SYNC_SERVER = 'sync-server/bin/sync-server.ts';
/** Longest any wait for a child may take, so a failure never hangs the run. */
const WAIT_MS = 20_000;
const INDEX_HTML = '<!doctype html><title>Exhibit</title><p>startup test shell</p>';

/** Variables the scripts read; the test's own environment must not leak into a case. */
const CONFIG_VARIABLES = [
  'PORT',
  'HOST',
  'DATA_DIR',
  'LOG_LEVEL',
  'WEB_ROOT',
  'MAX_UPLOAD_BYTES',
  'SYNC_MAX_MESSAGE_BYTES',
  'S3_ENDPOINT',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'S3_BUCKET',
  'S3_REGION',
  'API_URL',
  'SYNC_SERVICE_TOKEN',
];

interface Started {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

const children = new Set<Started>();

function start(script: string, env: Record<string, string>): Started {
  const base = { ...process.env };
  for (const variable of CONFIG_VARIABLES) delete base[variable];
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...base, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', (err) => {
      text += `spawn error: ${err.message}\n`;
      resolve('spawn-error');
    });
  });
  const started: Started = { child, output: () => text, exited };
  children.add(started);
  void exited.then(() => children.delete(started));
  return started;
}

async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(async (started) => {
      started.child.kill('SIGKILL');
      await started.exited;
    }),
  );
}

async function expectExit(started: Started, code: number | string): Promise<string> {
  const result = await within(WAIT_MS, 'the process to exit', started.exited, started);
  assert.is(result, code, `exit code; output:\n${started.output()}`);
  return started.output();
}

/** Waits for the JSON log line with this event and returns it parsed. */
async function waitForEvent(started: Started, event: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    // The last piece may be a line still being written.
    for (const line of started.output().split('\n').slice(0, -1)) {
      if (!line.startsWith('{')) continue;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed['event'] === event) return parsed;
    }
    if (started.child.exitCode !== null || started.child.signalCode !== null) {
      throw new Error(`exited before logging ${event}; output:\n${started.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`no ${event} within ${WAIT_MS} ms; output:\n${started.output()}`);
    }
    await sleep(50);
  }
}

async function within<T>(
  ms: number,
  what: string,
  work: Promise<T>,
  started?: Started,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const output = started ? `; output:\n${started.output()}` : '';
      reject(new Error(`timed out after ${ms} ms waiting for ${what}${output}`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port nothing listens on right now (the OS hands out a fresh one for port 0). */
async function freePort(): Promise<number> {
  const server = await occupyPort();
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function occupyPort(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // No host: like the servers, take the port on every address.
    server.listen(0, () => resolve());
  });
  return server;
}

function portOf(server: Server): number {
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('not listening on a port');
  return address.port;
}

/** Creates the first administrator through the setup link the server printed. */
async function signInFromSetupLink(started: Started): Promise<string> {
  const event = await waitForEvent(started, 'setup.required');
  const link = new URL(String(event['url']));
  const reply = await fetch(new URL('/api/setup', link), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token: link.searchParams.get('token'),
      email: 'admin@example.org',
      name: 'Admin',
      password: 'correct horse battery staple',
    }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const body = (await reply.json()) as { accessToken?: string };
  assert.is(reply.status, 201, JSON.stringify(body));
  return body.accessToken as string;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(WAIT_MS) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface Dirs {
  base: string;
  webRoot: string;
  dataDir: string;
}

/** A fresh DATA_DIR and a WEB_ROOT holding a minimal index.html, so no build is needed. */
async function makeDirs(): Promise<Dirs> {
  const base = await mkdtemp(join(tmpdir(), 'exhibit-startup-'));
  const webRoot = join(base, 'web');
  await mkdir(webRoot);
  await writeFile(join(webRoot, 'index.html'), INDEX_HTML);
  return { base, webRoot, dataDir: join(base, 'data') };
}

/** One suite's temp dirs, made by its first case and removed (with every child) after it. */
function withDirs(test: ReturnType<typeof suite>): () => Promise<Dirs> {
  let dirs: Promise<Dirs> | undefined;
  test.after(async () => {
    await killAll();
    if (dirs) await rm((await dirs).base, { recursive: true, force: true });
  });
  return () => (dirs ??= makeDirs());
}

// --- refusals ------------------------------------------------------------------------------

const refuses = suite('exhibit entry: refuses to start with a clear reason');
const refusalDirs = withDirs(refuses);

refuses('exits 1 naming the port when PORT is already in use', async () => {
  const { webRoot, dataDir } = await refusalDirs();
  const occupant = await occupyPort();
  try {
    const port = portOf(occupant);
    const started = start(EXHIBIT, { PORT: String(port), DATA_DIR: dataDir, WEB_ROOT: webRoot });
    const output = await expectExit(started, 1);
    assert.ok(output.includes(String(port)), output);
    assert.match(output, /in use/);
  } finally {
    await new Promise<void>((resolve) => occupant.close(() => resolve()));
  }
});

refuses('exits 1 naming DATA_DIR when it lies under a regular file', async () => {
  const { base, webRoot } = await refusalDirs();
  const file = join(base, 'not-a-directory');
  await writeFile(file, 'a file, not a folder');
  const dataDir = join(file, 'data');
  const started = start(EXHIBIT, {
    PORT: String(await freePort()),
    DATA_DIR: dataDir,
    WEB_ROOT: webRoot,
  });
  const output = await expectExit(started, 1);
  assert.ok(output.includes(`DATA_DIR=${dataDir}`), output);
  assert.match(output, /not a writable directory/);
});

refuses('exits 1 naming PORT when it is not a number', async () => {
  const { webRoot, dataDir } = await refusalDirs();
  const started = start(EXHIBIT, { PORT: 'abc', DATA_DIR: dataDir, WEB_ROOT: webRoot });
  const output = await expectExit(started, 1);
  assert.match(output, /PORT="abc"/);
  assert.match(output, /must be a number/);
});

refuses('exits 1 naming S3_ACCESS_KEY when S3_ENDPOINT comes without keys', async () => {
  const { webRoot, dataDir } = await refusalDirs();
  const started = start(EXHIBIT, {
    PORT: String(await freePort()),
    DATA_DIR: dataDir,
    WEB_ROOT: webRoot,
    S3_ENDPOINT: 'http://127.0.0.1:9000',
  });
  const output = await expectExit(started, 1);
  assert.match(output, /S3_ACCESS_KEY/);
  assert.match(output, /S3_SECRET_KEY/);
});

refuses('exits 1 naming WEB_ROOT when it has no index.html', async () => {
  const { base, dataDir } = await refusalDirs();
  const emptyWebRoot = join(base, 'empty-web');
  await mkdir(emptyWebRoot);
  const started = start(EXHIBIT, {
    PORT: String(await freePort()),
    DATA_DIR: dataDir,
    WEB_ROOT: emptyWebRoot,
  });
  const output = await expectExit(started, 1);
  assert.ok(output.includes(`WEB_ROOT=${emptyWebRoot}`), output);
  assert.match(output, /index\.html/);
});

refuses.run();

// --- running -------------------------------------------------------------------------------

const running = suite('exhibit entry: running');
const runningDirs = withDirs(running);

running('logs exhibit.listening, serves health and the PWA, and exits 0 on SIGTERM', async () => {
  const { webRoot, dataDir } = await runningDirs();
  await writeFile(join(webRoot, 'app.js'), 'console.log("exhibit");\n'.repeat(2000));
  const port = await freePort();
  const started = start(EXHIBIT, { PORT: String(port), DATA_DIR: dataDir, WEB_ROOT: webRoot });
  const listening = await waitForEvent(started, 'exhibit.listening');
  assert.is(listening['level'], 'info');
  assert.is(listening['storage'], 'fs');
  assert.match(String(listening['url']), new RegExp(`:${port}/$`));

  const health = await getJson(`http://127.0.0.1:${port}/api/health`);
  assert.is(health.status, 200, JSON.stringify(health.body));
  assert.equal(health.body['storage'], {
    backend: 'fs',
    protection: 'none',
    ok: true,
    detail: (health.body['storage'] as { detail: string }).detail,
  });
  assert.is((health.body['sync'] as { ok: boolean }).ok, true);

  const shell = await fetch(`http://127.0.0.1:${port}/cases/some-case`, {
    signal: AbortSignal.timeout(WAIT_MS),
  });
  assert.is(shell.status, 200);
  assert.is(await shell.text(), INDEX_HTML);
  // The shell's files go compressed to whoever accepts it (phones on slow lines).
  const script = await fetch(`http://127.0.0.1:${port}/app.js`, {
    headers: { 'accept-encoding': 'gzip' },
    signal: AbortSignal.timeout(WAIT_MS),
  });
  assert.is(script.headers.get('content-encoding'), 'gzip');
  assert.is((await script.text()).length, 'console.log("exhibit");\n'.length * 2000);

  started.child.kill('SIGTERM');
  const output = await expectExit(started, 0);
  assert.match(output, /SIGTERM received/);
});

running('refuses a second server on the same DATA_DIR: the sync database is in use', async () => {
  const { webRoot, dataDir } = await runningDirs();
  const firstPort = await freePort();
  const first = start(EXHIBIT, { PORT: String(firstPort), DATA_DIR: dataDir, WEB_ROOT: webRoot });
  await waitForEvent(first, 'exhibit.listening');

  const second = start(EXHIBIT, {
    PORT: String(await freePort()),
    DATA_DIR: dataDir,
    WEB_ROOT: webRoot,
  });
  const output = await expectExit(second, 1);
  assert.match(output, /database .* is in use/);

  // The first one is untouched by the attempt.
  assert.is((await getJson(`http://127.0.0.1:${firstPort}/api/health`)).status, 200);
  first.child.kill('SIGTERM');
  await expectExit(first, 0);
});

running('starts with S3 unreachable, reports it, and recovers when MinIO comes up', async () => {
  const { webRoot, dataDir } = await runningDirs();
  const minio = await startMinio();
  try {
    await minio.stopProcess();
    const port = await freePort();
    const started = start(EXHIBIT, {
      PORT: String(port),
      DATA_DIR: dataDir,
      WEB_ROOT: webRoot,
      S3_ENDPOINT: minio.endPoint,
      S3_ACCESS_KEY: minio.accessKey,
      S3_SECRET_KEY: minio.secretKey,
    });
    const warning = await waitForEvent(started, 'storage.unavailable');
    assert.ok(String(warning['detail']).includes(minio.endPoint), JSON.stringify(warning));
    await waitForEvent(started, 'exhibit.listening');

    const degraded = await getJson(`http://127.0.0.1:${port}/api/health`);
    assert.is(degraded.status, 503);
    const storage = degraded.body['storage'] as { ok: boolean; detail: string };
    assert.is(storage.ok, false);
    assert.ok(storage.detail.includes(minio.endPoint), storage.detail);
    assert.is((degraded.body['sync'] as { ok: boolean }).ok, true, 'sync keeps serving');

    const token = await signInFromSetupLink(started);
    const authorization = { authorization: `Bearer ${token}` };
    const body = Buffer.from('evidence while storage is down');
    const caseQuery = '?case=0123456789abcdef';
    const digest = createHash('sha256').update(body).digest('hex');
    const refused = await fetch(`http://127.0.0.1:${port}/api/blobs/${digest}${caseQuery}`, {
      method: 'PUT',
      headers: authorization,
      body,
      signal: AbortSignal.timeout(WAIT_MS),
    });
    assert.is(refused.status, 503);
    assert.is(((await refused.json()) as { error: string }).error, 'storage_unavailable');

    await minio.restart();
    const healthy = await getJson(`http://127.0.0.1:${port}/api/health`);
    assert.is(healthy.status, 200, JSON.stringify(healthy.body));
    const stored = await fetch(`http://127.0.0.1:${port}/api/blobs/${digest}${caseQuery}`, {
      method: 'PUT',
      headers: authorization,
      body,
      signal: AbortSignal.timeout(WAIT_MS),
    });
    assert.is(stored.status, 201);
    const back = await fetch(`http://127.0.0.1:${port}/api/blobs/${digest}`, {
      headers: authorization,
      signal: AbortSignal.timeout(WAIT_MS),
    });
    assert.ok(Buffer.from(await back.arrayBuffer()).equals(body));
  } finally {
    await minio.stop();
  }
});

running.run();

// --- standalone servers --------------------------------------------------------------------

const standalone = suite('standalone entry scripts');
const standaloneDirs = withDirs(standalone);

standalone('sync-server refuses to start without API_URL, naming it', async () => {
  const { dataDir } = await standaloneDirs();
  const started = start(SYNC_SERVER, {
    PORT: String(await freePort()),
    DATA_DIR: join(dataDir, 'sync-only'),
  });
  const output = await expectExit(started, 1);
  assert.match(output, /API_URL/);
});

standalone('sync-server runs beside a blob-server and lets its signed-in users sync', async () => {
  const { dataDir } = await standaloneDirs();
  const apiPort = await freePort();
  const serviceToken = 'a-shared-secret-of-at-least-32-characters';
  const api = start(BLOB_SERVER, {
    PORT: String(apiPort),
    DATA_DIR: join(dataDir, 'api'),
    SYNC_SERVICE_TOKEN: serviceToken,
  });
  await waitForEvent(api, 'blob.listening');
  const token = await signInFromSetupLink(api);
  const port = await freePort();
  const started = start(SYNC_SERVER, {
    PORT: String(port),
    DATA_DIR: join(dataDir, 'sync-only'),
    API_URL: `http://127.0.0.1:${apiPort}`,
    SYNC_SERVICE_TOKEN: serviceToken,
  });
  await waitForEvent(started, 'sync.listening');
  const health = await getJson(`http://127.0.0.1:${port}/health`);
  assert.is(health.status, 200);
  assert.is(health.body['ok'], true);

  const url = `ws://127.0.0.1:${port}/sync`;
  const writer = new TestPeer(url, 'case.0123456789abcdef', token);
  const stranger = new TestPeer(url, 'case.0123456789abcdef', 'not-a-token');
  const closes: number[] = [];
  stranger.provider.on('connection-close', (e: CloseEvent | null) => e && closes.push(e.code));
  try {
    await writer.synced(WAIT_MS);
    writer.doc.getText('t').insert(0, 'via the standalone sync-server');
    await writer.savedOnServer(WAIT_MS);
    await within(
      WAIT_MS,
      'the stranger to be refused',
      (async () => {
        while (closes.length === 0) await sleep(20);
      })(),
    );
    assert.is(closes[0], 4401);
  } finally {
    writer.destroy();
    stranger.destroy();
  }
  started.child.kill('SIGTERM');
  await expectExit(started, 0);
  api.child.kill('SIGTERM');
  await expectExit(api, 0);
});

standalone('blob-server starts and answers GET /api/health', async () => {
  const { dataDir } = await standaloneDirs();
  const port = await freePort();
  const started = start(BLOB_SERVER, { PORT: String(port), DATA_DIR: join(dataDir, 'blob-only') });
  await waitForEvent(started, 'blob.listening');
  const health = await getJson(`http://127.0.0.1:${port}/api/health`);
  assert.is(health.status, 200);
  assert.is((health.body['storage'] as { backend: string }).backend, 'fs');
  assert.is((health.body['storage'] as { ok: boolean }).ok, true);
  started.child.kill('SIGTERM');
  await expectExit(started, 0);
});

standalone.run();
