import { createHash, randomUUID } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AuthService } from '../identity/auth-service.ts';
import type { CaseAccessService } from '../identity/case-access.ts';
import { authOf, requireAuth, requireAuthForReads } from '../identity/http.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { sha256Key } from '../storage/keys.ts';
import { versionOf, type EvidenceRefs } from '../uploads/evidence-refs.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import {
  BadRequest,
  BlobNotFound,
  Forbidden,
  ChecksumMismatch,
  PayloadTooLarge,
  RangeNotSatisfiable,
} from '../errors.ts';
import type { Logger } from '../../sync-server/logger.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Evidence bytes, content-addressed by SHA-256: `PUT /api/blobs/<sha256>` stores a file whose
 * digest the client computed, and the server stores it only if its own digest agrees.
 * Files larger than one request should carry go through resumable uploads (`/api/uploads`).
 */
export function blobRoutes(options: {
  store: BlobStore;
  maxUploadBytes: number;
  log: Logger;
  auth: AuthService;
  cases: CaseAccessService;
  refs: EvidenceRefs;
  audit?: AuditLog;
}): Router {
  const { store, maxUploadBytes, log, refs } = options;
  const router = express.Router();
  const reader = requireAuthForReads(options.auth);
  const writer = requireAuth(options.auth);
  // Evidence is added to a case (`?case=<id>`): only its contributors and managers may.
  const mayAdd = async (req: Request, res: Response, next: NextFunction) => {
    const caseId = req.query['case'];
    if (typeof caseId !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(caseId)) {
      throw new BadRequest('say which case the evidence is for: ?case=<case id>');
    }
    if (!(await options.cases.mayAddEvidence(authOf(res).user, caseId))) {
      throw new Forbidden('you may not add evidence to this case');
    }
    next();
  };
  // A download is for evidence listed in a case the caller may see.
  const mayRead = async (req: Request, res: Response, next: NextFunction) => {
    const digest = String(req.params['sha256'] ?? '');
    if (SHA256_HEX.test(digest) && !(await options.cases.mayDownload(authOf(res).user, digest))) {
      throw new Forbidden('this file is not in any case you have access to');
    }
    next();
  };

  router.put('/:sha256', writer, mayAdd, async (req, res) => {
    const expected = parseDigest(req.params.sha256);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxUploadBytes) {
      // Otherwise Node would read and discard the whole announced body to keep the connection.
      res.setHeader('Connection', 'close');
      throw new PayloadTooLarge(
        `the file is ${declared} bytes; this server accepts at most ${maxUploadBytes} bytes in one request`,
      );
    }
    const key = sha256Key(expected);
    const incoming = `incoming/${randomUUID()}`;
    const contentType = safeContentType(req.headers['content-type']);
    const digest = new DigestAndLimit(maxUploadBytes);
    try {
      await Promise.all([
        pipeline(req, digest),
        store.put(incoming, digest, {
          contentType,
          ...(declared !== undefined ? { size: Number(declared) } : {}),
        }),
      ]);
    } catch (err) {
      // The rest of the body stays unread, so the connection cannot carry another request.
      res.setHeader('Connection', 'close');
      await store.delete(incoming).catch(() => undefined);
      if (digest.overLimit) {
        throw new PayloadTooLarge(`the file is larger than ${maxUploadBytes} bytes`);
      }
      throw err;
    }
    const actual = digest.hex();
    if (actual !== expected) {
      await store.delete(incoming);
      log.warn('blob.checksum_mismatch', { expected, actual, size: digest.size });
      throw new ChecksumMismatch(
        `the server computed SHA-256 ${actual} for the ${digest.size} bytes it received, not ${expected}; the file was not stored`,
      );
    }
    // The caller just proved they hold these bytes: the case they sent them for lists them.
    await options.cases.addEvidence(String(req.query['case']), actual);
    const existing = await refs.locate(actual);
    if (existing) {
      await store.delete(incoming);
      res.status(200).json({ sha256: actual, size: existing.size, created: false });
      return;
    }
    await store.copy(incoming, key);
    await store.delete(incoming);
    log.info('blob.stored', { sha256: actual, size: digest.size });
    res.status(201).json({ sha256: actual, size: digest.size, created: true });
  });

  const read = async (req: Request, res: Response, withBody: boolean) => {
    const sha256 = parseDigest(req.params.sha256);
    const etag = `"${sha256}"`;
    const info = await refs.locate(sha256);
    if (!info) throw new BlobNotFound(`no stored file has SHA-256 ${sha256}`);
    const key = info.key;
    res.setHeader('ETag', etag);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    // Evidence may be hostile (HTML, SVG with scripts): never let it run in our origin.
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Type', info.contentType);
    const filename = typeof req.query.filename === 'string' ? req.query.filename : undefined;
    res.setHeader('Content-Disposition', contentDisposition(filename ?? sha256));
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    const range = requestedRange(req, res, info.size);
    if (!withBody) {
      if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
      res.setHeader('Content-Length', range ? range.end - range.start + 1 : info.size);
      res.status(range ? 206 : 200).end();
      return;
    }
    // Custody: who opened which file, recorded before any byte leaves. A player seeking asks
    // for later ranges of a file it already opened; those are not new accesses.
    if (options.audit && (!range || range.start === 0)) {
      await options.audit.record({
        action:
          filename !== undefined
            ? 'evidence.downloaded'
            : /^(video|audio)\//.test(info.contentType)
              ? 'evidence.played'
              : 'evidence.viewed',
        actor: { userId: authOf(res).user.id },
        target: `sha256:${sha256}`,
        details: { size: info.size, ...(filename !== undefined ? { filename } : {}) },
        ...(req.ip ? { ip: req.ip } : {}),
        ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      });
    }
    const blob = await store.get(key, range, versionOf(info));
    if (range) {
      res.status(206);
      res.setHeader('Content-Range', `bytes ${blob.start}-${blob.end}/${blob.size}`);
    }
    res.setHeader('Content-Length', blob.size === 0 ? 0 : blob.end - blob.start + 1);
    await pipeline(blob.body, res).catch((err: unknown) => {
      // The reader going away mid-download is normal; anything else is worth a line.
      if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        log.warn('blob.download_failed', { sha256, error: String(err) });
      }
    });
  };
  // HEAD first: Express also routes HEAD to a GET route registered before it.
  router.head('/:sha256', reader, mayRead, (req, res) => read(req, res, false));
  router.get('/:sha256', reader, mayRead, (req, res) => read(req, res, true));

  return router;
}

