// Browser-safe: timecode arithmetic for the players, kept apart from the DOM so it is tested.

/** Speeds offered by the players, from a tenth to four times real time. */
export const PLAYBACK_RATES = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 4] as const;

/** Assumed when neither the file nor the browser has said how many frames a second it holds. */
export const FALLBACK_FRAME_RATE = 25;

/** The index of the frame shown at `seconds` (the frame whose interval holds that time). */
export function frameAt(seconds: number, frameRate: number): number {
  // A thousandth of a frame of tolerance: 0.12 s at 25 fps is frame 3 even when floating point
  // (or a seek rounded to the microsecond) says 2.99999.
  return Math.max(0, Math.floor(seconds * frameRate + 1e-3));
}

/**
 * Where to seek to show the frame `step` frames from the one at `seconds`: the middle of that
 * frame's interval, so rounding in the browser's seek can never land on its neighbour.
 */
export function frameStepTarget(
  seconds: number,
  step: number,
  frameRate: number,
  duration: number | undefined,
): number {
  const last = duration !== undefined && Number.isFinite(duration) ? duration : Infinity;
  const lastFrame = Number.isFinite(last) ? Math.max(0, Math.ceil(last * frameRate) - 1) : Infinity;
  const frame = Math.min(lastFrame, Math.max(0, frameAt(seconds, frameRate) + step));
  return Math.min(last, (frame + 0.5) / frameRate);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/**
 * HH:MM:SS:FF, the frame counted within its second. Counting frames within real seconds (rather
 * than drop-frame SMPTE) keeps HH:MM:SS equal to the time into the recording at any frame rate.
 */
export function formatTimecode(seconds: number, frameRate: number): string {
  const safe = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  const whole = Math.floor(safe + 1e-6);
  const frames = Math.min(
    Math.max(0, Math.ceil(frameRate) - 1),
    Math.max(0, Math.floor((safe - whole) * frameRate + 1e-6)),
  );
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}:${pad(frames)}`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * The wall-clock time a frame was recorded: the recording's start (`capturedAt`, ISO 8601) plus
 * `seconds` into it, written in the camera's own terms, so a clock recorded without an offset is
 * shown without one rather than moved into this device's time zone. Undefined when the start
 * cannot be read.
 */
export function recordedAt(capturedAt: string | undefined, seconds: number): string | undefined {
  const parts = capturedAt ? ISO.exec(capturedAt) : null;
  if (!parts) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = parts;
  const start = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, Number(`0.${fraction ?? '0'}`) * 1000);
  const at = new Date(start + Math.round((Number.isFinite(seconds) ? seconds : 0) * 1000));
  const text = at.toISOString().slice(0, 23).replace('T', ' ');
  return zone ? `${text} ${zone === 'Z' ? 'UTC' : zone}` : text;
}

/** The next speed up or down the list from `rate` (staying at either end). */
export function nextRate(rate: number, direction: 1 | -1): number {
  const index = PLAYBACK_RATES.findIndex((r) => r >= rate - 1e-9);
  const at = index === -1 ? PLAYBACK_RATES.length - 1 : index;
  const exact = PLAYBACK_RATES[at] !== undefined && Math.abs(PLAYBACK_RATES[at] - rate) < 1e-9;
  const next = direction === 1 ? (exact ? at + 1 : at) : at - 1;
  return PLAYBACK_RATES[Math.min(PLAYBACK_RATES.length - 1, Math.max(0, next))]!;
}
