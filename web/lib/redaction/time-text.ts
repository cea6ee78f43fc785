// Browser-safe: times typed into the redaction editors, in seconds or as a clock.

/**
 * Seconds from what someone typed: `12.5`, `1:02.25` (minutes and seconds) or `1:02:03.5`;
 * undefined when it is not a time. A comma works as the decimal point too.
 */
export function parseTime(text: string): number | undefined {
  const trimmed = text.trim().replace(',', '.');
  if (!/^\d+(\.\d*)?$|^\d+(:\d{1,2}){1,2}(\.\d*)?$/.test(trimmed)) return undefined;
  const parts = trimmed.split(':').map(Number);
  if (parts.slice(1).some((part) => part >= 60)) return undefined;
  return parts.reduce((total, part) => total * 60 + part, 0);
}

/** Seconds as `m:ss.mmm` (or `h:mm:ss.mmm`), exact to the millisecond so a typed time reads back. */
export function formatTime(seconds: number): string {
  const millis = Math.round(Math.max(0, Number.isFinite(seconds) ? seconds : 0) * 1000);
  const h = Math.floor(millis / 3_600_000);
  const m = Math.floor((millis % 3_600_000) / 60_000);
  const s = ((millis % 60_000) / 1000).toFixed(3).padStart(6, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
