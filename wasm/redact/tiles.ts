// Browser-safe: which parts of a frame the face detector looks at, and when.
//
// BlazeFace short range sees 128×128 pixels and finds faces from about 14 to 90 pixels across in
// that input (measured on the fixture face at 8 positions per size: 14 px 8/8 with scores
// 0.19-0.58, 12 px 5/8, 16-96 px 8/8 at 0.57-0.97); tiles are scaled so the smallest face wanted
// appears at 16 px. A face of 24 pixels in a 720p frame is
// invisible to it on the whole frame (shrunk to 128 wide, 2.4 pixels), so the frame is covered by
// square tiles at three scales, each scale responsible for a band of face sizes. Neighbouring tiles
// overlap by the band's largest face, so every face lies whole inside at least one tile.
//
// A full scan of a 720p frame is 64 detector calls (about 300 ms here), of 1080p 154. It is spread
// over `scanEvery` frames (a few tiles on each detection frame), after a full scan of the first
// frame; faces already found are re-detected every `step` frames on crops around them instead
// (detectAround in detector-worker.ts), four to a call.

/** A region of the source frame, in source pixels, read into the detector's 128×128 input. */
export interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Smallest face (in model input pixels) the detector reliably finds. */
export const MODEL_MIN_FACE = 16;
export const MODEL_INPUT = 128;

/** Tile origins along one axis: evenly spread, the last ending at the edge. */
function starts(extent: number, size: number, stride: number): number[] {
  if (size >= extent) return [0];
  const count = Math.ceil((extent - size) / stride) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((i * (extent - size)) / (count - 1)));
}

/**
 * Every tile for a width × height frame, smallest faces first: square tiles band by band (each
 * band spans faces from its smallest to twice or 2.8 times that, neighbours overlapping by the
 * largest face so each face lies whole inside one tile), until a tile would be as large as the
 * frame's shorter side; then squares of that side across the frame; then the whole frame.
 */
export function scanTiles(width: number, height: number, minFace: number): Tile[] {
  const short = Math.min(width, height);
  const tiles: Tile[] = [];
  let low = minFace;
  for (;;) {
    // Rounded down, so the band's smallest face is never shown under MODEL_MIN_FACE pixels.
    const size = Math.floor((MODEL_INPUT * low) / MODEL_MIN_FACE);
    if (size >= short) break;
    const high = low * (low === minFace ? 2 : 2.8);
    const stride = size - Math.min(Math.ceil(high * 1.1), size - 1);
    for (const y of starts(height, size, stride)) {
      for (const x of starts(width, size, stride)) tiles.push({ x, y, w: size, h: size });
    }
    low = high;
  }
  // Squares of the shorter side catch faces from about short·14/128 to short·90/128.
  if (width !== height) {
    const stride = Math.max(1, Math.floor(short / 2));
    for (const y of starts(height, short, stride)) {
      for (const x of starts(width, short, stride)) tiles.push({ x, y, w: short, h: short });
    }
  }
  // The whole frame, letterboxed: faces larger than the squares handle (in a square frame, larger
  // than the last band's tiles handle).
  tiles.push({ x: 0, y: 0, w: width, h: height });
  return tiles;
}

export interface Schedule {
  /** Detect on every `step`-th frame. */
  step: number;
  /** A full scan is spread over this many frames. */
  scanEvery: number;
}

/**
 * The scan tiles to run on frame `index` (a detection frame): all of them on the first, then an
 * equal share on each detection frame so the whole frame is scanned every `scanEvery` frames.
 */
export function tilesForFrame(tiles: readonly Tile[], index: number, schedule: Schedule): Tile[] {
  if (index === 0) return [...tiles];
  if (index % schedule.step !== 0) return [];
  const rounds = Math.max(1, Math.floor(schedule.scanEvery / schedule.step));
  const round = (index / schedule.step) % rounds;
  return tiles.filter((_, i) => i % rounds === round);
}
