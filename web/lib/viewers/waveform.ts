// Browser-safe: the loudness outline of a decoded recording, for drawing its waveform.

/** Peak absolute sample per bucket, `buckets` of them, across every channel. */
export function peaks(channels: readonly Float32Array[], buckets: number): Float32Array {
  const out = new Float32Array(buckets);
  const length = channels[0]?.length ?? 0;
  if (length === 0 || buckets <= 0) return out;
  const per = length / buckets;
  for (const data of channels) {
    for (let b = 0; b < buckets; b++) {
      const from = Math.floor(b * per);
      const to = Math.max(from + 1, Math.floor((b + 1) * per));
      let peak = out[b]!;
      for (let i = from; i < to && i < length; i++) {
        const v = Math.abs(data[i]!);
        if (v > peak) peak = v;
      }
      out[b] = peak;
    }
  }
  return out;
}

/** Decoding needs the whole file in memory, several times over: only for modest files. */
export const WAVEFORM_MAX_BYTES = 50 * 1024 * 1024;
