import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { AuthService } from '../identity/auth-service.ts';
import type { CaseAccessService } from '../identity/case-access.ts';
import { authOf, requireAuth } from '../identity/http.ts';
import {
  BadRequest,
  ClientClosedRequest,
  ExhibitError,
  Forbidden,
  PreconditionFailed,
  UnsupportedMediaType,
  UploadGone,
} from '../errors.ts';
import { UPLOAD_ID, type UploadRecord } from './upload-record.ts';
import type { AuditEvent, AuditLog } from '../audit/audit-log.ts';
import type { ChunkChecksum, UploadService } from './upload-service.ts';

const TUS_VERSION = '1.0.0';
const EXTENSIONS = 'creation,creation-with-upload,termination,expiration,checksum';
const CHUNK_CONTENT_TYPE = 'application/offset+octet-stream';
const CASE_ID = /^[A-Za-z0-9_-]{8,64}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const CORS_REQUEST_HEADERS = [
  'Authorization',
  'Content-Type',
  'Tus-Resumable',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Offset',
  'Upload-Checksum',
  'Upload-Defer-Length',
  'Upload-Concat',
  'X-HTTP-Method-Override',
  'X-Requested-With',
  'Exhibit-Sha256',
].join(', ');
const CORS_RESPONSE_HEADERS = [
  'Location',
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
  'Tus-Checksum-Algorithm',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Expires',
  'Exhibit-Sha256',
  'Exhibit-Chunk-Size',
].join(', ');
/** A PATCH that sends nothing for this long is a dead client; its bytes so far are kept. */
const CHUNK_IDLE_MS = 120_000;

/**
 * The tus 1.0 resumable upload protocol (https://tus.io/protocols/resumable-upload) with the
 * creation, creation-with-upload, termination, expiration and checksum (sha256) extensions, so
 * any tus client can deliver evidence. Two additions of ours, both optional:
 *
 * - `Exhibit-Sha256: <hex>` on a PATCH (or `sha256` in Upload-Metadata) gives the whole file's
 *   digest as the client computed it; the upload is verified only if the server's own digest of
 *   the stored object matches. Responses for a verified upload carry the server's digest in the
 *   same header.
 * - `Exhibit-Chunk-Size` on creation: the chunk size that avoids any buffering on the server.
 *
 * Metadata keys we read: `case` (required: the case the evidence is for), `evidence` (the
 * evidence record's id in the case document), `filename`, `filetype`, `sha256`.
 */
/**
 * Who may start and continue uploads on one tus endpoint, and into which case. Signed-in users
 * (`accountGate`) name their case in the metadata; a public file request's submitter
 * (`blob-server/requests`) is bound to the request's case and limits.
 */
export interface UploadGate {
  /** Checks the caller's credentials; refuses the request when there are none or they fail. */
  authenticate: RequestHandler;
  /** The owner of uploads this caller starts, e.g. `user:<id>`; only they may continue them. */
  ownerOf(res: Response): string;
  /** Who the audit trail names for this caller. */
  actorOf(res: Response): AuditEvent['actor'];
  /**
   * Admits a new upload of `length` bytes, or refuses it saying why: the case it goes into and
   * what else the record keeps.
   */
  admitNew(
    res: Response,
    request: { length: number; metadata: ReadonlyMap<string, string> },
  ): Promise<{
    caseId: string;
    ownerName?: string;
    evidenceId?: string;
    auditDetails?: Record<string, unknown>;
  }>;
  /** Still allowed to continue (or end) an upload it started? Refuses, saying why, if not. */
  admitContinue(res: Response, upload: UploadRecord): Promise<void>;
  /** Told when the caller ends an upload before it completed. */
  cancelled?(upload: UploadRecord): Promise<void>;
}

/** Signed-in users: the case is in the metadata, and they need contribute access to it. */
export function accountGate(auth: AuthService, cases: CaseAccessService): UploadGate {
  return {
    authenticate: requireAuth(auth),
    ownerOf: (res) => `user:${authOf(res).user.id}`,
    actorOf: (res) => ({ userId: authOf(res).user.id }),
    async admitNew(res, { metadata }) {
      const caseId = metadata.get('case');
      if (caseId === undefined || !CASE_ID.test(caseId)) {
        throw new BadRequest(
          'say which case the evidence is for: Upload-Metadata must carry "case <base64 of the case id>"',
        );
      }
      const evidenceId = metadata.get('evidence');
      if (evidenceId !== undefined && !CASE_ID.test(evidenceId)) {
        throw new BadRequest(
          'the "evidence" metadata must be an id of 8 to 64 letters, digits, - or _',
        );
      }
      const user = authOf(res).user;
      if (!(await cases.mayAddEvidence(user, caseId))) {
        throw new Forbidden('you may not add evidence to this case');
      }
      return { caseId, ownerName: user.name, ...(evidenceId !== undefined ? { evidenceId } : {}) };
    },
    async admitContinue(res, upload) {
      if (!(await cases.mayAddEvidence(authOf(res).user, upload.caseId))) {
        throw new Forbidden('you may no longer add evidence to this case');
      }
    },
  };
}

