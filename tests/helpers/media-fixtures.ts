// Real media files for the media tests: ffmpeg encodes them (tests/provision.ts finds it and
// sets FFMPEG_PATH), and EXIF is written by hand so each tag the tests read is one they chose.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs ffmpeg with `args` (the output path last) and returns the bytes it wrote. */
export async function ffmpeg(
  dir: string,
  name: string,
  args: string[],
): Promise<Uint8Array<ArrayBuffer>> {
  const out = join(dir, name);
  const bin = process.env.FFMPEG_PATH ?? 'ffmpeg';
  await run(bin, ['-hide_banner', '-loglevel', 'error', '-y', ...args, out]);
  return new Uint8Array(await readFile(out));
}

/** A test pattern with a tone, `seconds` long, as ffmpeg's lavfi sources make it. */
export function patternWithTone(width: number, height: number, seconds: number): string[] {
  return [
    ...['-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=25`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-t', String(seconds)],
  ];
}

/** Bytes that are no known format, the same on every run so a failure can be replayed. */
export function noiseBytes(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let block = createHash('sha256').update('exhibit media noise').digest();
  for (let i = 0; i < length; i += block.length) {
    out.set(block.subarray(0, Math.min(block.length, length - i)), i);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export interface ExifFields {
  make?: string;
  model?: string;
  orientation?: number;
  /** "YYYY:MM:DD HH:MM:SS", as cameras write it. */
  dateTimeOriginal?: string;
  /** "+HH:MM" */
  offsetTimeOriginal?: string;
  gps?: { latitude: number; longitude: number; altitude?: number };
}

/** A JPEG (from ffmpeg, so without EXIF) with an EXIF APP1 segment holding `fields`. */
export function withExif(jpeg: Uint8Array, fields: ExifFields): Uint8Array<ArrayBuffer> {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const tiff = tiffWith(fields);
  const app1 = new Uint8Array(4 + 6 + tiff.length);
  const view = new DataView(app1.buffer);
  view.setUint16(0, 0xffe1);
  view.setUint16(2, 2 + 6 + tiff.length);
  app1.set(new TextEncoder().encode('Exif\0\0'), 4);
  app1.set(tiff, 10);
  const out = new Uint8Array(jpeg.length + app1.length);
  out.set(jpeg.subarray(0, 2));
  out.set(app1, 2);
  out.set(jpeg.subarray(2), 2 + app1.length);
  return out;
}

// TIFF field types: BYTE, ASCII, SHORT, LONG, RATIONAL.
type Field =
  | { tag: number; type: 1 | 3 | 4; values: number[] }
  | { tag: number; type: 2; text: string }
  | { tag: number; type: 5; rationals: [number, number][] };

const TYPE_SIZE = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8 } as const;

function fieldBytes(field: Field): Uint8Array {
  if (field.type === 2) return new TextEncoder().encode(`${field.text}\0`);
  if (field.type === 5) {
    const out = new DataView(new ArrayBuffer(8 * field.rationals.length));
    field.rationals.forEach(([n, d], i) => {
      out.setUint32(i * 8, n);
      out.setUint32(i * 8 + 4, d);
    });
    return new Uint8Array(out.buffer);
  }
  const size = TYPE_SIZE[field.type];
  const out = new DataView(new ArrayBuffer(size * field.values.length));
  field.values.forEach((v, i) => {
    if (size === 1) out.setUint8(i, v);
    else if (size === 2) out.setUint16(i * 2, v);
    else out.setUint32(i * 4, v);
  });
  return new Uint8Array(out.buffer);
}

function ifdLength(fields: Field[]): number {
  const outOfLine = fields.map(fieldBytes).filter((b) => b.length > 4);
  return 2 + 12 * fields.length + 4 + outOfLine.reduce((n, b) => n + b.length + (b.length % 2), 0);
}

/** One IFD (big-endian) placed at `offset` in the TIFF block, its long values right after it. */
function ifd(fields: Field[], offset: number): Uint8Array {
  const sorted = [...fields].sort((a, b) => a.tag - b.tag);
  const out = new Uint8Array(ifdLength(sorted));
  const view = new DataView(out.buffer);
  view.setUint16(0, sorted.length);
  let data = 2 + 12 * sorted.length + 4;
  sorted.forEach((field, i) => {
    const bytes = fieldBytes(field);
    const entry = 2 + 12 * i;
    view.setUint16(entry, field.tag);
    view.setUint16(entry + 2, field.type);
    view.setUint32(entry + 4, bytes.length / TYPE_SIZE[field.type]);
    if (bytes.length <= 4) {
      out.set(bytes, entry + 8);
    } else {
      view.setUint32(entry + 8, offset + data);
      out.set(bytes, data);
      data += bytes.length + (bytes.length % 2);
    }
  });
  return out;
}

/** Degrees as the three rationals (degrees, minutes, seconds to 1/10000) GPS tags use. */
function dms(value: number): [number, number][] {
  const abs = Math.abs(value);
  const degrees = Math.floor(abs);
  const minutes = Math.floor((abs - degrees) * 60);
  const seconds = Math.round(((abs - degrees) * 60 - minutes) * 60 * 10000);
  return [
    [degrees, 1],
    [minutes, 1],
    [seconds, 10000],
  ];
}

function tiffWith(fields: ExifFields): Uint8Array {
  const ifd0: Field[] = [];
  if (fields.make) ifd0.push({ tag: 0x010f, type: 2, text: fields.make });
  if (fields.model) ifd0.push({ tag: 0x0110, type: 2, text: fields.model });
  if (fields.orientation) ifd0.push({ tag: 0x0112, type: 3, values: [fields.orientation] });
  const exif: Field[] = [];
  if (fields.dateTimeOriginal) exif.push({ tag: 0x9003, type: 2, text: fields.dateTimeOriginal });
  if (fields.offsetTimeOriginal)
    exif.push({ tag: 0x9011, type: 2, text: fields.offsetTimeOriginal });
  const gps: Field[] = [];
  if (fields.gps) {
    const { latitude, longitude, altitude } = fields.gps;
    gps.push(
      { tag: 0x0000, type: 1, values: [2, 3, 0, 0] },
      { tag: 0x0001, type: 2, text: latitude < 0 ? 'S' : 'N' },
      { tag: 0x0002, type: 5, rationals: dms(latitude) },
      { tag: 0x0003, type: 2, text: longitude < 0 ? 'W' : 'E' },
      { tag: 0x0004, type: 5, rationals: dms(longitude) },
    );
    if (altitude !== undefined) {
      gps.push(
        { tag: 0x0005, type: 1, values: [altitude < 0 ? 1 : 0] },
        { tag: 0x0006, type: 5, rationals: [[Math.round(Math.abs(altitude) * 100), 100]] },
      );
    }
  }
  // The sub-IFD pointers are fixed-size, so IFD0's length is known before their targets are.
  if (exif.length) ifd0.push({ tag: 0x8769, type: 4, values: [0] });
  if (gps.length) ifd0.push({ tag: 0x8825, type: 4, values: [0] });
  const exifAt = 8 + ifdLength(ifd0);
  const gpsAt = exifAt + (exif.length ? ifdLength(exif) : 0);
  for (const field of ifd0) {
    if (field.tag === 0x8769 && field.type === 4) field.values = [exifAt];
    if (field.tag === 0x8825 && field.type === 4) field.values = [gpsAt];
  }
  const parts = [
    new Uint8Array([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]),
    ifd(ifd0, 8),
    exif.length ? ifd(exif, exifAt) : new Uint8Array(),
    gps.length ? ifd(gps, gpsAt) : new Uint8Array(),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** One frame of a video, `seconds` in, as 8-bit grey bytes (width × height). */
export async function greyFrame(path: string, seconds: number): Promise<Buffer> {
  const bin = process.env.FFMPEG_PATH ?? 'ffmpeg';
  const args = ['-v', 'error', '-ss', String(seconds), '-i', path, '-frames:v', '1'];
  const { stdout } = await run(bin, [...args, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], {
    encoding: 'buffer',
    maxBuffer: 1 << 24,
  });
  return stdout;
}

/** Mean absolute difference of two grey frames `width` wide over a pixel rectangle. */
export function meanDifference(
  a: Buffer,
  b: Buffer,
  width: number,
  box: { x: number; y: number; w: number; h: number },
): number {
  let sum = 0;
  for (let y = box.y; y < box.y + box.h; y++) {
    for (let x = box.x; x < box.x + box.w; x++) {
      sum += Math.abs((a[y * width + x] ?? 0) - (b[y * width + x] ?? 0));
    }
  }
  return sum / (box.w * box.h);
}
