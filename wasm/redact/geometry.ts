// Browser-safe: where every mask of a recipe is at a given time. The renderer, the studio's preview
// and the benchmark's scoring all call these, so what is previewed is what is rendered.
import type {
  Box,
  FaceAnalysis,
  FaceTrack,
  ManualMask,
  MaskShape,
  RedactionRecipe,
  TrackPoint,
} from './recipe.ts';

/**
 * A detected face box covers brow to chin; hair, ears and the outline of the head still identify
 * someone, so face masks are this much larger than the detection before the recipe's padding.
 */
export const FACE_GROWTH = 1.4;

/** A mask at one moment, in fractions of the frame. */
export type MaskGeometry =
  | { shape: 'rectangle' | 'ellipse'; box: Box }
  | { shape: 'polygon'; box: Box; points: Array<[number, number]> };

function lerp(a: number, b: number, k: number): number {
  return a + (b - a) * k;
}

export function lerpBox(a: Box, b: Box, k: number): Box {
  return { x: lerp(a.x, b.x, k), y: lerp(a.y, b.y, k), w: lerp(a.w, b.w, k), h: lerp(a.h, b.h, k) };
}

/** The box scaled about its centre by `factor`. */
export function growBox(box: Box, factor: number): Box {
  const w = box.w * factor;
  const h = box.h * factor;
  return { x: box.x + (box.w - w) / 2, y: box.y + (box.h - h) / 2, w, h };
}

/** The smallest box holding all the points. */
export function boundsOf(points: ReadonlyArray<readonly [number, number]>): Box {
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const [x, y] of points) {
    left = Math.min(left, x);
    top = Math.min(top, y);
    right = Math.max(right, x);
    bottom = Math.max(bottom, y);
  }
  return { x: left, y: top, w: right - left, h: bottom - top };
}

/** Index of the last element whose `t` is at most `t` (-1 when none), by binary search. */
function lastAtOrBefore<T extends { t: number }>(items: readonly T[], t: number): number {
  let low = 0;
  let high = items.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (items[middle]!.t <= t) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/**
 * Where the track's face is at `t`: interpolated between the sightings around it, held for `hold`
 * seconds before the first and after the last; null outside that.
 */
export function trackBoxAt(track: FaceTrack, t: number, hold: number): Box | null {
  const points = track.points;
  if (points.length === 0) return null;
  const before = lastAtOrBefore(points, t);
  if (before === -1) return points[0]!.t - t <= hold ? points[0]!.box : null;
  const a = points[before]!;
  if (before === points.length - 1) return t - a.t <= hold ? a.box : null;
  const b = points[before + 1]!;
  return lerpBox(a.box, b.box, b.t === a.t ? 0 : (t - a.t) / (b.t - a.t));
}

/**
 * Which track each track ended up in after the recipe's merges (following chains: a into b, b into
 * c). A merge naming a track the analysis lacks is left out: it must not take a selected face with
 * it. The studio's face list and the renderer both group faces by this, so they agree.
 */
export function mergeRoot(
  analysis: FaceAnalysis,
  merges: ReadonlyArray<readonly [string, string]>,
): (id: string) => string {
  const known = new Set(analysis.tracks.map((track) => track.id));
  const parent = new Map<string, string>();
  for (const [kept, merged] of merges) {
    if (kept !== merged && known.has(kept) && known.has(merged)) parent.set(merged, kept);
  }
  return (id) => {
    const seen = new Set<string>();
    while (parent.has(id) && !seen.has(id)) {
      seen.add(id);
      id = parent.get(id)!;
    }
    return id;
  };
}

/**
 * The tracks a recipe masks: each selected track with every track merged into it folded in (their
 * sightings together, so a gap between them is bridged: they are one person). Merged tracks seen at
 * the same time stay apart, under the same id, so that neither face goes unmasked.
 */
export function selectedTracks(
  analysis: FaceAnalysis | undefined,
  recipe: RedactionRecipe,
): FaceTrack[] {
  if (!analysis) return [];
  const root = mergeRoot(analysis, recipe.faces.merges);
  const groups = new Map<string, FaceTrack[]>();
  for (const track of analysis.tracks) {
    const group = root(track.id);
    groups.set(group, [...(groups.get(group) ?? []), track]);
  }
  const selected = new Set(recipe.faces.selected.map(root));
  const result: FaceTrack[] = [];
  for (const [id, members] of groups) {
    if (!selected.has(id)) continue;
    const chains: TrackPoint[][] = [];
    const byStart = members.filter((member) => member.points.length > 0);
    byStart.sort((a, b) => a.points[0]!.t - b.points[0]!.t);
    for (const { points } of byStart) {
      const after = chains.find((chain) => chain[chain.length - 1]!.t < points[0]!.t);
      if (after) after.push(...points);
      else chains.push([...points]);
    }
    for (const points of chains) result.push({ id, points });
  }
  return result;
}

/** A manual mask's shape at `t`, or null when the mask does not apply then. */
export function maskAt(mask: ManualMask, t: number): MaskGeometry | null {
  if (t < mask.from || t > mask.to || mask.keyframes.length === 0) return null;
  const frames = mask.keyframes;
  const before = lastAtOrBefore(frames, t);
  let box: Box;
  let points: Array<[number, number]> | undefined;
  if (before === -1 || before === frames.length - 1) {
    const held = frames[before === -1 ? 0 : before]!;
    box = held.box;
    points = held.points;
  } else {
    const a = frames[before]!;
    const b = frames[before + 1]!;
    const k = b.t === a.t ? 0 : (t - a.t) / (b.t - a.t);
    box = lerpBox(a.box, b.box, k);
    if (a.points && b.points && a.points.length === b.points.length) {
      points = a.points.map(([x, y], i) => [
        lerp(x, b.points![i]![0], k),
        lerp(y, b.points![i]![1], k),
      ]);
    } else points = a.points;
  }
  if (mask.shape === 'polygon' && points && points.length >= 3) {
    return { shape: 'polygon', box: boundsOf(points), points };
  }
  return { shape: mask.shape === 'polygon' ? 'rectangle' : mask.shape, box };
}

/** The mask grown by the recipe's padding (about its centre; polygons scale about their centre too). */
export function padGeometry(geometry: MaskGeometry, padding: number): MaskGeometry {
  const factor = 1 + Math.max(0, padding);
  const box = growBox(geometry.box, factor);
  if (geometry.shape !== 'polygon') return { shape: geometry.shape, box };
  const cx = geometry.box.x + geometry.box.w / 2;
  const cy = geometry.box.y + geometry.box.h / 2;
  return {
    shape: 'polygon',
    box,
    points: geometry.points.map(([x, y]) => [cx + (x - cx) * factor, cy + (y - cy) * factor]),
  };
}

/** Every mask of the recipe at `t`, padded, faces as ellipses. */
export function masksAt(
  recipe: RedactionRecipe,
  tracks: readonly FaceTrack[],
  hold: number,
  t: number,
  faceShape: MaskShape = 'ellipse',
): MaskGeometry[] {
  const result: MaskGeometry[] = [];
  for (const track of tracks) {
    const box = trackBoxAt(track, t, hold);
    if (box) {
      const shape = faceShape === 'polygon' ? 'ellipse' : faceShape;
      result.push(padGeometry({ shape, box: growBox(box, FACE_GROWTH) }, recipe.padding));
    }
  }
  for (const mask of recipe.masks) {
    const geometry = maskAt(mask, t);
    if (geometry) result.push(padGeometry(geometry, recipe.padding));
  }
  return result;
}
