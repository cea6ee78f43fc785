import { RangeNotSatisfiable } from '../errors.ts';
import type { ByteRange } from './blob-store.ts';

/** Refuses ranges no object could satisfy, before any backend is asked. */
export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeNotSatisfiable(`Invalid byte range: start ${start} is not a whole number >= 0`);
  }
  if (end === undefined) return;
  if (!Number.isSafeInteger(end) || end < start) {
    throw new RangeNotSatisfiable(
      `Invalid byte range: end ${end} is not a whole number >= start (${start})`,
    );
  }
}

/**
 * The inclusive range actually served from an object of `size` bytes. An empty object has no
 * byte 0, yet "from the start" on it is a reasonable request (a client resuming at 0), so it is
 * served as the empty range 0..-1 instead of being refused.
 */
export function clampRange(
  range: ByteRange | undefined,
  size: number,
): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size - 1 };
  assertValidRange(range);
  if (size === 0 && range.start === 0) return { start: 0, end: -1 };
  if (range.start >= size) {
    throw new RangeNotSatisfiable(
      `Byte range starting at ${range.start} is past the end of the ${size}-byte object`,
    );
  }
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}
