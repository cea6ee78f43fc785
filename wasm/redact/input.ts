// Browser-safe: opens a video for mediabunny, whether it is a file in hand or an address read by
// range requests (the studio reads originals from the server, the command line from its server).
import { ALL_FORMATS, BlobSource, Input, UrlSource } from 'mediabunny';

export function openInput(source: Blob | string): Input {
  return new Input({
    source: typeof source === 'string' ? new UrlSource(source) : new BlobSource(source),
    formats: ALL_FORMATS,
  });
}
