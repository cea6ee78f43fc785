// Browser-safe: what the command line (cli.ts) and the headless page (page.ts) say to each other.
import type { DetectorOptions, DetectorStats } from '../detector-protocol.ts';
import type { RedactionProgress } from '../progress.ts';
import type { FaceAnalysis, RedactionRecipe } from '../recipe.ts';

export interface HeadlessJob {
  /** `auto`: detect faces and mask all of them; `none`: only the recipe's manual masks and audio. */
  faces: 'auto' | 'none';
  /** The input's file name (its extension helps ffmpeg.wasm when WebCodecs cannot decode it). */
  name: string;
  recipe: RedactionRecipe;
  /** A stored analysis to use instead of detecting (with faces `none` its selected tracks are masked). */
  analysis?: FaceAnalysis;
  detector?: Partial<DetectorOptions>;
}

export interface HeadlessResult {
  frames: number;
  maskedFrames: number;
  bytes: number;
  seconds: number;
  analysis?: FaceAnalysis;
  detector?: DetectorStats;
}

export type HeadlessReport =
  | { type: 'progress'; progress: RedactionProgress }
  | { type: 'done'; result: HeadlessResult }
  | { type: 'error'; message: string };