export function tusRoutes(options: {
  uploads: UploadService;
  gate: UploadGate;
  /**
   * Web origins whose pages may upload here (an Uppy dashboard on an intranet page). Their
   * requests still need a bearer token: CORS only lets the browser send them.
   */
  corsOrigins?: readonly string[];
  audit?: AuditLog;
}): Router {
  const { uploads, gate } = options;
  const router = express.Router({ mergeParams: true });
  const signedIn = gate.authenticate;
  const ownerOf = (res: Response) => gate.ownerOf(res);
  const corsOrigins = new Set(options.corsOrigins ?? []);

  router.use((req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && corsOrigins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Methods', 'POST, HEAD, PATCH, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', CORS_REQUEST_HEADERS);
      res.setHeader('Access-Control-Expose-Headers', CORS_RESPONSE_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
    }
    next();
  });

  router.use((req, res, next) => {
    res.setHeader('Tus-Resumable', TUS_VERSION);
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'OPTIONS') {
      next();
      return;
    }
    if (req.headers['tus-resumable'] !== TUS_VERSION) {
      res.setHeader('Tus-Version', TUS_VERSION);
      throw new PreconditionFailed(
        `this server speaks tus ${TUS_VERSION}; send the header "Tus-Resumable: ${TUS_VERSION}"`,
      );
    }
    next();
  });

  router.options('/', (_req, res) => {
    res.setHeader('Tus-Version', TUS_VERSION);
    res.setHeader('Tus-Extension', EXTENSIONS);
    res.setHeader('Tus-Max-Size', String(uploads.maxLength));
    res.setHeader('Tus-Checksum-Algorithm', 'sha256');
    res.status(204).end();
  });

  router.post('/', signedIn, async (req, res) => {
    if (req.headers['upload-defer-length'] !== undefined) {
      throw new BadRequest('say the file size in Upload-Length; deferred lengths are not accepted');
    }
    const length = parseCount(req.headers['upload-length'], 'Upload-Length');
    const rawMetadata = headerOf(req, 'upload-metadata') ?? '';
    const metadata = parseMetadata(rawMetadata);
    const clientSha256 = metadata.get('sha256')?.toLowerCase();
    if (clientSha256 !== undefined && !SHA256_HEX.test(clientSha256)) {
      throw new BadRequest('the "sha256" metadata must be 64 hexadecimal digits');
    }
    const admitted = await gate.admitNew(res, { length, metadata });
    const caseId = admitted.caseId;
    const filename = metadata.get('filename') ?? metadata.get('name');
    const filetype = metadata.get('filetype') ?? metadata.get('type');
    const upload = await uploads.create({
      owner: ownerOf(res),
      ...(admitted.ownerName !== undefined ? { ownerName: admitted.ownerName } : {}),
      caseId,
      length,
      metadata: rawMetadata,
      ...(admitted.evidenceId !== undefined ? { evidenceId: admitted.evidenceId } : {}),
      ...(filename !== undefined ? { filename: filename.slice(0, 1024) } : {}),
      ...(filetype !== undefined && isMediaType(filetype) ? { filetype } : {}),
      ...(clientSha256 !== undefined ? { clientSha256 } : {}),
    });
    await options.audit?.record({
      action: 'evidence.upload_started',
      actor: gate.actorOf(res),
      target: `case:${caseId}`,
      details: {
        upload: upload.id,
        length,
        ...(upload.filename !== undefined ? { filename: upload.filename } : {}),
        ...(upload.evidenceId !== undefined ? { evidenceId: upload.evidenceId } : {}),
        ...admitted.auditDetails,
      },
      ...(req.ip ? { ip: req.ip } : {}),
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
    });
    res.setHeader('Location', `${req.baseUrl}/${upload.id}`);
    res.setHeader('Exhibit-Chunk-Size', String(uploads.chunkSizeFor(upload)));
    // creation-with-upload: the first chunk may come with the creation request itself.
    const withChunk =
      req.headers['content-type'] === CHUNK_CONTENT_TYPE &&
      Number(req.headers['content-length'] ?? 0) > 0;
    const current = withChunk ? await appendChunk(req, res, upload.id, 0) : upload;
    if (!withChunk && length === 0) {
      // Nothing will ever follow: an empty file is complete as soon as it is announced.
      const done = await uploads.append(upload.id, ownerOf(res), 0, Readable.from([]));
      describe(res, done);
    } else {
      describe(res, current);
    }
    res.status(201).end();
  });

  router.head('/:id', signedIn, async (req, res) => {
    let upload = await continuing(req, res);
    // All bytes are in but the last step was cut short: finish it now, so the answer is final.
    if (upload.state === 'completing') upload = await uploads.settle(upload.id, ownerOf(res));
    if (upload.state === 'failed') throw new UploadGone(upload.failure ?? 'this upload failed');
    res.setHeader('Upload-Length', String(upload.length));
    if (upload.metadata !== '') res.setHeader('Upload-Metadata', upload.metadata);
    describe(res, upload);
    res.status(200).end();
  });

  router.patch('/:id', signedIn, async (req, res) => {
    if (req.headers['content-type'] !== CHUNK_CONTENT_TYPE) {
      throw new UnsupportedMediaType(`a chunk must be sent as Content-Type: ${CHUNK_CONTENT_TYPE}`);
    }
    const offset = parseCount(req.headers['upload-offset'], 'Upload-Offset');
    await continuing(req, res);
    const upload = await appendChunk(req, res, String(req.params['id']), offset);
    describe(res, upload);
    res.status(204).end();
  });

  router.delete('/:id', signedIn, async (req, res) => {
    const upload = await continuing(req, res);
    await uploads.terminate(upload.id, ownerOf(res));
    await gate.cancelled?.(upload);
    await options.audit?.record({
      action: 'evidence.upload_cancelled',
      actor: gate.actorOf(res),
      target: `case:${upload.caseId}`,
      details: { upload: upload.id, received: upload.offset, length: upload.length },
    });
    res.status(204).end();
  });

  /** The upload, if the caller started it and may still add evidence to its case. */
  async function continuing(req: Request, res: Response): Promise<UploadRecord> {
    const id = String(req.params['id']);
    if (!UPLOAD_ID.test(id)) throw new BadRequest(`"${id.slice(0, 40)}" is not an upload id`);
    const upload = await uploads.get(id, ownerOf(res));
    await gate.admitContinue(res, upload);
    return upload;
  }

  async function appendChunk(
    req: Request,
    res: Response,
    id: string,
    offset: number,
  ): Promise<UploadRecord> {
    const checksum = parseChecksum(headerOf(req, 'upload-checksum'));
    const clientSha256 = headerOf(req, 'exhibit-sha256')?.toLowerCase();
    if (clientSha256 !== undefined && !SHA256_HEX.test(clientSha256)) {
      throw new BadRequest('Exhibit-Sha256 must be 64 hexadecimal digits');
    }
    const socket = req.socket as Socket | null;
    socket?.setTimeout(CHUNK_IDLE_MS, () => req.destroy());
    try {
      return await uploads.append(id, ownerOf(res), offset, req, {
        ...(checksum ? { checksum } : {}),
        ...(clientSha256 !== undefined ? { clientSha256 } : {}),
      });
    } catch (err) {
      // The client went away mid-chunk: nobody is left to answer, and it is not our failure.
      if (!(err instanceof ExhibitError) && req.destroyed) {
        throw new ClientClosedRequest('the connection closed before the whole chunk arrived');
      }
      throw err;
    } finally {
      (req.socket as Socket | null)?.setTimeout(0);
    }
  }

  return router;
}

