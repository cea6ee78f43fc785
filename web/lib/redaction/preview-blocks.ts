// Browser-safe: how the preview averages a mask into blocks and draws them back, matching
// raster.ts in the render: blocks of blockSize() pixels from the mask's top-left pixel, a strip
// narrower than a block at the far edge joining the block beside it; pixelate paints each block's
// mean, blur interpolates between block centres (flat beyond the last ones). So blur and pixelate
// look in the preview as they will in the redacted copy.
import type { MaskGeometry } from '../../../wasm/redact/geometry.ts';
import { blockSize } from '../../../wasm/redact/raster.ts';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface BlockGrid {
  /** The mask's pixels in the video. */
  pixels: Rect;
  /** A block's side in pixels (the last column and row may be wider). */
  block: number;
  across: number;
  down: number;
}

/** A part of the grid: `cells` of the small picture of block means stand for `pixels` of the video. */
export interface Piece {
  cells: Rect;
  pixels: Rect;
}

/** The grid of blocks over the mask in a `width` × `height` video, or undefined when it is off the frame. */
export function blockGrid(
  geometry: MaskGeometry,
  width: number,
  height: number,
  strength: number,
): BlockGrid | undefined {
  const x0 = Math.max(0, Math.floor(geometry.box.x * width));
  const y0 = Math.max(0, Math.floor(geometry.box.y * height));
  const x1 = Math.min(width, Math.ceil((geometry.box.x + geometry.box.w) * width));
  const y1 = Math.min(height, Math.ceil((geometry.box.y + geometry.box.h) * height));
  if (x1 <= x0 || y1 <= y0) return undefined;
  const block = blockSize(geometry.box.w * width, geometry.box.h * height, strength);
  return {
    pixels: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 },
    block,
    across: Math.max(1, Math.floor((x1 - x0) / block)),
    down: Math.max(1, Math.floor((y1 - y0) / block)),
  };
}

interface Span {
  cell: number;
  cells: number;
  from: number;
  length: number;
}

function pieces(
  grid: BlockGrid,
  along: (from: number, size: number, count: number) => Span[],
): Piece[] {
  const { pixels } = grid;
  const xs = along(pixels.x, pixels.w, grid.across);
  const ys = along(pixels.y, pixels.h, grid.down);
  return ys.flatMap((y) =>
    xs.map((x) => ({
      cells: { x: x.cell, y: y.cell, w: x.cells, h: y.cells },
      pixels: { x: x.from, y: y.from, w: x.length, h: y.length },
    })),
  );
}

/**
 * The blocks as pixels: every block but the last of a row or column is `block` wide, the last
 * takes the rest. For averaging the video into block means, and for pixelate's drawing back.
 */
export function blockPieces(grid: BlockGrid): Piece[] {
  const { block } = grid;
  return pieces(grid, (from, size, count) =>
    [
      { cell: 0, cells: count - 1, from, length: (count - 1) * block },
      {
        cell: count - 1,
        cells: 1,
        from: from + (count - 1) * block,
        length: size - (count - 1) * block,
      },
    ].filter((span) => span.cells > 0 && span.length > 0),
  );
}

/**
 * Where blur draws the block means back, smoothly scaled: the means' centres `block` apart from
 * the corner, as the render interpolates them, then the strip past the last centres held flat.
 */
export function blurPieces(grid: BlockGrid): Piece[] {
  const { block } = grid;
  return pieces(grid, (from, size, count) =>
    [
      { cell: 0, cells: count, from, length: count * block },
      { cell: count - 1, cells: 1, from: from + count * block, length: size - count * block },
    ].filter((span) => span.length > 0),
  );
}
