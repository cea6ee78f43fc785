import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  SignJWT,
  calculateJwkThumbprint,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWK_OKP_Private,
  type JWK_OKP_Public,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { isRole, type Role } from '../../web/lib/shared/roles.ts';
import { ExhibitError } from '../errors.ts';

/**
 * Short-lived access tokens: JWTs signed with one Ed25519 key that this server creates on first
 * start and keeps in `<keyDir>/token-signing-key.json`. Anything that only needs to check tokens
 * (the sync server) gets the public half from `publicJwks()` and never sees the private key.
 */

export const SIGNING_KEY_FILE = 'token-signing-key.json';
const ALGORITHM = 'EdDSA';
/** Our tokens are a few hundred characters; anything far longer is refused before any parsing. */
export const MAX_TOKEN_LENGTH = 4096;
/** Allowance for clocks of the signing and the checking machine disagreeing slightly. */
const CLOCK_TOLERANCE_SECONDS = 5;

export interface AccessClaims {
  /** User id. */
  sub: string;
  /** The user's organisation role when the token was issued. */
  role: Role;
  /** Session id, so that revoking a session can refuse its tokens. */
  sid: string;
}

export type VerifiedAccess = AccessClaims & { exp: number };

export interface TokenServiceOptions {
  keyDir: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
}

/** The caller's token cannot be accepted; the message says why, for the client's developer. */
export class InvalidToken extends ExhibitError {
  override readonly status = 401;
  override readonly code = 'invalid_token';
}

/** The stored signing key cannot be read or used; the server must not start with it. */
export class SigningKeyUnusable extends ExhibitError {
  override readonly code = 'signing_key_unusable';
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK_OKP_Public;
}

export class TokenService {
  readonly #key: SigningKey;
  readonly #issuer: string;
  readonly #audience: string;
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  private constructor(key: SigningKey, options: TokenServiceOptions) {
    this.#key = key;
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#ttlSeconds = options.ttlSeconds;
    this.#now = options.now ?? Date.now;
  }

  static async open(options: TokenServiceOptions): Promise<TokenService> {
    if (!isNonEmptyString(options.issuer)) throw new TypeError('issuer must be a non-empty string');
    if (!isNonEmptyString(options.audience)) {
      throw new TypeError('audience must be a non-empty string');
    }
    if (!Number.isSafeInteger(options.ttlSeconds) || options.ttlSeconds <= 0) {
      throw new TypeError(`ttlSeconds must be a positive whole number, not ${options.ttlSeconds}`);
    }
    return new TokenService(await loadOrCreateKey(resolve(options.keyDir)), options);
  }

  /** RFC 7638 thumbprint of the signing key, sent as `kid` in every token header. */
  get kid(): string {
    return this.#key.kid;
  }

