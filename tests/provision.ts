import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Finds (and where it can, installs) the outside programs the test suite runs for real:
 * Chromium for the end-to-end tests, MinIO for the S3 storage tests, ffmpeg for media fixtures.
 * Installs use the machine's own package managers; nothing is downloaded any other way.
 */
export interface Tools {
  chromium: string;
  minio: string;
  ffmpeg: string;
}

export class MissingTool extends Error {
  override readonly name = 'MissingTool';
}

function which(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = result.stdout.trim();
  return result.status === 0 && path ? path : undefined;
}

const isRoot = () => process.getuid?.() === 0;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  console.log(`provision: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  return result.status === 0;
}

let aptUpdated = false;
function aptInstall(pkg: string): boolean {
  if (!isRoot() || !which('apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) aptUpdated = run('apt-get', ['update', '-qq'], env);
  return run('apt-get', ['install', '-y', '-qq', pkg], env);
}

function findDebianTool(name: string, envVar: string, pkg: string): string {
  const configured = process.env[envVar];
  if (configured) {
    if (existsSync(configured)) return configured;
    throw new MissingTool(`${envVar}=${configured} does not exist`);
  }
  const found = which(name);
  if (found) return found;
  console.log(`provision: ${name} is missing; installing the Debian package "${pkg}"`);
  if (aptInstall(pkg)) {
    const installed = which(name);
    if (installed) return installed;
  }
  throw new MissingTool(
    `${name} is needed and could not be installed; install the Debian package "${pkg}" (apt-get install ${pkg}) or set ${envVar}`,
  );
}

function goBinDir(): string | undefined {
  if (!which('go')) return undefined;
  const gobin = spawnSync('go', ['env', 'GOBIN'], { encoding: 'utf8' }).stdout.trim();
  if (gobin) return gobin;
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout.trim();
  return gopath ? join(gopath, 'bin') : undefined;
}

function findMinio(): string {
  const configured = process.env.MINIO_BIN;
  if (configured) {
    if (existsSync(configured)) return configured;
    throw new MissingTool(`MINIO_BIN=${configured} does not exist`);
  }
  const candidates = [which('minio'), goBinDir(), join(homedir(), 'go', 'bin')]
    .filter((p): p is string => Boolean(p))
    .map((p) => (p.endsWith('minio') ? p : join(p, 'minio')));
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  if (!which('go')) {
    throw new MissingTool('MinIO is needed for the S3 tests and Go is not installed to build it');
  }
  console.log('provision: MinIO is missing; building it with go install (a few minutes, once)');
  if (run('go', ['install', 'github.com/minio/minio@latest'])) {
    const dir = goBinDir();
    if (dir && existsSync(join(dir, 'minio'))) return join(dir, 'minio');
  }
  throw new MissingTool(
    'MinIO could not be installed; run "go install github.com/minio/minio@latest" or set MINIO_BIN',
  );
}

export function provision(): Tools {
  return {
    chromium: findDebianTool('chromium', 'CHROMIUM_PATH', 'chromium'),
    ffmpeg: findDebianTool('ffmpeg', 'FFMPEG_PATH', 'ffmpeg'),
    minio: findMinio(),
  };
}
