// The video the redaction pipeline reads: the original when WebCodecs can decode it, else an
// H.264 copy made in the browser with ffmpeg.wasm (MPEG-4 Part 2 AVIs from DVRs, MJPEG, …). The
// copy is made once per file and shared by analysis and rendering; boxes are fractions of the
// frame, so they apply to the original just the same. Unlike the WebCodecs path, ffmpeg.wasm holds
// its output in memory, so this fallback suits files of a few hundred megabytes, not gigabytes.
import { makeProxy } from '../ffmpeg/make-proxy.ts';
import { openInput } from './input.ts';

const copies = new WeakMap<Blob, Promise<Blob>>();
/** Copies of files read by address (the studio reads originals from the server), the last two. */
const copiesByUrl = new Map<string, Promise<Blob>>();

/** Whether mediabunny can read the file and WebCodecs decode its video. */
export async function canDecodeVideo(source: Blob | string): Promise<boolean> {
  const input = openInput(source);
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
  if (typeof source === 'string') {
    let copy = copiesByUrl.get(source);
    if (!copy) {
      copy = fetch(source, { signal: options.signal })
        .then((response) => {
          if (!response.ok) throw new Error(`reading the video failed (${response.status})`);
          return response.blob();
        })
        .then((blob) => decodableSource(blob, options) as Promise<Blob>);
      copiesByUrl.set(source, copy);
      copy.catch(() => copiesByUrl.delete(source));
      while (copiesByUrl.size > 2) copiesByUrl.delete(copiesByUrl.keys().next().value!);
    }
    return copy;
  }
  const blob = source;
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
