// Browser only: decodes with createImageBitmap, with WebCodecs through mediabunny, or with a
// <video> element, and encodes the JPEG with a canvas.
import { attempt, untilAborted } from './abortable.ts';
import { readMediaMetadata } from './metadata.ts';

/** A broken or exotic file can leave a decoder waiting forever; an upload must not. */
const TIMEOUT_MS = 10_000;
const JPEG_QUALITY = 0.8;

type Canvas = OffscreenCanvas | HTMLCanvasElement;

/**
 * A JPEG no larger than maxSize px on its longer side (default 320), or undefined when the file
 * is not a picture or video the browser can decode. Gives up (undefined) after 10 s; rejects
 * only with the signal's reason once `signal` is aborted.
 */
export async function makeThumbnail(
  file: Blob,
  options: { maxSize?: number; signal?: AbortSignal } = {},
): Promise<Blob | undefined> {
  const { maxSize = 320, signal } = options;
  signal?.throwIfAborted();
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
  // A timeout is not the caller's abort: it ends in undefined, like any other failure.
  const work = async () => {
    const meta = await readMediaMetadata(file, { signal: stop });
    const soundOnly = meta.durationSeconds !== undefined && !(meta.width && meta.height);
    if (soundOnly) return undefined;
    const frame =
      meta.durationSeconds === undefined
        ? await picture(file, meta, maxSize, stop)
        : await posterFrame(file, maxSize, stop);
    // The browser may still play what mediabunny cannot read or decode, and a file with no
    // size known may be a video in a container only the browser knows.
    const canvas = frame ?? (await videoElementFrame(file, maxSize, stop));
    return canvas && (await toJpeg(canvas));
  };
  return attempt(() => untilAborted(work(), stop), signal);
}

/** The largest size within maxSize × maxSize with the same shape, never enlarged. */
function fit(width: number, height: number, maxSize: number): { width: number; height: number } {
  const scale = Math.min(1, maxSize / Math.max(width, height));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

async function picture(
  file: Blob,
  meta: { width?: number; height?: number },
  maxSize: number,
  signal: AbortSignal,
): Promise<Canvas | undefined> {
  // Decoding straight to the small size spares the memory of a full-size bitmap of a large
  // photo. The metadata gives the size as shown, after EXIF orientation, as the bitmap has it.
  const size = meta.width && meta.height ? fit(meta.width, meta.height, maxSize) : undefined;
  const bitmap = await attempt(
    () =>
      untilAborted(
        createImageBitmap(file, {
          imageOrientation: 'from-image',
          ...(size && {
            resizeWidth: size.width,
            resizeHeight: size.height,
            resizeQuality: 'medium',
          }),
        }),
        signal,
      ),
    signal,
  );
  if (!bitmap) return undefined;
  try {
    const { width, height } = size ?? fit(bitmap.width, bitmap.height, maxSize);
    return drawn(bitmap, width, height);
  } finally {
    bitmap.close();
  }
}

/** A frame about a tenth of the way in (at most 5 s): the first is often black. */
function posterTime(start: number, duration: number): number {
  return start + Math.min(Math.max(duration, 0) * 0.1, 5);
}

async function posterFrame(
  file: Blob,
  maxSize: number,
  signal: AbortSignal,
): Promise<Canvas | undefined> {
  if (typeof VideoDecoder === 'undefined') return undefined;
  return attempt(async () => {
    const media = await import('./media-input.ts');
    return media.withMediaInput(file, signal, async (input) => {
      const track = await input.getPrimaryVideoTrack();
      if (!track || !(await track.canDecode())) return undefined;
      const start = await track.getFirstTimestamp();
      const end = (await input.getDurationFromMetadata([track])) ?? (await track.computeDuration());
      const size = fit(await track.getDisplayWidth(), await track.getDisplayHeight(), maxSize);
      // The sink seeks through the container's index and decodes from the keyframe before
      // the time asked for, so it reads a few frames, not the file.
      const sink = new media.CanvasSink(track, { ...size, fit: 'fill' });
      const frame =
        (await sink.getCanvas(posterTime(start, end - start))) ?? (await sink.getCanvas(start));
      return frame?.canvas;
    });
  }, signal);
}

async function videoElementFrame(
  file: Blob,
  maxSize: number,
  signal: AbortSignal,
): Promise<Canvas | undefined> {
  if (typeof document === 'undefined') return undefined;
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.preload = 'auto';
  try {
    return await attempt(async () => {
      video.src = url;
      await mediaEvent(video, 'loadeddata', signal);
      if (!video.videoWidth || !video.videoHeight) return undefined;
      const duration = Number.isFinite(video.duration) ? video.duration : 0;
      video.currentTime = posterTime(0, duration);
      await mediaEvent(video, 'seeked', signal);
      const { width, height } = fit(video.videoWidth, video.videoHeight, maxSize);
      return drawn(video, width, height);
    }, signal);
  } finally {
    video.removeAttribute('src');
    video.load(); // lets the element drop its decoder now rather than at garbage collection
    URL.revokeObjectURL(url);
  }
}

/** Resolves at `name`, rejects at an error or an abort. */
function mediaEvent(video: HTMLVideoElement, name: string, signal: AbortSignal): Promise<void> {
  return untilAborted(
    new Promise<void>((resolve, reject) => {
      video.addEventListener(name, () => resolve(), { once: true });
      video.addEventListener('error', () => reject(video.error ?? new Error('cannot play')), {
        once: true,
      });
    }),
    signal,
  );
}

function drawn(source: CanvasImageSource, width: number, height: number): Canvas {
  const canvas = newCanvas(width, height);
  const context = canvas.getContext('2d') as
    OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (!context) throw new Error('no 2D canvas');
  // JPEG has no transparency: see-through parts of a PNG would turn black, so they go white.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.imageSmoothingQuality = 'medium';
  context.drawImage(source, 0, 0, width, height);
  return canvas;
}

function newCanvas(width: number, height: number): Canvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function toJpeg(canvas: Canvas): Promise<Blob> {
  if ('convertToBlob' in canvas) {
    return canvas.convertToBlob({ type: 'image/jpeg', quality: JPEG_QUALITY });
  }
  return new Promise((resolve, reject) => {
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('the canvas could not be encoded'))),
      'image/jpeg',
      JPEG_QUALITY,
    );
  });
}
