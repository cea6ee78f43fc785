import { createSHA256 } from 'hash-wasm';

/**
 * SHA-256 of a file, read in slices so that a file of any size is never held in memory whole.
 * `onProgress` gets the number of bytes hashed so far.
 */
export async function sha256OfFile(
  file: Blob,
  onProgress?: (hashed: number) => void,
  signal?: AbortSignal,
): Promise<string> {
  const hasher = await createSHA256();
  hasher.init();
  const reader = file.stream().getReader();
  let hashed = 0;
  for (;;) {
    signal?.throwIfAborted();
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
    hashed += value.byteLength;
    onProgress?.(hashed);
  }
  return hasher.digest('hex');
}
