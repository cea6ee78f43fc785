import type { FileRequestView } from '$lib/shared/file-requests';

/**
 * What a request's link does right now, in the order the server checks it: a withdrawn link
 * stays withdrawn, an expired one takes nothing even when open, and a full one has announced
 * files up to its limits.
 */
export type RequestState = 'open' | 'paused' | 'withdrawn' | 'expired' | 'full';

export const STATE_LABELS: Record<RequestState, string> = {
  open: 'Open',
  paused: 'Paused',
  withdrawn: 'Withdrawn',
  expired: 'Expired',
  full: 'Full',
};

export const STATE_TONES: Record<RequestState, '' | 'ok' | 'warn' | 'bad'> = {
  open: 'ok',
  paused: 'warn',
  withdrawn: 'bad',
  expired: '',
  full: 'warn',
};

export function requestState(
  request: Pick<
    FileRequestView,
    'status' | 'expiresAt' | 'filesReserved' | 'maxFiles' | 'bytesReserved' | 'maxBytes'
  >,
  now: Date,
): RequestState {
  if (request.status === 'revoked') return 'withdrawn';
  if (Date.parse(request.expiresAt) <= now.getTime()) return 'expired';
  if (request.status === 'paused') return 'paused';
  if (request.filesReserved >= request.maxFiles || request.bytesReserved >= request.maxBytes) {
    return 'full';
  }
  return 'open';
}

/** The address a sender types or scans: short, on this server. */
export function publicLink(origin: string, code: string): string {
  return `${origin}/r/${code}`;
}

/** Sizes in the decimal units `formatBytes` shows. */
export const SIZE_UNITS = { MB: 1000 ** 2, GB: 1000 ** 3 } as const;
export type SizeUnit = keyof typeof SIZE_UNITS;

export function toBytes(amount: number, unit: SizeUnit): number {
  return Math.round(amount * SIZE_UNITS[unit]);
}

/** A date input's value (`YYYY-MM-DD`, local) `days` after `from`. */
export function dateInputValue(from: Date, days = 0): string {
  const date = new Date(from.getFullYear(), from.getMonth(), from.getDate() + days);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A request chosen to run "until" a day stays open to the end of that day, local time. */
export function endOfDay(value: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const date = new Date(`${value}T23:59:59`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The day a date input offers when extending: 30 days on from the later of now and the expiry. */
export function extensionDefault(expiresAt: string, now: Date): string {
  const expiry = new Date(expiresAt);
  return dateInputValue(expiry.getTime() > now.getTime() ? expiry : now, 30);
}
