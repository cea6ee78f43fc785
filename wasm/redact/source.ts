// The video the redaction pipeline reads: the original when WebCodecs can decode it, else an
// H.264 copy made in the browser with ffmpeg.wasm (MPEG-4 Part 2 AVIs from DVRs, MJPEG, …). The
// copy is made once per file and shared by analysis and rendering; boxes are fractions of the
// frame, so they apply to the original just the same. Unlike the WebCodecs path, ffmpeg.wasm holds
// its output in memory, so this fallback suits files of a few hundred megabytes, not gigabytes.
import { ALL_FORMATS, BlobSource, Input, UrlSource } from 'mediabunny';
import { makeProxy } from '../ffmpeg/make-proxy.ts';

const copies = new WeakMap<Blob, Promise<Blob>>();

/** Whether mediabunny can read the file and WebCodecs decode its video. */
export async function canDecodeVideo(source: Blob | string): Promise<boolean> {
  const input = new Input({
    source: typeof source === 'string' ? new UrlSource(source) : new BlobSource(source),
    formats: ALL_FORMATS,
  });
  try {
    const track = await input.getPrimaryVideoTrack();
    return track !== null && (await track.canDecode());
  } catch {
    // Not a container mediabunny reads.
    return false;
  } finally {
    input.dispose();
  }
}

/** The source itself, or a decodable copy of it (see above). */
export async function decodableSource(
  source: Blob | string,
  options: { name?: string; signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
): Promise<Blob | string> {
  if (await canDecodeVideo(source)) return source;
  const blob =
    typeof source === 'string'
      ? await (await fetch(source, { signal: options.signal })).blob()
      : source;
  let copy = copies.get(blob);
  if (!copy) {
    const extension = options.name?.split('.').pop();
    copy = makeProxy(blob, {
      extension,
      signal: options.signal,
      onProgress: options.onProgress,
    }).then((made) => made.blob);
    copies.set(blob, copy);
    copy.catch(() => copies.delete(blob));
  }
  return copy;
}
