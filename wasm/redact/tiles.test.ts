import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_DETECTOR } from './detector-protocol.ts';
import { MODEL_INPUT, scanTiles, tilesForFrame, type Tile } from './tiles.ts';

/** Where BlazeFace short range finds faces, in pixels of its 128-pixel input. */
const SMALLEST_SEEN = 14;
const LARGEST_SEEN = 90;

/** A tile that holds the face whole and shows it at a size the detector finds. */
function seenBy(tiles: readonly Tile[], x: number, y: number, size: number): Tile | undefined {
  return tiles.find((tile) => {
    const shown = (size * MODEL_INPUT) / Math.max(tile.w, tile.h);
    return (
      x >= tile.x &&
      y >= tile.y &&
      x + size <= tile.x + tile.w &&
      y + size <= tile.y + tile.h &&
      shown >= SMALLEST_SEEN &&
      shown <= LARGEST_SEEN
    );
  });
}

/** Positions along one axis: a grid of steps, plus the far edge. */
function positions(extent: number, size: number, step: number): number[] {
  const list: number[] = [];
  for (let at = 0; at <= extent - size; at += step) list.push(at);
  if (list.at(-1) !== extent - size) list.push(extent - size);
  return list;
}

/**
 * Face sizes from 24 pixels to the frame's short side (every pixel while small, then coarser). In a
 * frame not much wider than high, the largest faces cannot appear small enough in any tile: the
 * detector sees the whole frame at best, so they stop at what it finds there.
 */
function faceSizes(width: number, height: number, smallest = 24): number[] {
  const largest = Math.min(
    Math.min(width, height),
    Math.floor((Math.max(width, height) * LARGEST_SEEN) / MODEL_INPUT),
  );
  const sizes: number[] = [];
  for (let size = smallest; size < largest; size += size < 120 ? 1 : 7) sizes.push(size);
  sizes.push(largest);
  return sizes;
}

const scanning = suite('scanTiles');

for (const [width, height, minFace] of [
  [1280, 720, 24],
  [1920, 1080, 24],
  [640, 360, 24],
  [720, 1280, 24],
  [1080, 1080, 24],
  [300, 300, 24],
  [100, 60, 24],
  [1280, 720, 16],
  [1920, 1080, 40],
  [2560, 1080, 24],
] as const) {
  scanning(
    `lets the detector see every face from ${minFace} px up whole in a ${width}×${height} frame`,
    () => {
      const tiles = scanTiles(width, height, minFace);
      const missed: string[] = [];
      for (const size of faceSizes(width, height, minFace)) {
        const step = Math.max(5, Math.round(size / 5)) + 2;
        for (const y of positions(height, size, step)) {
          for (const x of positions(width, size, step)) {
            if (!seenBy(tiles, x, y, size)) missed.push(`${size} px at ${x},${y}`);
          }
        }
      }
      assert.equal(missed.slice(0, 5), [], `${missed.length} faces missed`);
    },
  );
}

scanning('keeps every tile inside the frame', () => {
  for (const [width, height] of [
    [1280, 720],
    [1920, 1080],
    [640, 360],
    [720, 1280],
    [300, 300],
    [100, 60],
  ] as const) {
    for (const tile of scanTiles(width, height, 24)) {
      assert.ok(
        tile.x >= 0 && tile.y >= 0 && tile.x + tile.w <= width && tile.y + tile.h <= height,
        `${JSON.stringify(tile)} in ${width}×${height}`,
      );
    }
  }
});

scanning('covers a square frame smaller than the smallest tile with the whole frame', () => {
  assert.equal(scanTiles(100, 100, 24), [{ x: 0, y: 0, w: 100, h: 100 }]);
});

scanning('looks at the smallest faces first and the whole frame last', () => {
  const tiles = scanTiles(1280, 720, 24);
  for (let i = 1; i < tiles.length; i++) {
    assert.ok(tiles[i]!.w >= tiles[i - 1]!.w, `tile ${i} is not smaller than the one before`);
  }
  assert.equal(tiles.at(-1), { x: 0, y: 0, w: 1280, h: 720 });
});

scanning.run();

const scheduling = suite('tilesForFrame');
const schedule = { step: 4, scanEvery: 60 };
const tiles = scanTiles(1280, 720, 24);

scheduling('scans every tile on the first frame', () => {
  assert.equal(tilesForFrame(tiles, 0, schedule), tiles);
});

scheduling('scans nothing on frames between detections', () => {
  for (const index of [1, 2, 3, 5, 63, 121])
    assert.equal(tilesForFrame(tiles, index, schedule), []);
});

scheduling('scans each tile exactly once in every period of scanEvery frames', () => {
  for (const from of [4, 60, 64, 600, 1000]) {
    const seen = new Map<Tile, number>();
    for (let index = from; index < from + schedule.scanEvery; index++) {
      for (const tile of tilesForFrame(tiles, index, schedule)) {
        seen.set(tile, (seen.get(tile) ?? 0) + 1);
      }
    }
    assert.is(seen.size, tiles.length, `every tile from frame ${from}`);
    assert.ok(
      [...seen.values()].every((count) => count === 1),
      `once each from frame ${from}`,
    );
  }
});

scheduling('scans each tile at least once in any scanEvery frames, whatever the step', () => {
  for (const every of [DEFAULT_DETECTOR, { step: 4, scanEvery: 90 }, { step: 7, scanEvery: 30 }]) {
    for (const from of [1, 33, 500]) {
      const seen = new Set<Tile>();
      for (let index = from; index < from + every.scanEvery; index++) {
        for (const tile of tilesForFrame(tiles, index, every)) seen.add(tile);
      }
      assert.is(seen.size, tiles.length, `step ${every.step}, scanEvery ${every.scanEvery}`);
    }
  }
});

scheduling('spreads the scan evenly over the detection frames', () => {
  const counts = [];
  for (let index = 4; index <= schedule.scanEvery; index += schedule.step) {
    counts.push(tilesForFrame(tiles, index, schedule).length);
  }
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `tiles per frame: ${counts.join(' ')}`);
});

scheduling('scans everything on every detection frame when scanEvery is within one step', () => {
  assert.equal(tilesForFrame(tiles, 8, { step: 4, scanEvery: 4 }), tiles);
  assert.equal(tilesForFrame(tiles, 8, { step: 4, scanEvery: 2 }), tiles);
});

scheduling.run();
