// Browser-safe: no Node built-ins. The PWA signs device log entries with this code and the server
// checks them with it; both use Web Crypto (globalThis.crypto in browsers and in Node 20).
import { z } from 'zod';
import { canonicalJson, GENESIS_HASH } from './audit-chain.ts';

/**
 * A device's own custody log. Each browser a user signs in on holds an ECDSA P-256 key pair whose
 * private half never leaves it (non-extractable, in IndexedDB). What the person does with evidence
 * on that device, online or not, becomes an entry: numbered, chained to the entry before by its
 * SHA-256, and signed. The server accepts a device's entries only in order, only signed by the key
 * registered for that device, and copies them into its own audit trail with both times.
 */

export const DEVICE_LOG_VERSION = 1;

/** What a device records. `evidence.added` is the custody record made before any upload. */
export const DEVICE_ACTIONS = [
  'evidence.added',
  'evidence.viewed',
  'evidence.exported',
  'case.changed',
  'annotation.changed',
] as const;
export type DeviceAction = (typeof DEVICE_ACTIONS)[number];

const SHA256_HEX = /^[0-9a-f]{64}$/;
const ID = /^[A-Za-z0-9_-]{8,64}$/;
/** RFC 7638 thumbprint of the device's public key: 43 base64url characters. */
const DEVICE_ID = /^[A-Za-z0-9_-]{43}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

const location = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  altitude: z.number().finite().optional(),
  accuracy: z.number().nonnegative().finite().optional(),
  /** Where the position came from: the file's own metadata or the device's position. */
  source: z.enum(['file', 'device']),
});

/** The custody record: what the device held, as it first held it. */
export const custodyRecordDetails = z.strictObject({
  sha256: z.string().regex(SHA256_HEX, 'sha256 must be 64 lowercase hexadecimal digits'),
  size: z.number().int().nonnegative(),
  name: z.string().max(1024),
  type: z.string().max(255),
  /** The file's own modification time, as the device's file system gave it. */
  lastModified: z.string().max(40).optional(),
  /** When the file says it was recorded (EXIF, container headers). */
  capturedAt: z.string().max(40).optional(),
  camera: z.string().max(200).optional(),
  location: location.optional(),
  /** Picked from storage, or recorded on this device. */
  source: z.enum(['file', 'capture']),
});
export type CustodyRecordDetails = z.infer<typeof custodyRecordDetails>;

const detailsByAction: Record<DeviceAction, z.ZodType<Record<string, unknown>>> = {
  'evidence.added': custodyRecordDetails,
  'evidence.viewed': z.strictObject({
    sha256: z.string().regex(SHA256_HEX).optional(),
    /** Played from the server, or from the copy this device holds. */
    from: z.enum(['server', 'device']),
  }),
  'evidence.exported': z.strictObject({
    sha256: z.string().regex(SHA256_HEX).optional(),
    filename: z.string().max(1024),
  }),
  'case.changed': z.strictObject({
    fields: z.array(z.string().max(40)).max(20),
  }),
  'annotation.changed': z.strictObject({
    annotation: z.string().regex(ID),
    change: z.enum(['added', 'edited', 'removed']),
  }),
};

/** An entry before it is hashed and signed. */
export interface UnsignedDeviceEntry {
  v: typeof DEVICE_LOG_VERSION;
  device: string;
  seq: number;
  /** `hash` of the entry before on this device, or GENESIS_HASH. */
  prev: string;
  /** The device's clock, ISO 8601. */
  time: string;
  user: string;
  action: DeviceAction;
  case?: string;
  evidence?: string;
  details: Record<string, unknown>;
}

export interface DeviceEntry extends UnsignedDeviceEntry {
  /** SHA-256 (hex) of `deviceEntryPayload`. */
  hash: string;
  /** ECDSA P-256 / SHA-256 over the payload's UTF-8 bytes, IEEE P1363 (r‖s), base64url. */
  signature: string;
}

export const deviceEntrySchema = z
  .strictObject({
    v: z.literal(DEVICE_LOG_VERSION),
    device: z.string().regex(DEVICE_ID, 'device must be a key thumbprint'),
    seq: z.number().int().nonnegative(),
    prev: z.string().regex(SHA256_HEX),
    time: z.iso.datetime({ offset: true }),
    user: z.string().min(1).max(64),
    action: z.enum(DEVICE_ACTIONS),
    case: z.string().regex(ID).optional(),
    evidence: z.string().regex(ID).optional(),
    details: z.record(z.string(), z.unknown()),
    hash: z.string().regex(SHA256_HEX),
    signature: z.string().regex(B64URL).max(200),
  })
  .superRefine((entry, ctx) => {
    const details = detailsByAction[entry.action].safeParse(entry.details);
    if (!details.success) {
      ctx.addIssue({
        code: 'custom',
        path: ['details'],
        message: `${entry.action} details: ${details.error.issues[0]?.message ?? 'invalid'}`,
      });
    }
    if (entry.action.startsWith('evidence.') && (!entry.case || !entry.evidence)) {
      ctx.addIssue({ code: 'custom', message: `${entry.action} must name its case and evidence` });
    }
    if (entry.action !== 'evidence.added' && entry.action !== 'case.changed' && !entry.case) {
      ctx.addIssue({ code: 'custom', message: `${entry.action} must name its case` });
    }
  });

