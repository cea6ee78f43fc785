// Browser-safe: the redaction recipe and face tracks as plain data, shared by the renderer, the
// studio's preview, the headless command line and the case document (web/lib/shared/redaction-doc.ts).
//
// Geometry is in fractions (0..1) of the picture's width and height, times in seconds from the start
// of the media, so a recipe applies to the original whatever size a preview is drawn at.

/** An axis-aligned box: top-left corner, width and height, all fractions of the frame. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export const MASK_STYLES = ['blur', 'pixelate', 'fill'] as const;
export type MaskStyleKind = (typeof MASK_STYLES)[number];

export interface MaskStyle {
  kind: MaskStyleKind;
  /** 1..100: how coarse the blur or pixelation is (ignored for fill). */
  strength: number;
  /** For fill: a CSS hex colour, #rrggbb. */
  color: string;
}

export const DEFAULT_STYLE: MaskStyle = { kind: 'blur', strength: 60, color: '#000000' };

/** Where a face was seen or, between sightings, is interpolated to be. */
export interface TrackPoint {
  /** Seconds. */
  t: number;
  box: Box;
  /** Detector score, 0 for points filled in by the tracker. */
  score: number;
}

/** One person's face over time, as the tracker linked it. Points are in time order. */
export interface FaceTrack {
  id: string;
  points: TrackPoint[];
}

/** What automatic face detection found in one file: stored as a derived file, named by the recipe. */
export interface FaceAnalysis {
  version: 1;
  /** SHA-256 of the file analysed. */
  source: string;
  width: number;
  height: number;
  /** Frames per second of the video (detections are made every `step` frames). */
  frameRate: number;
  frames: number;
  detector: { model: string; step: number; scanEvery: number; minScore: number };
  /** Seconds a track's mask is held before its first and after its last sighting. */
  hold: number;
  tracks: FaceTrack[];
}

export const MASK_SHAPES = ['rectangle', 'ellipse', 'polygon'] as const;
export type MaskShape = (typeof MASK_SHAPES)[number];

/**
 * A manual mask at one moment. Rectangles and ellipses use `box`; polygons use `points`
 * (fractions, at least 3). Between keyframes the shape is interpolated; before the first and after
 * the last it holds, within the mask's `from`..`to` span.
 */
export interface MaskKeyframe {
  t: number;
  box: Box;
  /** Polygons only: the same number of points in every keyframe of a mask. */
  points?: Array<[number, number]>;
}

export interface ManualMask {
  id: string;
  shape: MaskShape;
  label: string;
  /** Seconds: the mask applies from `from` to `to` (inclusive). */
  from: number;
  to: number;
  keyframes: MaskKeyframe[];
}

export const AUDIO_MODES = ['mute', 'tone'] as const;
export type AudioMode = (typeof AUDIO_MODES)[number];

export interface AudioRange {
  id: string;
  start: number;
  end: number;
  mode: AudioMode;
}

export interface RedactionRecipe {
  version: 1;
  /** SHA-256 of the original the recipe applies to. */
  source: string;
  style: MaskStyle;
  /** Extra margin around every mask, as a fraction of its size (0.3 = 30% larger each way). */
  padding: number;
  faces: {
    /** SHA-256 of the stored FaceAnalysis, when automatic detection was run. */
    analysis?: string;
    /** Track ids whose faces are masked. */
    selected: string[];
    /** Pairs of track ids that are the same person: [kept, merged into it]. */
    merges: Array<[string, string]>;
  };
  masks: ManualMask[];
  audio: { ranges: AudioRange[]; removeTrack: boolean };
}

export function emptyRecipe(source: string): RedactionRecipe {
  return {
    version: 1,
    source,
    style: { ...DEFAULT_STYLE },
    padding: 0.3,
    faces: { selected: [], merges: [] },
    masks: [],
    audio: { ranges: [], removeTrack: false },
  };
}
