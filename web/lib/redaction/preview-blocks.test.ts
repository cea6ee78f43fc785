import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { MaskGeometry } from '../../../wasm/redact/geometry.ts';
import { paintMasks } from '../../../wasm/redact/raster.ts';
import {
  blockGrid,
  blockPieces,
  blurPieces,
  type BlockGrid,
  type Piece,
} from './preview-blocks.ts';

const W = 160;
const H = 90;

/** An RGBA frame redder to the right and greener downwards, so each block's mean differs from its neighbours'. */
function frame() {
  const data = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const at = (y * W + x) * 4;
      data[at] = x;
      data[at + 1] = y * 2;
      data[at + 2] = 128;
      data[at + 3] = 255;
    }
  }
  return {
    format: 'RGBA' as const,
    width: W,
    height: H,
    data,
    layout: [{ offset: 0, stride: W * 4 }],
  };
}

/** Where runs of one value start along a row (or column) of painted pixels. */
function starts(values: number[]): number[] {
  return values.flatMap((v, i) => (i === 0 || v !== values[i - 1] ? [i] : []));
}

/** The video pixel columns (or rows) each cell of the grid covers, from the pieces. */
function extents(pieces: Piece[], axis: 'x' | 'y', cells: number): number[] {
  const size = axis === 'x' ? 'w' : 'h';
  const first = new Array<number>(cells).fill(-1);
  for (const piece of pieces) {
    const per = piece.pixels[size] / piece.cells[size];
    for (let c = 0; c < piece.cells[size]; c++) {
      first[piece.cells[axis] + c] = Math.round(piece.pixels[axis] + c * per);
    }
  }
  return first;
}

const masks = [
  ['a strip left at the far edge', { x: 0.13, y: 0.21, w: 0.41, h: 0.52 }, 40],
  ['a wide strip left over', { x: 0.25, y: 0.2, w: 0.3, h: 0.4 }, 70],
  ['a small mask at full strength', { x: 0.6, y: 0.5, w: 0.12, h: 0.15 }, 100],
  ['a mask no wider than one block', { x: 0.5, y: 0.5, w: 0.02, h: 0.03 }, 100],
] as const;

const grid = suite('blockGrid and blockPieces');

for (const [name, box, strength] of masks) {
  grid(`averages and pixelates the same blocks as the render: ${name}`, () => {
    const geometry: MaskGeometry = { shape: 'rectangle', box };
    const painted = frame();
    paintMasks(painted, [geometry], { kind: 'pixelate', strength, color: '#000000' });
    const g = blockGrid(geometry, W, H, strength)!;
    const { x, y, w, h } = g.pixels;
    const row = Array.from({ length: w }, (_, i) => painted.data[(y * W + x + i) * 4]!);
    const column = Array.from({ length: h }, (_, j) => painted.data[((y + j) * W + x) * 4 + 1]!);
    const pieces = blockPieces(g);
    assert.equal(
      extents(pieces, 'x', g.across),
      starts(row).map((i) => x + i),
      'columns of blocks',
    );
    assert.equal(
      extents(pieces, 'y', g.down),
      starts(column).map((j) => y + j),
      'rows of blocks',
    );
  });
}

grid('has no grid for a mask off the frame', () => {
  assert.is(
    blockGrid({ shape: 'rectangle', box: { x: 1.2, y: 0.1, w: 0.2, h: 0.2 } }, W, H, 50),
    undefined,
  );
});

grid.run();

const tiling = suite('blockPieces and blurPieces tile the mask');

/** Every pixel of the mask covered once, and every cell of the small picture used. */
function assertTiles(g: BlockGrid, pieces: Piece[]) {
  const covered = new Uint8Array(g.pixels.w * g.pixels.h);
  for (const { pixels } of pieces) {
    for (let j = pixels.y; j < pixels.y + pixels.h; j++) {
      for (let i = pixels.x; i < pixels.x + pixels.w; i++)
        covered[(j - g.pixels.y) * g.pixels.w + i - g.pixels.x]!++;
    }
  }
  assert.ok(
    covered.every((n) => n === 1),
    'each pixel once',
  );
  for (const { cells } of pieces) {
    assert.ok(
      cells.x >= 0 && cells.y >= 0 && cells.x + cells.w <= g.across && cells.y + cells.h <= g.down,
      'cells inside',
    );
  }
}

for (const [name, box, strength] of masks) {
  tiling(name, () => {
    const g = blockGrid({ shape: 'ellipse', box }, W, H, strength)!;
    assertTiles(g, blockPieces(g));
    assertTiles(g, blurPieces(g));
  });
}

tiling(
  'puts blur’s block centres a block apart from the corner, as the render interpolates them',
  () => {
    const g = blockGrid(
      { shape: 'rectangle', box: { x: 0.25, y: 0.2, w: 0.3, h: 0.4 } },
      W,
      H,
      70,
    )!;
    const [main] = blurPieces(g);
    assert.equal(main, {
      cells: { x: 0, y: 0, w: g.across, h: g.down },
      pixels: { x: g.pixels.x, y: g.pixels.y, w: g.across * g.block, h: g.down * g.block },
    });
  },
);

tiling.run();
