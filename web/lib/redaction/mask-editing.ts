// Browser-safe: what the manual-mask editor does to masks, apart from the DOM so it is tested.
// Geometry is in fractions of the frame and times in seconds, as in the recipe.
import { boundsOf, maskAt } from '../../../wasm/redact/geometry.ts';
import type { Box, ManualMask, MaskKeyframe, MaskShape } from '../../../wasm/redact/recipe.ts';

/**
 * What the editor changes on a mask itself (a rectangle may become an ellipse and back); where it
 * is over time changes through keyframes.
 */
export type MaskChange = Partial<Pick<ManualMask, 'label' | 'from' | 'to' | 'shape'>>;

/** A mask's outline as drawn: a box for rectangles and ellipses, points for polygons. */
export type DrawnShape =
  | { shape: 'rectangle' | 'ellipse'; box: Box }
  | { shape: 'polygon'; points: Array<[number, number]> };

/** Smallest side of a mask, so a slip of the pointer cannot make one too small to see or grab. */
export const MIN_SIZE = 0.01;

/**
 * Two keyframe times closer than this are the same moment: a seek rounds to the microsecond and a
 * frame at 60 fps lasts 16 ms, so a thousandth of a second never merges two frames.
 */
export const SAME_MOMENT = 1e-3;

/** How many points a freehand outline keeps: enough for any shape, few enough to interpolate. */
export const MAX_POLYGON_POINTS = 64;

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** The box clamped into the frame, at least MIN_SIZE each way. */
export function clampBox(box: Box): Box {
  const w = Math.min(1, Math.max(MIN_SIZE, box.w));
  const h = Math.min(1, Math.max(MIN_SIZE, box.h));
  return { x: Math.min(1 - w, Math.max(0, box.x)), y: Math.min(1 - h, Math.max(0, box.y)), w, h };
}

/** The box spanned by two corners, in any order. */
export function boxFromCorners(a: readonly [number, number], b: readonly [number, number]): Box {
  const x = clamp01(Math.min(a[0], b[0]));
  const y = clamp01(Math.min(a[1], b[1]));
  return { x, y, w: clamp01(Math.max(a[0], b[0])) - x, h: clamp01(Math.max(a[1], b[1])) - y };
}

/**
 * A freehand trace cut down to at most `max` points, evenly along its length, or undefined when it
 * encloses too little to be a mask.
 */
export function simplifyTrace(
  trace: ReadonlyArray<readonly [number, number]>,
  max = MAX_POLYGON_POINTS,
): Array<[number, number]> | undefined {
  const points = trace.map(([x, y]) => [clamp01(x), clamp01(y)] as [number, number]);
  if (points.length < 3) return undefined;
  const bounds = boundsOf(points);
  if (bounds.w < MIN_SIZE || bounds.h < MIN_SIZE) return undefined;
  if (points.length <= max) return points;
  const step = points.length / max;
  return Array.from({ length: max }, (_, i) => points[Math.floor(i * step)]!);
}

/** The shape drawn from a pointer trace with `tool`, or undefined when it is too small to keep. */
export function shapeFromTrace(
  tool: MaskShape,
  trace: ReadonlyArray<readonly [number, number]>,
): DrawnShape | undefined {
  if (tool === 'polygon') {
    const points = simplifyTrace(trace);
    return points ? { shape: 'polygon', points } : undefined;
  }
  const first = trace[0];
  const last = trace.at(-1);
  if (!first || !last) return undefined;
  const box = boxFromCorners(first, last);
  return box.w >= MIN_SIZE && box.h >= MIN_SIZE ? { shape: tool, box } : undefined;
}

/** A shape for the keyboard's "add": a third of the frame, centred; polygons as a hexagon. */
export function defaultShape(tool: MaskShape): DrawnShape {
  const box = { x: 1 / 3, y: 1 / 3, w: 1 / 3, h: 1 / 3 };
  if (tool !== 'polygon') return { shape: tool, box };
  const points = Array.from({ length: 6 }, (_, i): [number, number] => {
    const angle = (Math.PI / 3) * i;
    return [0.5 + Math.cos(angle) / 6, 0.5 + Math.sin(angle) / 6];
  });
  return { shape: 'polygon', points };
}

