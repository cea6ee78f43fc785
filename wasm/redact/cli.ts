// `npm run redact -- --in input.mp4 --out output.mp4 --faces auto`: the studio's pipeline from the
// command line, for batch work and measurement. It builds the headless page (wasm/redact/headless)
// with Vite, serves the input (with range requests, so a 2 GB file is read in slices) and takes the
// output back through positional writes, and drives headless Chromium through it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright';
import { build } from 'vite';
import { faceModel } from '../face-model/vite-plugin.ts';
import { DEFAULT_DETECTOR } from './detector-protocol.ts';
import type { HeadlessJob, HeadlessReport, HeadlessResult } from './headless/protocol.ts';
import {
  AUDIO_MODES,
  emptyRecipe,
  MASK_STYLES,
  type AudioMode,
  type MaskStyleKind,
  type RedactionRecipe,
} from './recipe.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

export const USAGE = `Usage: npm run redact -- --in <video> --out <file.mp4> [options]

Redacts a video with the same in-browser pipeline as the redaction studio (headless Chromium).

  --in <path>            the video to redact (any size; read in slices)
  --out <path>           where to write the redacted MP4 (H.264; audio copied unless edited)
  --faces auto|none      auto: find and mask every face (default); none: only --recipe's masks
  --recipe <file.json>   a redaction recipe (manual masks, audio ranges, style) as JSON
  --style blur|pixelate|fill   mask style (default blur)
  --strength <1-100>     how coarse blur or pixelation is (default 60)
  --padding <0-2>        extra margin around masks, as a share of their size (default 0.3)
  --mute <from-to>       mute the audio between two times in seconds (repeatable)
  --tone <from-to>       replace the audio with a 1 kHz tone between two times (repeatable)
  --remove-audio         leave the audio track out
  --analysis <file.json> write the faces found (tracks) as JSON
  --min-face <pixels>    smallest face to look for (default ${DEFAULT_DETECTOR.minFace})
  --step <frames>        detect every this many frames (default ${DEFAULT_DETECTOR.step})
  --scan-every <frames>  frames over which one full scan for new faces is spread, and how far
                         back a face found late is followed (default ${DEFAULT_DETECTOR.scanEvery})
  --quiet                no progress line
  --help                 this text

Needs Chromium: CHROMIUM_PATH, or chromium on the PATH.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliOptions {
  input: string;
  output: string;
  faces: 'auto' | 'none';
  recipe?: string;
  style: MaskStyleKind;
  strength: number;
  padding: number;
  ranges: Array<{ start: number; end: number; mode: AudioMode }>;
  removeAudio: boolean;
  analysis?: string;
  minFace: number;
  step: number;
  scanEvery: number;
  quiet: boolean;
}

function number(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
  whole = false,
): number {
  if (value === undefined) return fallback;
  // Digits only: Number() also takes "" and " " (as 0), "0x20" and "1e2".
  const parsed = (whole ? /^\d+$/ : /^\d+(?:\.\d+)?$/).test(value) ? Number(value) : NaN;
  if (!(parsed >= min && parsed <= max)) {
    const kind = whole ? 'a whole number' : 'a number';
    throw new UsageError(`--${name} must be ${kind} from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

function range(value: string, mode: AudioMode): { start: number; end: number; mode: AudioMode } {
  const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(value);
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || !(end > start)) {
    throw new UsageError(
      `--${mode} needs <from-to> in seconds with from < to, e.g. 3.5-7, got "${value}"`,
    );
  }
  return { start, end, mode };
}

export function parseCli(argv: string[]): CliOptions | 'help' {
  try {
    return parseValues(argv);
  } catch (error) {
    // node:util's own refusals (an unknown option, a missing value) name the option already.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError((error as Error).message);
    }
    throw error;
  }
}

