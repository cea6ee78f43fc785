// Browser-safe: no Node built-ins. The media modules import this file dynamically, so that
// mediabunny's demuxers and decoders load only when a file needs them, and import from
// mediabunny statically here, so that the bundle keeps only what is used.
import {
  ALL_FORMATS,
  BlobSource,
  CanvasSink,
  HLS,
  Input,
  IsobmffInputFormat,
  MatroskaInputFormat,
} from 'mediabunny';

export { CanvasSink, IsobmffInputFormat, MatroskaInputFormat };

/**
 * Runs `use` on a mediabunny Input reading `file` through Blob.slice, and frees it afterwards.
 * Aborting `signal` disposes the input, which cancels its reads in flight.
 */
export async function withMediaInput<T>(
  file: Blob,
  signal: AbortSignal | undefined,
  use: (input: Input) => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted();
  const input = new Input({
    // A failed read ahead of need resurfaces in the read that needed it, so it is dropped
    // here instead of becoming an unhandled rejection.
    source: new BlobSource(file, { handleUnhandledError: () => {} }),
    // Every container mediabunny reads but HLS: a playlist names other files, which one
    // uploaded file cannot supply.
    formats: ALL_FORMATS.filter((format) => format !== HLS),
  });
  const stop = () => input.dispose();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    return await use(input);
  } finally {
    signal?.removeEventListener('abort', stop);
    input.dispose();
  }
}