/** The keyframe a drawn shape makes at `t`. */
export function keyframeOf(drawn: DrawnShape, t: number): MaskKeyframe {
  if (drawn.shape === 'polygon') {
    return { t, box: boundsOf(drawn.points), points: drawn.points.map(([x, y]) => [x, y]) };
  }
  return { t, box: clampBox(drawn.box) };
}

/**
 * A new mask from a shape drawn at `t`: it applies from then to the end of the media, since what
 * has to be hidden usually stays in view; the user shortens it with "to here".
 */
export function newMask(
  id: string,
  drawn: DrawnShape,
  t: number,
  duration: number,
  label: string,
): ManualMask {
  const end = Number.isFinite(duration) && duration > 0 ? duration : t;
  return {
    id,
    shape: drawn.shape,
    label,
    from: Math.max(0, Math.min(t, end)),
    to: end,
    keyframes: [keyframeOf(drawn, t)],
  };
}

/** "Mask 3": the first number no mask's label already uses. */
export function nextLabel(masks: readonly ManualMask[], prefix = 'Mask'): string {
  const used = new Set(masks.map((mask) => mask.label));
  for (let n = masks.length + 1; ; n++) if (!used.has(`${prefix} ${n}`)) return `${prefix} ${n}`;
}

/** The keyframe of the mask at `t` (within SAME_MOMENT), if it has one there. */
export function keyframeNear(mask: ManualMask, t: number): MaskKeyframe | undefined {
  return mask.keyframes.find((keyframe) => Math.abs(keyframe.t - t) < SAME_MOMENT);
}

/**
 * The mask's shape at `t` as a keyframe (interpolated between its keyframes, with geometry.ts's
 * maskAt); undefined when the mask does not apply then. Its time is the existing keyframe's when
 * there is one at that moment, so editing it there replaces it instead of adding a neighbour.
 */
export function keyframeAt(mask: ManualMask, t: number): MaskKeyframe | undefined {
  const geometry = maskAt(mask, t);
  if (!geometry) return undefined;
  const at = keyframeNear(mask, t)?.t ?? t;
  if (geometry.shape === 'polygon') {
    return { t: at, box: geometry.box, points: geometry.points.map(([x, y]) => [x, y]) };
  }
  return { t: at, box: { ...geometry.box } };
}

/** The keyframes with `keyframe` in place: replacing one at the same moment, in time order. */
export function withKeyframe(
  keyframes: readonly MaskKeyframe[],
  keyframe: MaskKeyframe,
): MaskKeyframe[] {
  const others = keyframes.filter((k) => Math.abs(k.t - keyframe.t) >= SAME_MOMENT);
  return [...others, keyframe].sort((a, b) => a.t - b.t);
}

/** The keyframes without the one at `t`; a mask keeps at least one, so its last one stays. */
export function withoutKeyframe(keyframes: readonly MaskKeyframe[], t: number): MaskKeyframe[] {
  const kept = keyframes.filter((k) => Math.abs(k.t - t) >= SAME_MOMENT);
  return kept.length === 0 ? [...keyframes] : kept;
}

/** The keyframe moved by (dx, dy), kept inside the frame as a whole. */
export function moveKeyframe(keyframe: MaskKeyframe, dx: number, dy: number): MaskKeyframe {
  const { box } = keyframe;
  const mx = Math.min(1 - box.x - box.w, Math.max(-box.x, dx));
  const my = Math.min(1 - box.y - box.h, Math.max(-box.y, dy));
  const moved: MaskKeyframe = { t: keyframe.t, box: { ...box, x: box.x + mx, y: box.y + my } };
  if (keyframe.points) moved.points = keyframe.points.map(([x, y]) => [x + mx, y + my]);
  return moved;
}