function parseValues(argv: string[]): CliOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      faces: { type: 'string' },
      recipe: { type: 'string' },
      style: { type: 'string' },
      strength: { type: 'string' },
      padding: { type: 'string' },
      mute: { type: 'string', multiple: true },
      tone: { type: 'string', multiple: true },
      'remove-audio': { type: 'boolean' },
      analysis: { type: 'string' },
      'min-face': { type: 'string' },
      step: { type: 'string' },
      'scan-every': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  if (!values.in) throw new UsageError('--in <video> is required');
  if (!values.out) throw new UsageError('--out <file.mp4> is required');
  const faces = values.faces ?? 'auto';
  if (faces !== 'auto' && faces !== 'none')
    throw new UsageError(`--faces must be auto or none, got "${faces}"`);
  const style = values.style ?? 'blur';
  if (!(MASK_STYLES as readonly string[]).includes(style)) {
    throw new UsageError(`--style must be one of ${MASK_STYLES.join(', ')}, got "${style}"`);
  }
  const ranges = [
    ...(values.mute ?? []).map((value) => range(value, 'mute')),
    ...(values.tone ?? []).map((value) => range(value, 'tone')),
  ];
  if (resolve(values.in) === resolve(values.out))
    throw new UsageError('--out must not be the input file');
  if (values.recipe && resolve(values.recipe) === resolve(values.out)) {
    throw new UsageError('--out must not be the recipe file');
  }
  const analysis = values.analysis;
  if (analysis && [values.in, values.out].some((path) => resolve(path) === resolve(analysis))) {
    throw new UsageError('--analysis must not be the input or the output file');
  }
  void AUDIO_MODES;
  return {
    input: values.in,
    output: values.out,
    faces,
    recipe: values.recipe,
    style: style as MaskStyleKind,
    strength: number('strength', values.strength, 60, 1, 100),
    padding: number('padding', values.padding, 0.3, 0, 2),
    ranges,
    removeAudio: values['remove-audio'] ?? false,
    analysis,
    minFace: number('min-face', values['min-face'], DEFAULT_DETECTOR.minFace, 8, 4096, true),
    step: number('step', values.step, DEFAULT_DETECTOR.step, 1, 300, true),
    scanEvery: number(
      'scan-every',
      values['scan-every'],
      DEFAULT_DETECTOR.scanEvery,
      1,
      3000,
      true,
    ),
    quiet: values.quiet ?? false,
  };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Builds the headless page once per run into a cache folder. */
