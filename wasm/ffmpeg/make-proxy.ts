// Browser only: runs ffmpeg.wasm (single-thread core, in its own Worker) to make a playable MP4
// of a file. The core's script and wasm are files of the app itself (Vite `?url`), precached by
// the service worker, so this works offline and loads nothing from any other host.
import { FFmpeg, FFFSType } from '@ffmpeg/ffmpeg';
import coreURL from '@ffmpeg/core?url';
import wasmURL from '@ffmpeg/core/wasm?url';
import { parseProbeLog, planProxy, progressOf, type ProxyPlan } from './proxy-plan.ts';

export interface MadeProxy {
  blob: Blob;
  method: ProxyPlan['method'];
}

export class ProxyFailed extends Error {
  override readonly name = 'ProxyFailed';
}

const INPUT_DIR = '/input';
const OUTPUT = '/proxy.mp4';

/**
 * Makes an H.264/AAC MP4 from `file` (read in place through WORKERFS, never copied into the
 * engine's memory). `onProgress` hears fractions from 0 to 1. Aborting `signal` ends the worker
 * at once and rejects with the signal's reason.
 */
export async function makeProxy(
  file: Blob,
  options: { extension?: string; signal?: AbortSignal; onProgress?: (fraction: number) => void },
): Promise<MadeProxy> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const ffmpeg = new FFmpeg();
  // terminate() is the only way to stop a running exec in the single-thread core.
  const stop = () => ffmpeg.terminate();
  signal?.addEventListener('abort', stop, { once: true });
  const log: string[] = [];
  let duration: number | undefined;
  ffmpeg.on('log', ({ message }) => {
    log.push(message);
    const fraction = progressOf(message, duration);
    if (fraction !== undefined) onProgress?.(fraction);
  });
  try {
    await ffmpeg.load({ coreURL, wasmURL });
    // ffmpeg picks demuxers partly by extension (raw .h264, .dav): keep the original's.
    const ext = (options.extension ?? '')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 8);
    const input = new File([file], `original${ext ? `.${ext}` : ''}`);
    await ffmpeg.createDir(INPUT_DIR);
    await ffmpeg.mount(FFFSType.WORKERFS, { files: [input] }, INPUT_DIR);
    const path = `${INPUT_DIR}/${input.name}`;
    // With no output, ffmpeg only describes the input (and exits 1, which is expected).
    await ffmpeg.exec(['-hide_banner', '-i', path]);
    const streams = parseProbeLog(log);
    duration = streams.duration;
    const plan = planProxy(streams, path, OUTPUT);
    log.length = 0;
    const code = await ffmpeg.exec(['-hide_banner', ...plan.args]);
    if (code !== 0) {
      throw new ProxyFailed(`ffmpeg could not convert this file: ${log.slice(-3).join(' ')}`);
    }
    const data = await ffmpeg.readFile(OUTPUT);
    if (typeof data === 'string' || data.byteLength === 0) {
      throw new ProxyFailed('ffmpeg wrote no playable copy.');
    }
    onProgress?.(1);
    return {
      blob: new Blob([data as Uint8Array<ArrayBuffer>], { type: 'video/mp4' }),
      method: plan.method,
    };
  } catch (err) {
    signal?.throwIfAborted();
    throw err;
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!signal?.aborted) ffmpeg.terminate();
  }
}
