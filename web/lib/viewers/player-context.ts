import { getContext, setContext } from 'svelte';

/**
 * What the evidence on screen offers to what works on it (annotations, comments, presence): where
 * playback stands, how to move it, and the picture's geometry. The viewer sets it; panels and
 * overlays read it. Regions are stored normalised (0..1 of the picture's natural width and
 * height), so they stay put whatever size the picture is shown at.
 */
export interface EvidencePlayer {
  readonly caseId: string;
  readonly evidenceId: string;
  readonly kind: 'video' | 'audio' | 'image' | 'document' | 'other';
  /** Seconds into the media; 0 for stills and documents. */
  readonly currentTime: number;
  /** Seconds, once known; undefined for stills and documents. */
  readonly duration: number | undefined;
  readonly paused: boolean;
  /** The picture's own size in pixels, once known (video frames, images). */
  readonly naturalSize: { width: number; height: number } | undefined;
  /**
   * The element that covers exactly the picture as shown (zoom and pan included), for drawing
   * regions over it; undefined while nothing is shown or for media without a picture.
   */
  readonly overlay: HTMLElement | undefined;
  /** Moves playback to `seconds` (clamped to the media) and pauses there. */
  seek(seconds: number): void;
  pause(): void;
}

const KEY = Symbol('evidence-player');

export function setEvidencePlayer(player: EvidencePlayer): EvidencePlayer {
  return setContext(KEY, player);
}

export function useEvidencePlayer(): EvidencePlayer {
  const player = getContext<EvidencePlayer | undefined>(KEY);
  if (!player) throw new Error('useEvidencePlayer() needs an evidence viewer around it');
  return player;
}
