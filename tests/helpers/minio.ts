import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, mkdtemp, mkdir, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net.ts';
import { Client } from 'minio';

/**
 * Starts a real MinIO server for tests: never a mock, because the S3 backend's worth lies in how
 * it behaves against the real thing (multipart, ranges, error codes, connection loss).
 */
export interface MinioServer {
  /** Full URL, e.g. http://127.0.0.1:38123 */
  endPoint: string;
  accessKey: string;
  secretKey: string;
  /** Stops the server for good and removes its data. */
  stop(): Promise<void>;
  /** Stops the process but keeps its data and address, to simulate an outage. */
  stopProcess(): Promise<void>;
  /** Starts the process again on the same address and data directory. */
  restart(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;
const KILL_GRACE_MS = 5_000;
const OUTPUT_LIMIT = 16_000;
const PORT_ATTEMPTS = 3;

/** Every server still running; killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

export async function startMinio(): Promise<MinioServer> {
  const binary = await findMinioBinary();
  const baseDir = await mkdtemp(join(tmpdir(), 'exhibit-minio-'));
  const dataDir = join(baseDir, 'data');
  const certsDir = join(baseDir, 'certs');
  await mkdir(dataDir);
  await mkdir(certsDir);
  const accessKey = `exhibit-${randomBytes(6).toString('hex')}`;
  const secretKey = randomBytes(18).toString('base64url');
  const launch = (port: number, consolePort: number): Promise<RunningProcess> =>
    launchMinio({ binary, dataDir, certsDir, accessKey, secretKey, port, consolePort });

  let proc: RunningProcess | undefined;
  try {
    proc = await launchOnFreePorts(launch);
  } catch (err) {
    await rm(baseDir, { recursive: true, force: true });
    throw err;
  }
  const { port, consolePort } = proc;
  let current: RunningProcess | undefined = proc;

  return {
    endPoint: `http://127.0.0.1:${port}`,
    accessKey,
    secretKey,
    async stopProcess() {
      await current?.kill();
      current = undefined;
    },
    async restart() {
      await current?.kill();
      current = await launch(port, consolePort);
    },
    async stop() {
      await current?.kill();
      current = undefined;
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}

/** MINIO_BIN, then PATH, then `go env GOPATH`/bin, then ~/go/bin. */
export async function findMinioBinary(): Promise<string> {
  const fromEnv = process.env['MINIO_BIN'];
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return fromEnv;
    throw new Error(`MINIO_BIN is set to ${fromEnv}, but that is not an executable file`);
  }
  const candidates = [
    ...(process.env['PATH'] ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'minio')),
    ...(await goPathBin()),
    join(homedir(), 'go', 'bin', 'minio'),
  ];
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return candidate;
  }
  throw new Error(
    'MinIO server binary not found. Set MINIO_BIN, put `minio` on PATH, or run ' +
      '`go install github.com/minio/minio@latest`. Looked in: ' +
      candidates.join(', '),
  );
}

async function goPathBin(): Promise<string[]> {
  try {
    const { stdout } = await promisify(execFile)('go', ['env', 'GOPATH'], { timeout: 10_000 });
    return stdout
      .trim()
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'bin', 'minio'));
  } catch {
    return []; // no Go toolchain: the other places may still have it
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

interface RunningProcess {
  port: number;
  consolePort: number;
  kill(): Promise<void>;
}

/**
 * A port found free can be taken by someone else before MinIO binds it; when MinIO then fails to
 * bind, try fresh ports rather than fail the suite.
 */
async function launchOnFreePorts(
  launch: (port: number, consolePort: number) => Promise<RunningProcess>,
): Promise<RunningProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    try {
      return await launch(await freePort(), await freePort());
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error) || !/already in use/i.test(err.message)) throw err;
    }
  }
  throw lastError;
}

interface LaunchOptions {
  binary: string;
  dataDir: string;
  certsDir: string;
  accessKey: string;
  secretKey: string;
  port: number;
  consolePort: number;
}

async function launchMinio(options: LaunchOptions): Promise<RunningProcess> {
  const { binary, dataDir, certsDir, port, consolePort } = options;
  const args = [
    'server',
    dataDir,
    '--address',
    `127.0.0.1:${port}`,
    '--console-address',
    `127.0.0.1:${consolePort}`,
    '--certs-dir',
    certsDir,
    '--quiet',
  ];
  const child = spawn(binary, args, {
    env: {
      ...process.env,
      MINIO_ROOT_USER: options.accessKey,
      MINIO_ROOT_PASSWORD: options.secretKey,
      MINIO_UPDATE: 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output = captureOutput(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    // A process that failed to spawn never exits; waitUntilLive reports this note instead.
    child.once('error', (err) => {
      output.note(`spawn error: ${err.message}`);
      resolve();
    });
  });
  const kill = (): Promise<void> => killProcess(child, exited);
  try {
    await waitUntilLive(`http://127.0.0.1:${port}`, child, output);
  } catch (err) {
    await kill();
    throw err;
  }
  return { port, consolePort, kill };
}

interface Output {
  (): string;
  note(line: string): void;
}

function captureOutput(child: ChildProcess): Output {
  let text = '';
  const append = (chunk: Buffer | string): void => {
    text = (text + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return Object.assign(() => text.trim() || '(no output)', {
    note: (line: string) => append(`${line}\n`),
  });
}

async function waitUntilLive(endPoint: string, child: ChildProcess, output: Output): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `MinIO exited (${child.exitCode ?? child.signalCode}) before it was live at ${endPoint}. Output:\n${output()}`,
      );
    }
    if (await isLive(endPoint)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `MinIO was not live at ${endPoint} within ${STARTUP_TIMEOUT_MS / 1000} s. Output:\n${output()}`,
  );
}

async function isLive(endPoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endPoint}/minio/health/live`, {
      signal: AbortSignal.timeout(1_000),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false; // not listening yet
  }
}

async function killProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  running.delete(child);
}

/** A minio-js client for looking behind the code under test (listing parts, direct uploads). */
export function minioClient(server: MinioServer): Client {
  const url = new URL(server.endPoint);
  return new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    region: 'us-east-1',
  });
}