function parseDigest(value: unknown): string {
  if (typeof value !== 'string' || !SHA256_HEX.test(value)) {
    throw new BadRequest(
      'the address must end in a SHA-256 digest: 64 lowercase hexadecimal digits',
    );
  }
  return value;
}

/**
 * The one byte range to serve, or undefined for the whole file. As HTTP allows, a Range header
 * we cannot use (malformed, another unit, several ranges) is ignored and the whole file served;
 * only a range wholly outside the file is refused (416, with the file's size).
 */
function requestedRange(
  req: Request,
  res: Response,
  size: number,
): { start: number; end: number } | undefined {
  if (!req.headers.range) return undefined;
  const ranges = req.range(size, { combine: true });
  if (ranges === -1) {
    res.setHeader('Content-Range', `bytes */${size}`);
    throw new RangeNotSatisfiable(
      `the range "${req.headers.range}" is outside the file's ${size} bytes`,
    );
  }
  if (ranges === -2 || ranges === undefined || ranges.type !== 'bytes' || ranges.length !== 1) {
    return undefined;
  }
  const [range] = ranges;
  return range ? { start: range.start, end: range.end } : undefined;
}

function safeContentType(value: string | undefined): string {
  // Anything a client claims is kept, if it is a syntactically plain media type.
  return value && /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(value) && value.length < 200
    ? value
    : 'application/octet-stream';
}

function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  // RFC 8187 allows fewer characters unescaped than encodeURIComponent leaves alone.
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Passes bytes through while hashing and counting them; errors once over the limit. */
class DigestAndLimit extends Transform {
  readonly #hash = createHash('sha256');
  readonly #limit: number;
  size = 0;
  overLimit = false;

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.#limit) {
      this.overLimit = true;
      done(new PayloadTooLarge(`the file is larger than ${this.#limit} bytes`));
      return;
    }
    this.#hash.update(chunk);
    done(null, chunk);
  }

  hex(): string {
    return this.#hash.digest('hex');
  }
}
