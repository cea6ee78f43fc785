// Browser-safe: lays several recordings of one incident on one timeline by their recorded times.

export interface ClipTiming {
  id: string;
  /** When the recording started (ISO 8601), if the file said. */
  capturedAt: string | undefined;
  /** Seconds, once known. */
  duration: number | undefined;
  /** Seconds added to the recorded start by hand, for a camera whose clock was off. */
  offset: number;
}

export interface PlacedClip {
  id: string;
  /** Seconds from the timeline's start to the clip's first frame. */
  start: number;
  duration: number;
  /** False when the file gave no recorded start, so the clip starts with the timeline. */
  timed: boolean;
}

export interface Timeline {
  clips: PlacedClip[];
  /** Seconds from the first clip's start to the last clip's end. */
  duration: number;
  /** Epoch milliseconds of the timeline's start as the clocks read it, when any clip is timed. */
  startsAt: number | undefined;
}

/** Milliseconds of an ISO time; one without an offset is read as UTC, like all the others. */
function instant(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Places each clip at its recorded start plus its manual offset; clips without a recorded start
 * begin at the earliest placed start (or 0), shifted by their offset. Clips may be given in any
 * order and keep it.
 */
export function alignClips(clips: readonly ClipTiming[]): Timeline {
  const starts = clips.map((c) => instant(c.capturedAt));
  const known = starts.filter((s): s is number => s !== undefined);
  const base = known.length ? Math.min(...known) : undefined;
  const raw = clips.map((clip, i) => {
    const at = starts[i];
    const recorded = at !== undefined && base !== undefined ? (at - base) / 1000 : 0;
    return { clip, start: recorded + clip.offset, timed: at !== undefined };
  });
  // Offsets may move a clip before the first one: the timeline starts at the earliest clip.
  const first = raw.length ? Math.min(...raw.map((r) => r.start)) : 0;
  const placed = raw.map(({ clip, start, timed }) => ({
    id: clip.id,
    start: start - first,
    duration: clip.duration !== undefined && Number.isFinite(clip.duration) ? clip.duration : 0,
    timed,
  }));
  return {
    clips: placed,
    duration: placed.reduce((end, c) => Math.max(end, c.start + c.duration), 0),
    startsAt: base === undefined ? undefined : base + first * 1000,
  };
}

/** Where a clip should be at `time` on the timeline: before it, in it (at seconds), or after. */
export function clipPosition(
  clip: PlacedClip,
  time: number,
): { state: 'before' | 'after' } | { state: 'playing'; seconds: number } {
  const seconds = time - clip.start;
  if (seconds < 0) return { state: 'before' };
  if (clip.duration > 0 && seconds >= clip.duration) return { state: 'after' };
  return { state: 'playing', seconds };
}
