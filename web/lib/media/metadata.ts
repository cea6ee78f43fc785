// Browser-safe: no Node built-ins. Runs in the PWA (and in Node for the tests) on files of any
// size, reading only the headers it needs through Blob.slice.
import type { MetadataTags } from 'mediabunny';
import type { EvidenceMetadata } from '../shared/case-doc.ts';
import { attempt, untilAborted } from './abortable.ts';

/**
 * What a file says about itself. The case document stores it as it is, so its shape is defined
 * once, beside the rest of that document's schema.
 */
export type MediaMetadata = EvidenceMetadata;

/**
 * What can be learnt from the file's own bytes, whatever its name or MIME type says. Never
 * throws for a file it cannot read (corrupt, unknown, empty): it returns what it found, `{}` at
 * worst. Rejects only with the signal's reason once `signal` is aborted.
 */
export async function readMediaMetadata(
  file: Blob,
  options: { signal?: AbortSignal } = {},
): Promise<MediaMetadata> {
  const { signal } = options;
  signal?.throwIfAborted();
  if (file.size === 0) return {};
  // Metadata is a convenience for the person adding the file: a file that defeats the readers
  // is still evidence, and is stored without it rather than refused.
  const read = async () => {
    const head = await readBytes(file, 0, HEAD_SIZES[0]);
    return IMAGE_SIGNATURES.some((matches) => matches(head))
      ? await readImageMetadata(file, head, signal)
      : await readAudioVideoMetadata(file, signal);
  };
  const found = await attempt(() => untilAborted(read(), signal), signal);
  return found ?? {};
}

// Enough for the headers of nearly every photo; a few cameras put large previews before the
// frame header of a JPEG, so a failed read is retried with more, but never the whole file.
const HEAD_SIZES = [64 * 1024, 1024 * 1024, 4 * 1024 * 1024] as const;

async function readBytes(file: Blob, start: number, length: number): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(start, start + length).arrayBuffer());
}

function startsWith(bytes: Uint8Array, at: number, expected: string): boolean {
  for (let i = 0; i < expected.length; i++) {
    if (bytes[at + i] !== expected.charCodeAt(i)) return false;
  }
  return true;
}