async function buildPage(): Promise<string> {
  const outDir = join(root, 'node_modules/.cache/exhibit-redact');
  await build({
    configFile: false,
    root: join(here, 'headless'),
    base: './',
    logLevel: 'error',
    plugins: [faceModel()],
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 20_000 },
  });
  return outDir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolvePromise(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function serveInput(
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
): Promise<void> {
  const size = (await stat(path)).size;
  const match = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
  const headers = { 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
  if (!match) {
    response.writeHead(200, { ...headers, 'content-length': size });
    createReadStream(path).pipe(response);
    return;
  }
  const start = Number(match[1]);
  const end = Math.min(size - 1, match[2] ? Number(match[2]) : size - 1);
  if (start >= size || end < start) {
    response.writeHead(416, { 'content-range': `bytes */${size}` });
    response.end();
    return;
  }
  response.writeHead(206, {
    ...headers,
    'content-length': end - start + 1,
    'content-range': `bytes ${start}-${end}/${size}`,
  });
  createReadStream(path, { start, end }).pipe(response);
}

export interface RedactRun {
  result: HeadlessResult;
}

/** Runs one redaction; resolves when the output is complete. */
export async function redact(
  options: CliOptions,
  log: (line: string) => void = () => {},
): Promise<HeadlessResult> {
  const inputStat = await stat(options.input).catch(() => null);
  if (!inputStat?.isFile()) throw new UsageError(`--in: no such file: ${options.input}`);
  let recipe: RedactionRecipe = emptyRecipe(await sha256Of(options.input));
  if (options.recipe) {
    const given = JSON.parse(await readFile(options.recipe, 'utf8')) as Partial<RedactionRecipe>;
    recipe = { ...recipe, ...given, source: recipe.source };
  }
  recipe.style = { ...recipe.style, kind: options.style, strength: options.strength };
  recipe.padding = options.padding;
  recipe.audio = {
    ranges: [
      ...recipe.audio.ranges,
      ...options.ranges.map((r, i) => ({ id: `cli${i + 1}`, ...r })),
    ],
    removeTrack: options.removeAudio || recipe.audio.removeTrack,
  };
  const job: HeadlessJob = {
    faces: options.faces,
    name: basename(options.input),
    recipe,
    detector: { minFace: options.minFace, step: options.step, scanEvery: options.scanEvery },
  };

  const pageDir = await buildPage();
  await mkdir(dirname(resolve(options.output)), { recursive: true });
  const out: FileHandle = await open(options.output, 'w');
  let settle!: { resolve: (result: HeadlessResult) => void; reject: (error: Error) => void };
  const finished = new Promise<HeadlessResult>((resolvePromise, reject) => {
    settle = { resolve: resolvePromise, reject };
  });
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const handle = async () => {
      if (url.pathname === '/job') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(job));
      } else if (url.pathname === '/input') {
        await serveInput(request, response, options.input);
      } else if (url.pathname === '/output' && request.method === 'PUT') {
        const position = Number(url.searchParams.get('position'));
        if (!Number.isSafeInteger(position) || position < 0) {
          response.writeHead(400);
          response.end('position must be a whole number of bytes');
          return;
        }
        const data = await body(request);
        await out.write(data, 0, data.byteLength, position);
        response.writeHead(204);
        response.end();
      } else if (url.pathname === '/report' && request.method === 'POST') {
        const report = JSON.parse((await body(request)).toString('utf8')) as HeadlessReport;
        response.writeHead(204);
        response.end();
        if (report.type === 'progress') {
          const { done, total, secondsLeft } = report.progress;
          const left = secondsLeft === null ? '' : `, about ${Math.ceil(secondsLeft)} s left`;
          log(
            `rendering: frame ${done} of ${total} (${Math.round((done / Math.max(1, total)) * 100)}%${left})`,
          );
        } else if (report.type === 'done') settle.resolve(report.result);
        else settle.reject(new Error(report.message));
      } else {
        const file = join(pageDir, url.pathname === '/' ? 'index.html' : url.pathname);
        if (!file.startsWith(pageDir)) throw new Error('outside the page');
        const data = await readFile(file);
        response.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        });
        response.end(data);
      }
    };
    handle().catch(() => {
      if (!response.headersSent) response.writeHead(404);
      response.end();
    });
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const port = (server.address() as AddressInfo).port;
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? 'chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  let completed = false;
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => settle.reject(error));
    page.on('console', (message) => {
      if (process.env['REDACT_DEBUG']) console.error(`page: ${message.text()}`);
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    const result = await finished;
    if (options.analysis && result.analysis) {
      await writeFile(options.analysis, JSON.stringify(result.analysis));
    }
    completed = true;
    return result;
  } finally {
    await browser.close();
    await out.close();
    server.close();
    // A half-written copy must not be mistaken for a redacted one.
    if (!completed) await rm(options.output, { force: true });
  }
}

async function main(): Promise<void> {
  let options: CliOptions | 'help';
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const quiet = options.quiet || !process.stderr.isTTY;
  const result = await redact(options, (line) => {
    if (!quiet) process.stderr.write(`\r${line.padEnd(70)}`);
  });
  if (!quiet) process.stderr.write('\n');
  const tracks = result.analysis ? `, ${result.analysis.tracks.length} face tracks` : '';
  console.log(
    `${options.output}: ${result.frames} frames (${result.maskedFrames} masked${tracks}) in ${result.seconds.toFixed(1)} s, ` +
      `${(result.frames / result.seconds).toFixed(1)} frames/s, ${(result.bytes / 1e6).toFixed(1)} MB`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof UsageError ? error.message : error);
    process.exit(1);
  });
}
