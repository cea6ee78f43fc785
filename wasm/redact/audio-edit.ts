// Browser-safe: audio redaction on decoded samples — ranges muted or replaced by a tone.
import type { AudioRange } from './recipe.ts';

/** The tone that replaces speech: 1 kHz, the broadcast "bleep", at a quarter of full scale. */
export const TONE_HZ = 1000;
export const TONE_LEVEL = 0.25;

/** Whether any range overlaps the samples from `start` lasting `duration` seconds. */
export function touchesRanges(
  ranges: readonly AudioRange[],
  start: number,
  duration: number,
): boolean {
  return ranges.some((range) => range.start < start + duration && range.end > start);
}

/**
 * Mutes or tones the parts of `planes` (one Float32Array per channel, the first sample at `start`
 * seconds) that fall inside the ranges. The tone's phase comes from the absolute time, so a render
 * is the same however the audio is split into chunks.
 */
export function applyAudioRanges(
  planes: Float32Array[],
  sampleRate: number,
  start: number,
  ranges: readonly AudioRange[],
): void {
  const length = planes[0]?.length ?? 0;
  // The first sample at or after `time`. Rounding error in `time - start` (0.9000000000000004
  // for 3.9 - 3) would otherwise move a boundary by a sample, differently in differently split
  // chunks; a millionth of a sample is far above that error and far below a sample.
  const firstAt = (time: number) => Math.ceil((time - start) * sampleRate - 1e-6);
  for (const range of ranges) {
    const from = Math.max(0, firstAt(range.start));
    const to = Math.min(length, firstAt(range.end));
    if (to <= from) continue;
    for (const plane of planes) {
      for (let i = from; i < to; i++) {
        plane[i] =
          range.mode === 'tone'
            ? TONE_LEVEL * Math.sin((2 * Math.PI * TONE_HZ * (start * sampleRate + i)) / sampleRate)
            : 0;
      }
    }
  }
}