function describe(res: Response, upload: UploadRecord): void {
  res.setHeader('Upload-Offset', String(upload.offset));
  if (upload.state === 'verified' && upload.sha256) {
    res.setHeader('Exhibit-Sha256', upload.sha256);
  } else if (upload.state !== 'completing') {
    res.setHeader('Upload-Expires', new Date(upload.expiresAt).toUTCString());
  }
}

function headerOf(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseCount(value: string | string[] | undefined, header: string): number {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) throw new BadRequest(`the ${header} header is missing`);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new BadRequest(`${header} must be a whole number of bytes, not "${text.slice(0, 40)}"`);
  }
  return Number(text);
}

/** `key base64,key2 base64,flag`: keys unique, values base64 (RFC 4648) of UTF-8 text. */
export function parseMetadata(header: string): Map<string, string> {
  const metadata = new Map<string, string>();
  if (header.trim() === '') return metadata;
  if (header.length > 8192) throw new BadRequest('Upload-Metadata is longer than 8 KiB');
  for (const pair of header.split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    if (!key || !/^[\x21-\x7e]+$/.test(key) || extra !== undefined) {
      throw new BadRequest(`Upload-Metadata has a malformed entry "${pair.trim().slice(0, 60)}"`);
    }
    if (metadata.has(key)) throw new BadRequest(`Upload-Metadata names "${key}" twice`);
    if (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
      throw new BadRequest(`the Upload-Metadata value of "${key}" is not base64`);
    }
    metadata.set(key, value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8'));
  }
  return metadata;
}

function parseChecksum(header: string | undefined): ChunkChecksum | undefined {
  if (header === undefined) return undefined;
  const match = /^(\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(header.trim());
  if (!match) throw new BadRequest('Upload-Checksum must be "<algorithm> <base64 digest>"');
  if (match[1] !== 'sha256') {
    throw new BadRequest(
      `this server checks Upload-Checksum with sha256 only, not "${match[1]!.slice(0, 20)}"`,
    );
  }
  const digest = Buffer.from(match[2]!, 'base64');
  if (digest.length !== 32) throw new BadRequest('the sha256 Upload-Checksum must be 32 bytes');
  return { algorithm: 'sha256', digest };
}

function isMediaType(value: string): boolean {
  return /^[\w.+-]+\/[\w.+-]+$/.test(value) && value.length < 200;
}
