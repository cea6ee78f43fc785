import type { EvidencePlayer } from './player-context';

/**
 * The evidence page's player as the viewer keeps it up to date. The page sets it as the
 * evidence-player context, so the side panel (a sibling of the viewer) reads it too.
 */
export class LiveEvidencePlayer implements EvidencePlayer {
  readonly caseId: string;
  readonly evidenceId: string;
  kind = $state<EvidencePlayer['kind']>('other');
  #currentTime = $state(0);
  #duration = $state<number | undefined>(undefined);
  paused = $state(true);
  naturalSize = $state<{ width: number; height: number } | undefined>(undefined);
  overlay = $state<HTMLElement | undefined>(undefined);
  /** The playing element, for video and audio. */
  media = $state<HTMLVideoElement | HTMLAudioElement | undefined>(undefined);

  constructor(caseId: string, evidenceId: string) {
    this.caseId = caseId;
    this.evidenceId = evidenceId;
  }

  get #timed(): boolean {
    return this.kind === 'video' || this.kind === 'audio';
  }

  get currentTime(): number {
    return this.#timed ? this.#currentTime : 0;
  }

  set currentTime(seconds: number) {
    this.#currentTime = seconds;
  }

  get duration(): number | undefined {
    return this.#timed ? this.#duration : undefined;
  }

  set duration(seconds: number | undefined) {
    this.#duration = seconds;
  }

  seek(seconds: number): void {
    const media = this.media;
    if (!media) return;
    media.pause();
    const end = Number.isFinite(media.duration) ? media.duration : seconds;
    media.currentTime = Math.min(end, Math.max(0, seconds));
  }

  pause(): void {
    this.media?.pause();
  }
}