  async sign(claims: AccessClaims): Promise<string> {
    // A programming error, not a client's: refuse loudly rather than issue a token verify() rejects.
    if (!isNonEmptyString(claims.sub)) throw new TypeError('sub must be a non-empty string');
    if (!isNonEmptyString(claims.sid)) throw new TypeError('sid must be a non-empty string');
    if (!isRole(claims.role)) throw new TypeError(`${String(claims.role)} is not a role`);
    const issuedAt = Math.floor(this.#now() / 1000);
    return new SignJWT({ role: claims.role, sid: claims.sid })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.#key.kid, typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuer(this.#issuer)
      .setAudience(this.#audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.#ttlSeconds)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(this.#key.privateKey);
  }

  /** The claims of a token this server issued and that is still valid; otherwise `InvalidToken`. */
  async verify(token: string | undefined): Promise<VerifiedAccess> {
    if (token === undefined || token === '') throw new InvalidToken('missing token');
    if (typeof token !== 'string') throw new InvalidToken('malformed token: not a string');
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidToken(`malformed token: longer than ${MAX_TOKEN_LENGTH} characters`);
    }
    // jose decodes leniently (whitespace, padding, stray low bits), which would let one token be
    // respelled in many ways that all verify; a token is accepted in its one canonical spelling.
    const segments = token.split('.');
    if (segments.length !== 3 || !segments.every(isCanonicalBase64url)) {
      throw new InvalidToken(
        'malformed token: expected three base64url segments separated by dots',
      );
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keyFor, {
        algorithms: [ALGORITHM],
        typ: 'JWT',
        issuer: this.#issuer,
        audience: this.#audience,
        requiredClaims: ['exp', 'iat', 'sub', 'sid', 'role'],
        // Also refuses tokens from before a shortening of the lifetime, and iat in the future.
        maxTokenAge: this.#ttlSeconds,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(this.#now()),
      }));
    } catch (err) {
      throw err instanceof InvalidToken ? err : this.#explain(err);
    }
    const { sub, sid, role, exp } = payload;
    if (!isNonEmptyString(sub)) throw new InvalidToken('the token\'s "sub" claim is not a user id');
    if (!isNonEmptyString(sid)) {
      throw new InvalidToken('the token\'s "sid" claim is not a session id');
    }
    if (!isRole(role)) throw new InvalidToken('the token\'s "role" claim is not a known role');
    // Checked by jwtVerify already (a required claim, compared with the clock); this is for tsc.
    if (typeof exp !== 'number') throw new InvalidToken('the token\'s "exp" claim is not a time');
    return { sub, role, sid, exp };
  }

  /** The public key as a JWK Set, for services that check tokens but must not issue them. */
  publicJwks(): { keys: JWK[] } {
    return { keys: [{ ...this.#key.publicJwk }] };
  }

  /** Resolves the key only for our own `kid`, so a token names the key it claims to be from. */
  readonly #keyFor: JWTVerifyGetKey = (header) => {
    if (header.kid !== this.#key.kid) {
      throw new InvalidToken(
        header.kid === undefined
          ? 'the token was not issued by this server (its header has no "kid")'
          : 'the token was not issued by this server (it names a signing key this server does not have)',
      );
    }
    return this.#key.publicKey;
  };

  #explain(err: unknown): InvalidToken {
    const because = (message: string) => new InvalidToken(message, { cause: err });
    if (err instanceof errors.JWTExpired) {
      return err.claim === 'iat'
        ? because(`the token has expired (it was issued over ${this.#ttlSeconds} seconds ago)`)
        : because('the token has expired');
    }
    if (err instanceof errors.JWSSignatureVerificationFailed) {
      return because("the token's signature does not verify");
    }
    if (err instanceof errors.JOSEAlgNotAllowed) {
      return because(`the token's signing algorithm is not accepted (only ${ALGORITHM} is)`);
    }
    if (err instanceof errors.JWTClaimValidationFailed) {
      if (err.reason === 'missing') return because(`the token has no "${err.claim}" claim`);
      switch (err.claim) {
        case 'iss':
          return because('the token was not issued by this server');
        case 'aud':
          return because(`the token is meant for another service, not "${this.#audience}"`);
        case 'nbf':
          return because('the token is not valid yet');
        case 'iat':
          return err.reason === 'invalid'
            ? because('the token\'s "iat" claim is not a time')
            : because('the token was issued in the future; check the clocks');
        case 'typ':
          return because('the token is not a JWT (its "typ" header is not "JWT")');
        default:
          return because(`the token's "${err.claim}" claim is not valid`);
      }
    }
    if (err instanceof errors.JOSEError) return because(`malformed token: ${err.message}`);
    return because('malformed token');
  }
}

/** Which Ed25519 key: its file under the key directory, and what losing it would mean. */
export interface KeySpec {
  file: string;
  label: string;
  lossMeans: string;
}

const TOKEN_KEY: KeySpec = {
  file: SIGNING_KEY_FILE,
  label: 'token signing key',
  lossMeans: 'deleting it makes the server create a new key, which signs every user out',
};

