import { randomBytes, timingSafeEqual } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import { MIN_PASSWORD_LENGTH } from '../../web/lib/shared/auth-schemas.ts';

/**
 * Password hashing with Argon2id, stored as PHC strings
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, unpadded standard base64) so that any other
 * Argon2 implementation can read them, and so that each stored hash carries the parameters it
 * was made with and can be upgraded on the next successful login (`needsRehash`).
 */

/** OWASP Password Storage Cheat Sheet, first Argon2id recommendation (19 MiB, 2 passes, 1 lane). */
const CURRENT = { memoryKiB: 19456, iterations: 2, parallelism: 1, hashBytes: 32, saltBytes: 16 };

/**
 * What `verifyPassword` is willing to compute for a stored hash. A tampered or corrupted row
 * must not be able to make one login attempt allocate gigabytes or run for minutes; anything
 * beyond these is refused unheard rather than computed. The limits leave room for several
 * future raises of the current parameters.
 */
const LIMITS = {
  maxMemoryKiB: 1024 * 1024,
  maxIterations: 20,
  maxParallelism: 16,
  saltBytes: { min: 8, max: 64 },
  hashBytes: { min: 16, max: 64 },
};

/** NIST SP 800-63B: a length floor and a generous ceiling, no composition rules. */
export { MIN_PASSWORD_LENGTH };
export const MAX_PASSWORD_LENGTH = 256;

interface Argon2idParams {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  salt: Buffer;
  hash: Buffer;
}

export async function hashPassword(password: string): Promise<string> {
  return argon2id({
    password: normalize(password),
    salt: randomBytes(CURRENT.saltBytes),
    memorySize: CURRENT.memoryKiB,
    iterations: CURRENT.iterations,
    parallelism: CURRENT.parallelism,
    hashLength: CURRENT.hashBytes,
    outputType: 'encoded',
  });
}

/**
 * True only when `password` is the one `encoded` was made from. Never throws: a stored value
 * that cannot be read, or that asks for more work than `LIMITS` allow, is simply no match.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const params = parsePhc(encoded);
  if (!params || typeof password !== 'string') return false;
  let computed: Uint8Array;
  try {
    computed = await argon2id({
      password: normalize(password),
      salt: params.salt,
      memorySize: params.memoryKiB,
      iterations: params.iterations,
      parallelism: params.parallelism,
      hashLength: params.hash.length,
      outputType: 'binary',
    });
  } catch {
    return false;
  }
  return computed.length === params.hash.length && timingSafeEqual(computed, params.hash);
}

/**
 * True when `encoded` was made with weaker settings than new hashes get (or cannot be read), so
 * the caller should store `hashPassword(password)` after the next successful `verifyPassword`.
 */
export function needsRehash(encoded: string): boolean {
  const params = parsePhc(encoded);
  if (!params) return true;
  return (
    params.memoryKiB < CURRENT.memoryKiB ||
    params.iterations < CURRENT.iterations ||
    params.hash.length < CURRENT.hashBytes ||
    params.salt.length < CURRENT.saltBytes
  );
}

/** What is wrong with `password` as a new password, said for the person choosing it; undefined if nothing. */
export function passwordProblem(password: string): string | undefined {
  // Counted in code points of the NFC form, as NIST asks, so an accented letter or an emoji is
  // one character however it was typed.
  const length = [...normalize(password)].length;
  if (/^\s*$/u.test(password)) return 'The password cannot be empty or only spaces.';
  if (length < MIN_PASSWORD_LENGTH) {
    return `The password must be at least ${MIN_PASSWORD_LENGTH} characters long (it has ${length}). A few unrelated words make a long password that is easy to remember.`;
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return `The password must be at most ${MAX_PASSWORD_LENGTH} characters long (it has ${length}).`;
  }
  return undefined;
}

/**
 * The same password typed on a Mac (often NFD) and on Windows (NFC) must be the same bytes,
 * or a user could not log in from the other machine.
 */
function normalize(password: string): string {
  return password.normalize('NFC');
}

const PHC_ARGON2ID =
  /^\$argon2id\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parsePhc(encoded: string): Argon2idParams | undefined {
  if (typeof encoded !== 'string' || encoded.length > 512) return undefined;
  const match = PHC_ARGON2ID.exec(encoded);
  if (!match) return undefined;
  const [, m = '', t = '', p = '', saltB64 = '', hashB64 = ''] = match;
  const memoryKiB = Number(m);
  const iterations = Number(t);
  const parallelism = Number(p);
  if (iterations < 1 || iterations > LIMITS.maxIterations) return undefined;
  if (parallelism < 1 || parallelism > LIMITS.maxParallelism) return undefined;
  // Argon2 needs at least 8 KiB per lane.
  if (memoryKiB < 8 * parallelism || memoryKiB > LIMITS.maxMemoryKiB) return undefined;
  const salt = decodeB64(saltB64);
  const hash = decodeB64(hashB64);
  if (!salt || salt.length < LIMITS.saltBytes.min || salt.length > LIMITS.saltBytes.max) {
    return undefined;
  }
  if (!hash || hash.length < LIMITS.hashBytes.min || hash.length > LIMITS.hashBytes.max) {
    return undefined;
  }
  return { memoryKiB, iterations, parallelism, salt, hash };
}

/**
 * Node's base64 decoder skips what it cannot read instead of failing, so a value is accepted
 * only if it is the exact unpadded encoding of what it decodes to.
 */
function decodeB64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64').replace(/=+$/, '') === text ? bytes : undefined;
}
