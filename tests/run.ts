// `npm test`: provisions what the tests need, builds the PWA, runs the uvu tests (unit and
// integration, MinIO included) and the Playwright end-to-end tests in Chromium, and ends with one
// line "N passed, N failed, N skipped".
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MissingTool, provision } from './provision.ts';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const UVU_TARGETS = ['sync-server', 'blob-server', 'web/lib', 'wasm', 'tests/integration'];
const STEP_TIMEOUT_MS = 30 * 60 * 1000;

function step(
  title: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  console.log(`\n── ${title}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer, to: NodeJS.WriteStream) => {
      output += chunk.toString();
      to.write(chunk);
    };
    child.stdout.on('data', (c: Buffer) => take(c, process.stdout));
    child.stderr.on('data', (c: Buffer) => take(c, process.stderr));
    const timer = setTimeout(() => {
      console.error(
        `${title}: still running after ${STEP_TIMEOUT_MS / 60000} minutes; stopping it`,
      );
      child.kill('SIGKILL');
    }, STEP_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

/** uvu prints "Total: N / Passed: N / Skipped: N"; a crash before that counts as one failure. */
function uvuCounts(output: string, code: number): Counts {
  // eslint-disable-next-line no-control-regex -- strips terminal colour codes
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const total = /Total:\s+(\d+)/.exec(plain);
  const passed = /Passed:\s+(\d+)/.exec(plain);
  const skipped = /Skipped:\s+(\d+)/.exec(plain);
  if (!total || !passed) return { passed: 0, failed: 1, skipped: 0 };
  const t = Number(total[1]);
  const p = Number(passed[1]);
  const s = Number(skipped?.[1] ?? 0);
  const failed = Math.max(t - p - s, code === 0 ? 0 : 1);
  return { passed: p, failed, skipped: s };
}

async function playwrightCounts(reportFile: string): Promise<Counts> {
  try {
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as {
      stats: { expected: number; unexpected: number; skipped: number; flaky: number };
      errors?: unknown[];
    };
    const { expected, unexpected, skipped, flaky } = report.stats;
    const setupErrors = report.errors?.length ?? 0;
    return { passed: expected + flaky, failed: unexpected + setupErrors, skipped };
  } catch {
    return { passed: 0, failed: 1, skipped: 0 };
  }
}

async function main(): Promise<number> {
  console.log('── Provisioning test tools');
  let tools;
  try {
    tools = provision();
  } catch (err) {
    if (err instanceof MissingTool) {
      console.error(`npm test cannot run: ${err.message}`);
      console.log('0 passed, 1 failed');
      return 1;
    }
    throw err;
  }
  console.log(`chromium: ${tools.chromium}\nminio: ${tools.minio}\nffmpeg: ${tools.ffmpeg}`);
  const env = {
    ...process.env,
    CHROMIUM_PATH: tools.chromium,
    MINIO_BIN: tools.minio,
    FFMPEG_PATH: tools.ffmpeg,
    FORCE_COLOR: '0',
  };

  const build = await step('Building the PWA', 'npm', ['run', 'build'], env);
  if (build.code !== 0) {
    console.log('0 passed, 1 failed');
    return 1;
  }

  const totals: Counts = { passed: 0, failed: 0, skipped: 0 };
  const add = (c: Counts) => {
    totals.passed += c.passed;
    totals.failed += c.failed;
    totals.skipped += c.skipped;
  };

  // Formatting, lint and types count as one test: a regression there fails the run like any other.
  const check = await step(
    'Static checks (prettier, eslint, svelte-check, tsc)',
    'npm',
    ['run', 'check'],
    env,
  );
  add(
    check.code === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 },
  );

  const uvu = await step(
    'Unit and integration tests (uvu)',
    process.execPath,
    ['--import', 'tsx', 'tests/helpers/run-uvu.ts', ...UVU_TARGETS],
    env,
  );
  add(uvuCounts(uvu.output, uvu.code));

  const reportDir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-'));
  const reportFile = join(reportDir, 'report.json');
  const e2e = await step(
    'End-to-end tests (Playwright, Chromium)',
    process.execPath,
    ['node_modules/@playwright/test/cli.js', 'test', '-c', 'tests/e2e/playwright.config.ts'],
    { ...env, PLAYWRIGHT_JSON_OUTPUT_NAME: reportFile },
  );
  const e2eCounts = await playwrightCounts(reportFile);
  if (e2e.code !== 0 && e2eCounts.failed === 0) e2eCounts.failed = 1;
  add(e2eCounts);

  console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  return totals.failed > 0 ? 1 : 0;
}

process.exitCode = await main();
