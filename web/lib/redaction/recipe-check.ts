import type { FaceAnalysis, FaceTrack, RedactionRecipe } from '../../../wasm/redact/recipe.ts';
import { mergeRoot } from '../../../wasm/redact/geometry.ts';

/** The recipe cannot be rendered as it stands; the message says what to change. */
export class RecipeProblem extends Error {
  override readonly name = 'RecipeProblem';
}

/** A stored face analysis that is not what the recipe names. */
export class BadAnalysis extends Error {
  override readonly name = 'BadAnalysis';
}

/**
 * Why the recipe cannot make a redacted copy, or undefined when it can: there must be something
 * to redact, and every face it names must be in the analysis it names.
 */
export function renderProblem(
  recipe: RedactionRecipe,
  analysis: FaceAnalysis | undefined,
): string | undefined {
  const faces = recipe.faces;
  const hasAudio = recipe.audio.removeTrack || recipe.audio.ranges.length > 0;
  if (faces.selected.length === 0 && recipe.masks.length === 0 && !hasAudio) {
    return 'Nothing to redact yet: choose faces, draw a mask or pick audio to silence.';
  }
  if (faces.selected.length === 0 && faces.merges.length === 0) return undefined;
  if (!faces.analysis) {
    return 'The recipe chooses faces but names no face analysis: run Find faces again.';
  }
  if (!analysis) return 'The face analysis the recipe names is not loaded yet.';
  if (analysis.source !== recipe.source) {
    return 'The face analysis is of another file than this one: run Find faces again.';
  }
  const known = new Set(analysis.tracks.map((track) => track.id));
  const named = [...faces.selected, ...faces.merges.flat()];
  const unknown = [...new Set(named.filter((id) => !known.has(id)))];
  if (unknown.length > 0) {
    const list = unknown.slice(0, 5).join(', ') + (unknown.length > 5 ? ', …' : '');
    return `The recipe names ${unknown.length === 1 ? 'a face' : 'faces'} the face analysis does not have (${list}). Choose the faces again.`;
  }
  return undefined;
}

/** Throws a `RecipeProblem` saying what to change unless the recipe can be rendered. */
export function checkRenderable(recipe: RedactionRecipe, analysis: FaceAnalysis | undefined): void {
  const problem = renderProblem(recipe, analysis);
  if (problem) throw new RecipeProblem(problem);
}

/**
 * A stored face analysis read back: JSON of the right shape, of the file `source`. It was
 * fetched by its digest, but a later reader must not trust a shape a bug or another version wrote.
 */
export function parseAnalysis(text: string, source: string): FaceAnalysis {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BadAnalysis('the stored face analysis is not JSON');
  }
  const a = raw as Partial<Record<keyof FaceAnalysis, unknown>> | null;
  if (a === null || typeof a !== 'object' || a.version !== 1) {
    throw new BadAnalysis('the stored face analysis is not one this version can read');
  }
  if (a.source !== source) {
    throw new BadAnalysis('the stored face analysis is of another file');
  }
  const numbers = ['width', 'height', 'frameRate', 'frames', 'hold'] as const;
  if (!numbers.every((key) => typeof a[key] === 'number' && Number.isFinite(a[key]))) {
    throw new BadAnalysis('the stored face analysis has no frame size, rate or count');
  }
  if (!Array.isArray(a.tracks) || !a.tracks.every(isTrack)) {
    throw new BadAnalysis('the stored face analysis has malformed face tracks');
  }
  return raw as FaceAnalysis;
}

function isTrack(value: unknown): value is FaceTrack {
  const track = value as Partial<FaceTrack> | null;
  return (
    typeof track?.id === 'string' &&
    Array.isArray(track.points) &&
    track.points.every(
      (p) =>
        typeof p?.t === 'number' &&
        typeof p.score === 'number' &&
        ['x', 'y', 'w', 'h'].every(
          (k) => typeof (p.box as unknown as Record<string, unknown> | undefined)?.[k] === 'number',
        ),
    )
  );
}

/** When a track is first and last seen, in seconds. */
export function trackSpan(track: FaceTrack): { from: number; to: number } {
  const first = track.points[0]?.t ?? 0;
  return { from: first, to: track.points[track.points.length - 1]?.t ?? first };
}

/**
 * The faces as a person sees them: every track not merged into another, with the tracks merged
 * into it, in order of first appearance.
 */
export function faceGroups(
  analysis: FaceAnalysis,
  merges: ReadonlyArray<readonly [string, string]>,
): Array<{ track: FaceTrack; merged: FaceTrack[] }> {
  const byId = new Map(analysis.tracks.map((track) => [track.id, track]));
  const root = mergeRoot(analysis, merges);
  const groups = new Map<string, FaceTrack[]>();
  for (const track of analysis.tracks) {
    const top = root(track.id);
    if (top !== track.id) groups.set(top, [...(groups.get(top) ?? []), track]);
    else if (!groups.has(top)) groups.set(top, []);
  }
  return [...groups]
    .map(([id, merged]) => ({ track: byId.get(id)!, merged }))
    .sort((a, b) => trackSpan(a.track).from - trackSpan(b.track).from);
}