/** A resize handle: which edges it moves. */
export type Handle = 'n' | 'ne' | 'e' | 'se' | 's' | 'sw' | 'w' | 'nw';
export const HANDLES: readonly Handle[] = ['n', 'ne', 'e', 'se', 's', 'sw', 'w', 'nw'];

/** Where a handle sits on the box, as fractions of the frame. */
export function handlePosition(box: Box, handle: Handle): [number, number] {
  const x = handle.includes('w') ? box.x : handle.includes('e') ? box.x + box.w : box.x + box.w / 2;
  const y = handle.includes('n') ? box.y : handle.includes('s') ? box.y + box.h : box.y + box.h / 2;
  return [x, y];
}

/**
 * The keyframe with the handle's edges dragged to `to` (fractions of the frame); an edge cannot
 * pass the opposite one. Polygon points scale with their box.
 */
export function resizeKeyframe(
  keyframe: MaskKeyframe,
  handle: Handle,
  to: readonly [number, number],
): MaskKeyframe {
  const old = keyframe.box;
  let left = old.x;
  let top = old.y;
  let right = old.x + old.w;
  let bottom = old.y + old.h;
  const [px, py] = [clamp01(to[0]), clamp01(to[1])];
  if (handle.includes('w')) left = Math.min(px, right - MIN_SIZE);
  if (handle.includes('e')) right = Math.max(px, left + MIN_SIZE);
  if (handle.includes('n')) top = Math.min(py, bottom - MIN_SIZE);
  if (handle.includes('s')) bottom = Math.max(py, top + MIN_SIZE);
  return withBox(keyframe, { x: left, y: top, w: right - left, h: bottom - top });
}

/** The keyframe fitted to `box` (clamped into the frame); polygon points scale with it. */
export function withBox(keyframe: MaskKeyframe, target: Box): MaskKeyframe {
  const box = clampBox(target);
  const old = keyframe.box;
  const result: MaskKeyframe = { t: keyframe.t, box };
  if (keyframe.points) {
    const sx = old.w > 0 ? box.w / old.w : 1;
    const sy = old.h > 0 ? box.h / old.h : 1;
    result.points = keyframe.points.map(([x, y]) => [
      box.x + (x - old.x) * sx,
      box.y + (y - old.y) * sy,
    ]);
  }
  return result;
}

/**
 * The span with one end moved, kept within the media and in order: moving `from` past `to` (or
 * `to` before `from`) takes the other end along.
 */
export function spanWith(
  mask: Pick<ManualMask, 'from' | 'to'>,
  end: 'from' | 'to',
  seconds: number,
  duration: number,
): { from: number; to: number } {
  const last = Number.isFinite(duration) && duration > 0 ? duration : Math.max(mask.to, seconds);
  const t = Math.min(last, Math.max(0, seconds));
  if (end === 'from') return { from: t, to: Math.max(t, mask.to) };
  return { from: Math.min(t, mask.from), to: t };
}

/** The masks that apply at `t`, for the list's "shown now". */
export function activeAt(mask: ManualMask, t: number): boolean {
  return t >= mask.from && t <= mask.to && mask.keyframes.length > 0;
}

const ARROWS: Record<string, [number, number]> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

/**
 * The keyframe after an arrow key: moved half a percent of the frame (five with Shift), or with
 * Alt made that much wider or narrower, taller or shorter about its top-left corner. Undefined
 * for any other key.
 */
export function nudgeKeyframe(
  keyframe: MaskKeyframe,
  key: string,
  modifiers: { shift: boolean; alt: boolean },
): MaskKeyframe | undefined {
  const arrow = ARROWS[key];
  if (!arrow) return undefined;
  const step = modifiers.shift ? 0.05 : 0.005;
  const [dx, dy] = [arrow[0] * step, arrow[1] * step];
  if (!modifiers.alt) return moveKeyframe(keyframe, dx, dy);
  const { box } = keyframe;
  return withBox(keyframe, { ...box, w: box.w + dx, h: box.h + dy });
}