/** The still-image formats photos and screenshots come in; anything else goes to mediabunny. */
const IMAGE_SIGNATURES: ((head: Uint8Array) => boolean)[] = [
  (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff, // JPEG
  (b) => startsWith(b, 0, '\x89PNG\r\n\x1a\n'),
  (b) => startsWith(b, 0, 'GIF8'),
  (b) => startsWith(b, 0, 'RIFF') && startsWith(b, 8, 'WEBP'),
  (b) => startsWith(b, 0, 'II*\0') || startsWith(b, 0, 'MM\0*'), // TIFF, and raw formats built on it
  // HEIF/AVIF stills; an MP4 or QuickTime brand falls through to mediabunny.
  (b) => startsWith(b, 4, 'ftyp') && /^(heic|heix|hevc|hevx|mif1|msf1|avif)$/.test(latin1(b, 8, 4)),
];

function latin1(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

// ---------------------------------------------------------------------------------------------
// Photos

async function readImageMetadata(
  file: Blob,
  head: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<MediaMetadata> {
  const size = await attempt(() => imageDimensions(file, head, signal), signal);
  const exif = await attempt(() => readExif(file, signal), signal);
  const result: MediaMetadata = {};
  const orientation = numberOr(exif?.Orientation) ?? size?.orientation;
  if (size) {
    // Orientations 5 to 8 turn the picture a quarter: it is shown with the sides swapped.
    const turned = orientation !== undefined && orientation >= 5 && orientation <= 8;
    result.width = turned ? size.height : size.width;
    result.height = turned ? size.width : size.height;
  }
  if (!exif) return result;
  const capturedAt =
    exifDate(exif.DateTimeOriginal, exif.OffsetTimeOriginal) ??
    exifDate(exif.CreateDate, exif.OffsetTimeDigitized);
  if (capturedAt) result.capturedAt = capturedAt;
  const altitude = numberOr(exif.GPSAltitude);
  // GPSAltitudeRef is a BYTE tag, which exifr gives as a one-byte array: 1 is below sea level.
  const ref = exif.GPSAltitudeRef;
  const belowSea = ref === 1 || (ref instanceof Uint8Array && ref[0] === 1);
  const location = validLocation(
    numberOr(exif.latitude),
    numberOr(exif.longitude),
    altitude === undefined ? undefined : belowSea ? -altitude : altitude,
  );
  if (location) result.location = location;
  const camera = cameraName(exif.Make, exif.Model);
  if (camera) result.camera = camera;
  return result;
}

async function imageDimensions(
  file: Blob,
  head: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<{ width: number; height: number; orientation?: number } | undefined> {
  const { imageSize } = await import('image-size');
  let bytes = head;
  for (const length of HEAD_SIZES) {
    signal?.throwIfAborted();
    if (bytes.length < length && bytes.length < file.size) bytes = await readBytes(file, 0, length);
    try {
      const { width, height, orientation } = imageSize(bytes);
      return isDimension(width) && isDimension(height) ? { width, height, orientation } : undefined;
    } catch {
      // The frame header lies beyond what was read: read further, up to the last head size.
    }
    if (bytes.length >= file.size) return undefined;
  }
  return undefined;
}

/** The EXIF tags read here, as exifr names them (values neither translated nor revived). */
interface ExifTags {
  Make?: unknown;
  Model?: unknown;
  Orientation?: unknown;
  DateTimeOriginal?: unknown;
  OffsetTimeOriginal?: unknown;
  CreateDate?: unknown;
  OffsetTimeDigitized?: unknown;
  GPSAltitude?: unknown;
  GPSAltitudeRef?: unknown;
  /** Decimal degrees, which exifr works out from the GPS tags and their N/S/E/W references. */
  latitude?: unknown;
  longitude?: unknown;
}

const EXIF_OPTIONS = {
  pick: [
    'Make',
    'Model',
    'Orientation',
    'DateTimeOriginal',
    'OffsetTimeOriginal',
    'CreateDate',
    'OffsetTimeDigitized',
    'GPSLatitude',
    'GPSLatitudeRef',
    'GPSLongitude',
    'GPSLongitudeRef',
    'GPSAltitude',
    'GPSAltitudeRef',
  ],
  // Dates stay as written: exifr would revive them in the local zone of whoever uploads.
  reviveValues: false,
  translateValues: false,
  xmp: false,
  icc: false,
  iptc: false,
  jfif: false,
  ihdr: false,
  silentErrors: true,
  chunked: true,
  firstChunkSize: 64 * 1024,
  chunkSize: 64 * 1024,
  chunkLimit: 5,
};

/** The parts of exifr used here, which its type declarations describe only loosely. */
interface Exifr {
  Exifr: new (options: object) => {
    options: object;
    file: unknown;
    parse(): Promise<ExifTags | undefined>;
  };
  fileReaders: Map<string, new (input: Blob, options: object) => ExifrChunkedReader>;
}

interface ExifrChunkedReader {
  input: Blob;
  read(): Promise<void>;
  set(chunk: ArrayBuffer, offset: number, extend: boolean): unknown;
}

async function readExif(file: Blob, signal: AbortSignal | undefined): Promise<ExifTags> {
  const exifr = (await import('exifr')).default as unknown as Exifr;
  const BlobReader = exifr.fileReaders.get('blob');
  if (!BlobReader) throw new Error('exifr was built without its blob reader');
  // exifr reads a Blob in chunks only where FileReader and `navigator` exist; slicing it here
  // reads the same few chunks in the browser, in a worker and in Node alike.
  class SlicedBlobReader extends BlobReader {
    async _readChunk(offset: number, length?: number): Promise<unknown> {
      signal?.throwIfAborted();
      const end = length ? offset + length : undefined;
      return this.set(await this.input.slice(offset, end).arrayBuffer(), offset, true);
    }
  }
  const parser = new exifr.Exifr(EXIF_OPTIONS);
  const reader = new SlicedBlobReader(file, parser.options);
  await reader.read();
  parser.file = reader;
  return (await parser.parse()) ?? {};
}

/** "2024:05:01 10:20:30" (and an optional "+02:00") as ISO 8601, or undefined if no real date. */
function exifDate(value: unknown, offset: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const local = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
  // Unset dates are written as zeros, and "2024:02:30" is no day at all: keep only a date that
  // reads back as written.
  const date = new Date(`${local}Z`);
  if (Number(y) < 1900 || Number.isNaN(date.getTime())) return undefined;
  if (date.toISOString().slice(0, 19) !== local) return undefined;
  const zone = typeof offset === 'string' ? offset.trim() : '';
  return /^[+-](0\d|1[0-4]):[0-5]\d$/.test(zone) ? `${local}${zone}` : local;
}

function cameraName(make: unknown, model: unknown): string | undefined {
  const clean = (v: unknown) => (typeof v === 'string' ? v.replace(/\0/g, '').trim() : '');
  const m = clean(make);
  const name = clean(model);
  // Many cameras repeat the maker in the model ("Canon" / "Canon EOS R5").
  if (m && name.toLowerCase().startsWith(m.toLowerCase())) return name;
  return [m, name].filter(Boolean).join(' ') || undefined;
}

// ---------------------------------------------------------------------------------------------
// Audio and video

async function readAudioVideoMetadata(
  file: Blob,
  signal: AbortSignal | undefined,
): Promise<MediaMetadata> {
  const media = await import('./media-input.ts');
  return media.withMediaInput(file, signal, async (input) => {
    const format = await attempt(() => input.getFormat(), signal);
    if (!format) return {};
    const result: MediaMetadata = {};
    const duration = await attempt(
      async () => (await input.getDurationFromMetadata()) ?? (await input.computeDuration()),
      signal,
    );
    if (duration !== undefined && Number.isFinite(duration) && duration > 0) {
      result.durationSeconds = duration;
    }
    const video = await attempt(() => input.getPrimaryVideoTrack(), signal);
    if (video) {
      const width = await attempt(() => video.getDisplayWidth(), signal);
      const height = await attempt(() => video.getDisplayHeight(), signal);
      if (isDimension(width) && isDimension(height)) Object.assign(result, { width, height });
      const codec = await attempt(
        async () => (await video.getCodec()) ?? (await video.getCodecParameterString()),
        signal,
      );
      if (codec) result.videoCodec = codec;
      // Worked out from the first frames' timestamps, which the container's index lists.
      const rate = await attempt(
        async () =>
          (await video.computeFrameRateMetrics({ targetPacketCount: 120 })).bestGuessFrameRate,
        signal,
      );
      if (rate !== undefined && Number.isFinite(rate) && rate > 0) {
        result.frameRate = Math.round(rate * 1000) / 1000;
      }
    }
    const audio = await attempt(() => input.getPrimaryAudioTrack(), signal);
    if (audio) {
      const codec = await attempt(
        async () => (await audio.getCodec()) ?? (await audio.getCodecParameterString()),
        signal,
      );
      if (codec) result.audioCodec = codec;
    }
    const tags = (await attempt(() => input.getMetadataTags(), signal)) ?? {};
    const capturedAt =
      recordingDate(tags) ??
      (format instanceof media.IsobmffInputFormat
        ? await attempt(() => isobmffCreationTime(file), signal)
        : format instanceof media.MatroskaInputFormat
          ? await attempt(() => matroskaDateUtc(file), signal)
          : undefined);
    if (capturedAt) result.capturedAt = capturedAt;
    const location = containerLocation(tags.raw ?? {});
    if (location) result.location = location;
    const camera = cameraName(
      tags.raw?.['com.apple.quicktime.make'],
      tags.raw?.['com.apple.quicktime.model'],
    );
    if (camera) result.camera = camera;
    return result;
  });
}

/**
 * The date tag of the file, when it names a moment. A tag that gives only a year or a day
 * ("2019", as music files carry) says when something was released more often than when it was
 * recorded, so it is not taken for the recording time.
 */
function recordingDate(tags: MetadataTags): string | undefined {
  const date = tags.date;
  if (!date || Number.isNaN(date.getTime())) return undefined;
  const midnight =
    date.getUTCHours() === 0 &&
    date.getUTCMinutes() === 0 &&
    date.getUTCSeconds() === 0 &&
    date.getUTCMilliseconds() === 0;
  return midnight ? undefined : date.toISOString();
}

/** Where phones and ffmpeg put the place of recording in MP4/QuickTime files. */
function containerLocation(raw: NonNullable<MetadataTags['raw']>): MediaMetadata['location'] {
  for (const key of ['com.apple.quicktime.location.ISO6709', '©xyz']) {
    const value = raw[key];
    if (typeof value === 'string') {
      const location = iso6709(value);
      if (location) return location;
    }
  }
  const loci = raw['loci'];
  return loci instanceof Uint8Array ? locationBox(loci) : undefined;
}

/**
 * "+48.8584+002.2945+035.000/" (ISO 6709 in decimal degrees, as phones write it). The
 * degrees-and-minutes forms the standard also allows are not guessed at.
 */
function iso6709(value: string): MediaMetadata['location'] {
  const match = /^([+-]\d{2}(?:\.\d+)?)([+-]\d{3}(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?/.exec(
    value.trim(),
  );
  if (!match) return undefined;
  return validLocation(
    Number(match[1]),
    Number(match[2]),
    match[3] === undefined ? undefined : Number(match[3]),
  );
}

/** The 3GPP 'loci' box: language, a name, a role, then 16.16 fixed-point degrees and metres. */
function locationBox(box: Uint8Array): MediaMetadata['location'] {
  const nameEnd = box.indexOf(0, 6);
  const at = nameEnd + 2; // past the name's terminator and the role byte
  if (nameEnd < 0 || at + 12 > box.length) return undefined;
  const view = new DataView(box.buffer, box.byteOffset + at, 12);
  const fixed = (i: number) => view.getInt32(i) / 65536;
  return validLocation(fixed(4), fixed(0), fixed(8));
}

const SECONDS_1904_TO_1970 = 2_082_844_800;

/**
 * The creation time of an MP4/QuickTime movie ('mvhd', seconds since 1904 in UTC), which
 * mediabunny does not expose. Walks box headers only: 'moov' can sit after gigabytes of media.
 */
async function isobmffCreationTime(file: Blob): Promise<string | undefined> {
  const moov = await findBox(file, 0, file.size, 'moov');
  const mvhd = moov && (await findBox(file, moov.start, moov.end, 'mvhd'));
  if (!mvhd) return undefined;
  // Version and flags, then the creation time: 64 bits in version 1, 32 bits before.
  const bytes = await readBytes(file, mvhd.start, 12);
  if (bytes.length < 12) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seconds = view.getUint8(0) === 1 ? Number(view.getBigUint64(4)) : view.getUint32(4);
  // Zero means "not set"; anything before 1970 is a clock that was never set, not a date.
  if (!seconds || seconds <= SECONDS_1904_TO_1970) return undefined;
  return new Date((seconds - SECONDS_1904_TO_1970) * 1000).toISOString();
}

async function findBox(
  file: Blob,
  from: number,
  to: number,
  type: string,
): Promise<{ start: number; end: number } | undefined> {
  let offset = from;
  // A real file has a handful of boxes at each level; a bound keeps a corrupt one from looping.
  for (let i = 0; i < 256 && offset + 8 <= to; i++) {
    const header = await readBytes(file, offset, 16);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    let size = view.getUint32(0);
    let headerSize = 8;
    if (size === 1 && header.length >= 16) {
      size = Number(view.getBigUint64(8));
      headerSize = 16;
    } else if (size === 0) {
      size = to - offset; // the box runs to the end of its parent
    }
    if (size < headerSize) return undefined;
    if (latin1(header, 4, 4) === type) {
      return { start: offset + headerSize, end: Math.min(offset + size, to) };
    }
    offset += size;
  }
  return undefined;
}

const EBML_SEGMENT = 0x18538067;
const EBML_INFO = 0x1549a966;
const EBML_DATE_UTC = 0x4461;
const EBML_CLUSTER = 0x1f43b675;

/**
 * The Matroska/WebM 'DateUTC' (nanoseconds since 2001 in UTC), which mediabunny does not expose.
 * It sits in the segment's Info element, before the first cluster of media.
 */
async function matroskaDateUtc(file: Blob): Promise<string | undefined> {
  const ebmlHeader = await readElementHeader(file, 0);
  if (!ebmlHeader) return undefined;
  const segment = await readElementHeader(file, ebmlHeader.dataStart + ebmlHeader.size);
  if (!segment || segment.id !== EBML_SEGMENT) return undefined;
  let offset = segment.dataStart;
  for (let i = 0; i < 64 && offset < file.size; i++) {
    const element = await readElementHeader(file, offset);
    if (!element || element.id === EBML_CLUSTER || !Number.isFinite(element.size)) return undefined;
    if (element.id === EBML_INFO) {
      const info = await readBytes(file, element.dataStart, Math.min(element.size, 64 * 1024));
      return dateUtcIn(info);
    }
    offset = element.dataStart + element.size;
  }
  return undefined;
}

function dateUtcIn(info: Uint8Array): string | undefined {
  let offset = 0;
  while (offset < info.length) {
    const element = elementHeaderIn(info, offset);
    if (!element || !Number.isFinite(element.size)) return undefined;
    if (element.id === EBML_DATE_UTC && element.size === 8) {
      const view = new DataView(info.buffer, info.byteOffset + element.dataStart, 8);
      const ms = Date.UTC(2001, 0, 1) + Number(view.getBigInt64(0) / 1_000_000n);
      return ms > 0 && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
    }
    offset = element.dataStart + element.size;
  }
  return undefined;
}

interface ElementHeader {
  id: number;
  /** Infinity for an element of unknown size (a live recording's segment). */
  size: number;
  dataStart: number;
}

async function readElementHeader(file: Blob, offset: number): Promise<ElementHeader | undefined> {
  const element = elementHeaderIn(await readBytes(file, offset, 12), 0);
  return element && { ...element, dataStart: offset + element.dataStart };
}

/** An EBML element's ID (marker bits kept, as the spec lists them) and its data size. */
function elementHeaderIn(bytes: Uint8Array, offset: number): ElementHeader | undefined {
  const id = variableInt(bytes, offset, 4);
  const size = id && variableInt(bytes, offset + id.length, 8);
  if (!id || !size) return undefined;
  const unknown = size.value === 2 ** (7 * size.length) - 1;
  return {
    id: id.raw,
    size: unknown ? Infinity : size.value,
    dataStart: offset + id.length + size.length,
  };
}

function variableInt(
  bytes: Uint8Array,
  offset: number,
  maxLength: number,
): { length: number; raw: number; value: number } | undefined {
  const first = bytes[offset];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (length > maxLength || offset + length > bytes.length) return undefined;
  let raw = first;
  let value = first & (0xff >> length); // the length marker is not part of the value
  for (let i = 1; i < length; i++) {
    raw = raw * 256 + bytes[offset + i]!;
    value = value * 256 + bytes[offset + i]!;
  }
  return { length, raw, value };
}

// ---------------------------------------------------------------------------------------------
// Shared

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function isDimension(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 1 << 20;
}

function validLocation(
  latitude: number | undefined,
  longitude: number | undefined,
  altitude: number | undefined,
): MediaMetadata['location'] {
  if (latitude === undefined || longitude === undefined) return undefined;
  if (!Number.isFinite(latitude) || Math.abs(latitude) > 90) return undefined;
  if (!Number.isFinite(longitude) || Math.abs(longitude) > 180) return undefined;
  // Exactly 0,0 is what receivers write before they have a fix, not a place in the sea.
  if (latitude === 0 && longitude === 0) return undefined;
  const location: NonNullable<MediaMetadata['location']> = { latitude, longitude };
  if (altitude !== undefined && Number.isFinite(altitude)) location.altitude = altitude;
  return location;
}
