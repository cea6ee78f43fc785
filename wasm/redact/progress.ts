// Browser-safe: progress of long redaction work, with an estimate of the time left.

export interface RedactionProgress {
  /** `converting`: making a copy WebCodecs can decode, with ffmpeg.wasm (see source.ts). */
  phase: 'converting' | 'analysing' | 'rendering';
  done: number;
  total: number;
  /** Null until enough work is done to estimate. */
  secondsLeft: number | null;
}

/** Estimates time left from the rate so far (after the first 2% or 2 seconds). */
export function estimator(
  phase: RedactionProgress['phase'],
  now: () => number = () => performance.now(),
) {
  const started = now();
  return (done: number, total: number): RedactionProgress => {
    const elapsed = (now() - started) / 1000;
    const share = total > 0 ? done / total : 0;
    // Never below 0: a container's frame count is an estimate, and more frames can come.
    const secondsLeft =
      share >= 0.02 || (elapsed >= 2 && share > 0)
        ? Math.max(0, (elapsed / share) * (1 - share))
        : null;
    return { phase, done, total, secondsLeft };
  };
}

export class RedactionCancelled extends Error {
  override name = 'AbortError';
  constructor() {
    super('The redaction was cancelled.');
  }
}
