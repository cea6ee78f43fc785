import { InvalidKey } from '../errors.ts';

/**
 * Blob keys are '/'-joined segments drawn from a deliberately small alphabet, so the same key is
 * a safe relative path on every filesystem and a safe S3 object name with no escaping at all.
 * Anything outside it is refused rather than escaped: keys are built by the server, never typed
 * by users, so a strange key is a bug worth surfacing.
 *
 * One rule cannot be checked here because it relates keys to each other: a key must never be
 * a whole-segment prefix of another ('a' and 'a/b'). MinIO stores and serves both, but its
 * listings silently leave out everything under 'a/' once 'a' exists. Key schemes such as
 * `sha256/<hex>` and `cases/<id>/…` never produce such pairs.
 */
const SEGMENT_CHARS = /^[A-Za-z0-9._-]+$/;
const MAX_SEGMENT_LENGTH = 255;
const MAX_KEY_LENGTH = 1024;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export function encodeBlobKey(segments: string[]): string {
  if (segments.length === 0) throw new InvalidKey('Invalid blob key: it has no segments');
  segments.forEach((segment, index) => assertValidSegment(segment, index, segments.join('/')));
  const key = segments.join('/');
  assertKeyLength(key);
  return key;
}

export function decodeBlobKey(key: string): string[] {
  assertValidKey(key);
  return key.split('/');
}

export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new InvalidKey('Invalid blob key: it is empty');
  assertKeyLength(key);
  key.split('/').forEach((segment, index) => assertValidSegment(segment, index, key));
}

/**
 * A list prefix is a key cut anywhere: whole segments, optionally followed by '/' or by the start
 * of a segment ('sha256/ab'). The empty prefix lists everything.
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  assertKeyLength(prefix);
  const segments = prefix.split('/');
  const partial = segments.pop() ?? '';
  segments.forEach((segment, index) => assertValidSegment(segment, index, prefix));
  if (partial !== '' && !SEGMENT_CHARS.test(partial)) {
    throw new InvalidKey(
      `Invalid blob key prefix ${JSON.stringify(prefix)}: its last part may only contain A-Z, a-z, 0-9, '.', '_' and '-'`,
    );
  }
}

/** The content address of an evidence original: `sha256/<64 lowercase hex digits>`. */
export function sha256Key(hex: string): string {
  if (typeof hex !== 'string' || !SHA256_HEX.test(hex)) {
    throw new InvalidKey(
      `Invalid SHA-256 digest ${JSON.stringify(String(hex).slice(0, 80))}: expected 64 hexadecimal digits`,
    );
  }
  return `sha256/${hex.toLowerCase()}`;
}

function assertValidSegment(segment: string, index: number, key: string): void {
  const where = `Invalid blob key ${JSON.stringify(key.slice(0, 200))}: segment ${index + 1}`;
  if (typeof segment !== 'string' || segment === '') throw new InvalidKey(`${where} is empty`);
  if (segment === '.' || segment === '..') {
    throw new InvalidKey(`${where} is ${JSON.stringify(segment)}, which is not allowed`);
  }
  if (segment.length > MAX_SEGMENT_LENGTH) {
    throw new InvalidKey(
      `${where} is ${segment.length} characters long (at most ${MAX_SEGMENT_LENGTH})`,
    );
  }
  if (!SEGMENT_CHARS.test(segment)) {
    throw new InvalidKey(
      `${where} contains ${describeBadChar(segment)}; only A-Z, a-z, 0-9, '.', '_' and '-' are allowed`,
    );
  }
}

function assertKeyLength(key: string): void {
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidKey(
      `Invalid blob key: it is ${key.length} characters long (at most ${MAX_KEY_LENGTH})`,
    );
  }
}

function describeBadChar(segment: string): string {
  const bad = [...segment].find((char) => !SEGMENT_CHARS.test(char)) ?? '';
  return `the character ${JSON.stringify(bad)}`;
}