/** The Ed25519 key kept in `<keyDir>/<spec.file>`, created on first use. */
export async function loadOrCreateKey(
  keyDir: string,
  spec: KeySpec = TOKEN_KEY,
): Promise<SigningKey> {
  const path = join(keyDir, spec.file);
  const existing = await readKeyFile(path, spec);
  if (existing !== undefined) return parseKeyFile(existing, path, spec);
  const created = await createKeyFile(keyDir, path, spec);
  if (created) return created;
  // Another process created the key between our read and our write: use theirs.
  return parseKeyFile((await readKeyFile(path, spec)) ?? '', path, spec);
}

async function readKeyFile(path: string, spec: KeySpec): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new SigningKeyUnusable(`Cannot read the ${spec.label} ${path}: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/**
 * Written to a temporary file and then hard-linked into place, which (unlike rename) never
 * replaces a key that appeared meanwhile. Returns undefined if one did.
 */
async function createKeyFile(
  keyDir: string,
  path: string,
  spec: KeySpec,
): Promise<SigningKey | undefined> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
  const { kty, crv, x, d } = (await exportJWK(privateKey)) as JWK_OKP_Private;
  const kid = await calculateJwkThumbprint({ kty, crv, x });
  const stored: JWK_OKP_Private = { kty, crv, x, d, kid, alg: ALGORITHM, use: 'sig' };
  const temp = join(keyDir, `.${spec.file}.${randomBytes(8).toString('hex')}.tmp`);
  try {
    await mkdir(keyDir, { recursive: true, mode: 0o700 });
    const handle = await open(temp, 'wx', 0o600);
    try {
      // The mode given to open() is reduced by the umask; this one must be exact.
      await handle.chmod(0o600);
      await handle.writeFile(`${JSON.stringify(stored, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (!(await linkIfAbsent(temp, path))) return undefined;
    await syncDir(keyDir);
  } catch (err) {
    throw new SigningKeyUnusable(`Cannot create the ${spec.label} ${path}: ${messageOf(err)}`, {
      cause: err,
    });
  } finally {
    await rm(temp, { force: true });
  }
  return parseKeyFile(JSON.stringify(stored), path, spec);
}

async function linkIfAbsent(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EEXIST') return false;
    // Filesystems without hard links: fall back to rename, losing only the no-replace guarantee.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') {
      await rename(from, to);
      return true;
    }
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Refuses anything but exactly the key this module writes. A key file is never replaced
 * automatically: that would sign everyone out, and would let whoever can write to the directory
 * swap in a key of their own.
 */
async function parseKeyFile(text: string, path: string, spec: KeySpec): Promise<SigningKey> {
  const corrupt = (reason: string, cause?: unknown) =>
    new SigningKeyUnusable(
      `The ${spec.label} ${path} is unusable: ${reason}. Restore it from a backup; ` +
        `${spec.lossMeans}.`,
      { cause },
    );
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch (err) {
    throw corrupt('it is not valid JSON', err);
  }
  if (typeof jwk !== 'object' || jwk === null) throw corrupt('it is not a JSON object');
  const { kty, crv, x, d, kid } = jwk as Record<string, unknown>;
  if (kty !== 'OKP' || crv !== 'Ed25519') throw corrupt('it is not an Ed25519 key');
  if (!isNonEmptyString(x) || !isNonEmptyString(d)) throw corrupt('it lacks "x" or "d"');
  const publicJwk: JWK_OKP_Public = { kty, crv, x };
  if (typeof kid !== 'string' || kid !== (await calculateJwkThumbprint(publicJwk))) {
    throw corrupt('its "kid" is not the thumbprint of its key');
  }
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    // Importing also checks that "d" is the private half of "x".
    privateKey = await importJWK({ kty, crv, x, d }, ALGORITHM, { extractable: false });
    publicKey = await importJWK({ kty, crv, x }, ALGORITHM);
  } catch (err) {
    throw corrupt(`the key cannot be imported (${messageOf(err)})`, err);
  }
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { ...publicJwk, kid, alg: ALGORITHM, use: 'sig' },
  };
}

function isCanonicalBase64url(text: string): boolean {
  return (
    /^[A-Za-z0-9_-]*$/.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text
  );
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