/** A batch of a device's entries, oldest first, as the PWA sends them. */
export const deviceLogBatch = z.object({
  entries: z.array(deviceEntrySchema).min(1).max(500),
});

export const publicKeyJwk = z.object({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().regex(B64URL).length(43),
  y: z.string().regex(B64URL).length(43),
});
export type DevicePublicKey = z.infer<typeof publicKeyJwk>;

export const registerDeviceRequest = z.object({
  publicKey: publicKeyJwk,
  /** What the person calls the device, or what the browser says it is. */
  label: z.string().trim().min(1).max(120),
  /** When the key was made, on the device's clock. */
  createdAt: z.iso.datetime({ offset: true }),
  /** Proof of possession: the key's signature over `registrationPayload`. */
  proof: z.string().regex(B64URL).max(200),
});
export type RegisterDeviceRequest = z.infer<typeof registerDeviceRequest>;

export interface DeviceView {
  id: string;
  label: string;
  registeredAt: string;
  createdAt: string;
  revokedAt?: string;
  /** Entries the server holds from it. */
  entries: number;
  lastSeenAt?: string;
}

export const ECDSA_KEY: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SIGN: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

export { GENESIS_HASH };

export function deviceEntryPayload(entry: UnsignedDeviceEntry): string {
  return canonicalJson({
    v: entry.v,
    device: entry.device,
    seq: entry.seq,
    prev: entry.prev,
    time: entry.time,
    user: entry.user,
    action: entry.action,
    case: entry.case,
    evidence: entry.evidence,
    details: entry.details,
  });
}

/** What a device signs to show the server it holds the key it registers, for this user. */
export function registrationPayload(input: {
  user: string;
  device: string;
  createdAt: string;
}): string {
  return canonicalJson({ purpose: 'exhibit-device-registration', ...input });
}

const encoder = new TextEncoder();

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text));
  return hex(new Uint8Array(digest));
}

/** RFC 7638: the device id is the SHA-256 thumbprint of its public key. */
export async function deviceIdOf(key: DevicePublicKey): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    encoder.encode(canonicalJson({ crv: key.crv, kty: key.kty, x: key.x, y: key.y })),
  );
  return base64url(new Uint8Array(digest));
}

export async function signText(privateKey: CryptoKey, text: string): Promise<string> {
  const signature = await crypto.subtle.sign(ECDSA_SIGN, privateKey, encoder.encode(text));
  return base64url(new Uint8Array(signature));
}

export async function verifyText(
  publicKey: CryptoKey,
  text: string,
  signature: string,
): Promise<boolean> {
  const bytes = fromBase64url(signature);
  if (!bytes) return false;
  return crypto.subtle
    .verify(ECDSA_SIGN, publicKey, bytes, encoder.encode(text))
    .catch(() => false);
}

/** A new device key pair; the private half cannot be exported, ever. */
export async function generateDeviceKey(): Promise<{
  deviceId: string;
  privateKey: CryptoKey;
  publicKey: DevicePublicKey;
}> {
  const pair = await crypto.subtle.generateKey(ECDSA_KEY, false, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  if (!jwk.x || !jwk.y) throw new Error('the browser gave a public key without coordinates');
  const publicKey: DevicePublicKey = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  return { deviceId: await deviceIdOf(publicKey), privateKey: pair.privateKey, publicKey };
}

export function importDeviceKey(key: DevicePublicKey): Promise<CryptoKey> {
  return crypto.subtle.importKey('jwk', { ...key, ext: true }, ECDSA_KEY, true, ['verify']);
}

/** Hashes and signs the next entry of a device's log. */
export async function sealDeviceEntry(
  unsigned: UnsignedDeviceEntry,
  privateKey: CryptoKey,
): Promise<DeviceEntry> {
  const payload = deviceEntryPayload(unsigned);
  const [hash, signature] = await Promise.all([sha256Hex(payload), signText(privateKey, payload)]);
  return { ...unsigned, hash, signature };
}

/**
 * Why an entry does not continue a device's chain where it stands, or undefined when it does:
 * its number, its link, its hash and its signature are all checked.
 */
export async function deviceEntryProblem(
  entry: DeviceEntry,
  expected: { seq: number; prev: string; device: string; user: string },
  publicKey: CryptoKey,
): Promise<string | undefined> {
  if (entry.device !== expected.device) {
    return `entry ${entry.seq} is from device ${entry.device.slice(0, 12)}…, not this one`;
  }
  if (entry.seq !== expected.seq) {
    return `entry ${entry.seq} came where entry ${expected.seq} was expected`;
  }
  if (entry.prev !== expected.prev) {
    return `entry ${entry.seq} does not link to entry ${entry.seq - 1} as the server holds it`;
  }
  if (entry.user !== expected.user) {
    return `entry ${entry.seq} names another user than the one this device is registered to`;
  }
  const payload = deviceEntryPayload(entry);
  if ((await sha256Hex(payload)) !== entry.hash) {
    return `entry ${entry.seq} does not hash to the hash it carries`;
  }
  if (!(await verifyText(publicKey, payload, entry.signature))) {
    return `entry ${entry.seq} is not signed by this device's key`;
  }
  return undefined;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
