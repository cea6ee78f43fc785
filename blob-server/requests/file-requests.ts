import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Level } from 'level';
import { atLeast, type CaseLevel } from '../../web/lib/shared/access-policy.ts';
import {
  CODE_ALPHABET,
  DEFAULT_CONSENT_TEXT,
  REQUEST_CODE,
  type FileRequestChange,
  type FileRequestInput,
  type FileRequestView,
  type PublicFileRequest,
  type SubmissionDetail,
  type SubmissionInput,
  type SubmissionView,
  type SubmittedFile,
} from '../../web/lib/shared/file-requests.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { BadRequest, ExhibitError, Forbidden, NotFound, Unauthenticated } from '../errors.ts';
import type { Authenticated, RequestContext } from '../identity/auth-service.ts';
import type { CaseAccessService } from '../identity/case-access.ts';
import type { IdentityStore } from '../identity/identity-store.ts';
import type { UploadRecord } from '../uploads/upload-record.ts';

/** A request that takes no more files: paused, withdrawn, expired or full. 410 says it once did. */
export class RequestClosed extends ExhibitError {
  override readonly status = 410;
  override readonly code = 'request_closed';
}

/** The file would go past what the request takes. */
export class RequestLimitReached extends ExhibitError {
  override readonly status = 413;
  override readonly code = 'request_limit_reached';
}

/** As stored: the view's fields, with the creator by id only. */
type FileRequestRecord = Omit<FileRequestView, 'createdBy'> & { createdBy: string };

interface SubmissionRecord {
  id: string;
  requestId: string;
  caseId: string;
  reference: string;
  /** SHA-256 of the sender's session secret. */
  secretHash: string;
  contact: { name?: string; email?: string; phone?: string };
  note?: string;
  consentAt: string;
  createdAt: string;
  ip: string;
  userAgent?: string;
  files: SubmittedFile[];
}

/** Who is sending, once their session token checked out. */
export interface Submitter {
  submission: SubmissionRecord;
  request: FileRequestRecord;
}

const SEP = '\u0000';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Public file requests: an investigator publishes a short link for one case with a title,
 * instructions and limits; anyone holding it may send files into that case and nothing else —
 * no listing, no reading, no other case. Each sender gets a session of their own (a token only
 * their browser holds) so an upload can be resumed by them alone, and a receipt with a
 * reference number and the SHA-256 of each file. Every step goes into the audit trail with the
 * sender's stated details, address and browser.
 */
export class FileRequests {
  readonly #db: Level<string, unknown>;
  readonly #requests;
  readonly #codes;
  readonly #byCase;
  readonly #submissions;
  readonly #byRequest;
  readonly #audit: AuditLog;
  readonly #cases: CaseAccessService;
  readonly #identity: IdentityStore;
  readonly #now: () => Date;
  /** The largest file the server takes at all (MAX_FILE_BYTES). */
  readonly #maxFileBytes: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: {
    db: Level<string, unknown>;
    audit: AuditLog;
    cases: CaseAccessService;
    identity: IdentityStore;
    maxFileBytes: number;
    now?: () => Date;
  }) {
    const db = options.db;
    this.#db = db;
    this.#requests = db.sublevel<string, FileRequestRecord>('file-requests', {
      valueEncoding: 'json',
    });
    this.#codes = db.sublevel<string, string>('file-request-codes', { valueEncoding: 'utf8' });
    this.#byCase = db.sublevel<string, string>('file-requests-by-case', { valueEncoding: 'utf8' });
    this.#submissions = db.sublevel<string, SubmissionRecord>('submissions', {
      valueEncoding: 'json',
    });
    this.#byRequest = db.sublevel<string, string>('submissions-by-request', {
      valueEncoding: 'utf8',
    });
    this.#audit = options.audit;
    this.#cases = options.cases;
    this.#identity = options.identity;
    this.#maxFileBytes = options.maxFileBytes;
    this.#now = options.now ?? (() => new Date());
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  // --- for the case's investigators -------------------------------------------------------

  async create(
    auth: Authenticated,
    caseId: string,
    input: FileRequestInput,
    ctx: RequestContext,
  ): Promise<FileRequestView> {
    await this.#require(auth, caseId, 'manage');
    this.#future(input.expiresAt);
    const now = this.#now().toISOString();
    const record: FileRequestRecord = {
      id: randomUUID(),
      caseId,
      code: await this.#freshCode(),
      title: input.title,
      instructions: input.instructions,
      contact: input.contact,
      // What the sender agrees to is recorded with their submission: never left blank.
      consentText: input.consentText || DEFAULT_CONSENT_TEXT,
      expiresAt: new Date(input.expiresAt).toISOString(),
      maxFiles: input.maxFiles,
      maxBytes: input.maxBytes,
      status: 'open',
      createdBy: auth.user.id,
      createdAt: now,
      updatedAt: now,
      submissions: 0,
      filesReceived: 0,
      filesReserved: 0,
      bytesReceived: 0,
      bytesReserved: 0,
    };
    await this.#db.batch([
      { type: 'put', sublevel: this.#requests, key: record.id, value: record },
      { type: 'put', sublevel: this.#codes, key: record.code, value: record.id },
      { type: 'put', sublevel: this.#byCase, key: `${caseId}${SEP}${record.id}`, value: '' },
    ]);
    await this.#audit.record({
      action: 'request.created',
      actor: { userId: auth.user.id, email: auth.user.email },
      target: `case:${caseId}`,
      details: {
        request: record.id,
        title: record.title,
        expiresAt: record.expiresAt,
        maxFiles: record.maxFiles,
        maxBytes: record.maxBytes,
        contact: record.contact,
      },
      ip: ctx.ip,
      ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
    });
    return this.#view(record);
  }

  async list(auth: Authenticated, caseId: string): Promise<FileRequestView[]> {
    await this.#require(auth, caseId, 'view');
    const keys = await this.#byCase
      .keys({ gt: `${caseId}${SEP}`, lt: `${caseId}${SEP}\uffff` })
      .all();
    const records = await this.#requests.getMany(keys.map((k) => k.slice(caseId.length + 1)));
    const views = await Promise.all(
      records.filter((r): r is FileRequestRecord => r !== undefined).map((r) => this.#view(r)),
    );
    return views.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Pauses, reopens, extends or edits a request; a withdrawn request stays withdrawn. */
  change(
    auth: Authenticated,
    caseId: string,
    id: string,
    change: FileRequestChange,
    ctx: RequestContext,
  ): Promise<FileRequestView> {
    return this.#serial(async () => {
      await this.#require(auth, caseId, 'manage');
      const record = await this.#own(caseId, id);
      if (record.status === 'revoked') {
        throw new RequestClosed('this request was withdrawn; make a new one instead');
      }
      if (change.expiresAt !== undefined) this.#future(change.expiresAt);
      const changed: FileRequestRecord = {
        ...record,
        ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)),
        ...(change.expiresAt !== undefined
          ? { expiresAt: new Date(change.expiresAt).toISOString() }
          : {}),
        ...(change.consentText === '' ? { consentText: DEFAULT_CONSENT_TEXT } : {}),
        updatedAt: this.#now().toISOString(),
      };
      await this.#requests.put(id, changed);
      await this.#audit.record({
        action: 'request.changed',
        actor: { userId: auth.user.id, email: auth.user.email },
        target: `case:${caseId}`,
        details: { request: id, ...change },
        ip: ctx.ip,
        ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
      });
      return this.#view(changed);
    });
  }

  /** Withdraws a request for good: its link refuses everything from now on. */
  revoke(
    auth: Authenticated,
    caseId: string,
    id: string,
    ctx: RequestContext,
  ): Promise<FileRequestView> {
    return this.#serial(async () => {
      await this.#require(auth, caseId, 'manage');
      const record = await this.#own(caseId, id);
      if (record.status === 'revoked') return this.#view(record);
      const revoked = {
        ...record,
        status: 'revoked' as const,
        updatedAt: this.#now().toISOString(),
      };
      await this.#requests.put(id, revoked);
      await this.#audit.record({
        action: 'request.revoked',
        actor: { userId: auth.user.id, email: auth.user.email },
        target: `case:${caseId}`,
        details: { request: id },
        ip: ctx.ip,
        ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
      });
      return this.#view(revoked);
    });
  }

  async submissions(auth: Authenticated, caseId: string, id: string): Promise<SubmissionDetail[]> {
    await this.#require(auth, caseId, 'view');
    const record = await this.#own(caseId, id);
    const keys = await this.#byRequest.keys({ gt: `${id}${SEP}`, lt: `${id}${SEP}\uffff` }).all();
    const found = await this.#submissions.getMany(keys.map((k) => k.split(SEP)[2] ?? ''));
    return found
      .filter((s): s is SubmissionRecord => s !== undefined)
      .map((s) => ({
        ...submissionView(s, record),
        ip: s.ip,
        consentAt: s.consentAt,
        ...(s.userAgent ? { userAgent: s.userAgent } : {}),
      }))
      .reverse();
  }

  // --- for the public -----------------------------------------------------------------------

  /** What the public page shows, or why the link takes nothing. */
  async publicView(code: string): Promise<PublicFileRequest> {
    const record = await this.#open(code);
    return {
      title: record.title,
      instructions: record.instructions,
      contact: record.contact,
      consentText: record.consentText,
      expiresAt: record.expiresAt,
      maxFileBytes: Math.min(this.#maxFileBytes, record.maxBytes - record.bytesReserved),
      filesLeft: record.maxFiles - record.filesReserved,
      bytesLeft: record.maxBytes - record.bytesReserved,
    };
  }

  /**
   * A sender begins: their stated details and consent are recorded, and they get a session
   * token (shown once) that their uploads and receipt need.
   */
  startSubmission(
    code: string,
    input: SubmissionInput,
    ctx: RequestContext,
  ): Promise<{ token: string; submission: SubmissionView }> {
    return this.#serial(async () => {
      const record = await this.#open(code);
      const contact = {
        ...(input.name ? { name: input.name } : {}),
        ...(input.email ? { email: input.email } : {}),
        ...(input.phone ? { phone: input.phone } : {}),
      };
      if (record.contact === 'required' && (!contact.name || !(contact.email || contact.phone))) {
        throw new BadRequest(
          'this request asks for your name and an email address or phone number',
        );
      }
      if (record.contact === 'none' && Object.keys(contact).length > 0) {
        throw new BadRequest('this request takes files anonymously: leave the contact details out');
      }
      const secret = randomBytes(24).toString('base64url');
      const now = this.#now().toISOString();
      const submission: SubmissionRecord = {
        id: randomUUID(),
        requestId: record.id,
        caseId: record.caseId,
        reference: reference(),
        secretHash: sha256(secret),
        contact,
        ...(input.note ? { note: input.note } : {}),
        consentAt: now,
        createdAt: now,
        ip: ctx.ip,
        ...(ctx.userAgent ? { userAgent: ctx.userAgent.slice(0, 400) } : {}),
        files: [],
      };
      await this.#db.batch([
        { type: 'put', sublevel: this.#submissions, key: submission.id, value: submission },
        {
          type: 'put',
          sublevel: this.#byRequest,
          key: `${record.id}${SEP}${now}${SEP}${submission.id}`,
          value: '',
        },
        {
          type: 'put',
          sublevel: this.#requests,
          key: record.id,
          value: { ...record, submissions: record.submissions + 1 },
        },
      ]);
      await this.#audit.record({
        action: 'request.submission_started',
        target: `case:${record.caseId}`,
        details: {
          request: record.id,
          submission: submission.id,
          reference: submission.reference,
          contact,
          ...(input.note ? { note: input.note } : {}),
          consent: record.consentText,
        },
        ip: ctx.ip,
        ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
      });
      return {
        token: `${submission.id}.${secret}`,
        submission: submissionView(submission, record),
      };
    });
  }

  /** The sender behind a session token; refuses a token that is malformed or unknown. */
  async submitter(token: string | undefined): Promise<Submitter> {
    const match = token ? /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{32})$/.exec(token) : null;
    if (!match) throw new Unauthenticated('this upload session is not valid; open the link again');
    const submission = await this.#submissions.get(match[1]!);
    if (!submission || !safeEqual(submission.secretHash, sha256(match[2]!))) {
      throw new Unauthenticated('this upload session is not valid; open the link again');
    }
    const request = await this.#requests.get(submission.requestId);
    if (!request) throw new NotFound('this request no longer exists');
    return { submission, request };
  }

  async receipt(token: string | undefined): Promise<SubmissionView> {
    const { submission, request } = await this.submitter(token);
    return submissionView(submission, request);
  }

  /** Reserves room for a new file in the sender's request, or refuses saying why. */
  admitFile(submitter: Submitter, length: number): Promise<void> {
    return this.#serial(async () => {
      const record = await this.#open(submitter.request.code);
      if (record.id !== submitter.submission.requestId) throw new Forbidden('not this request');
      if (length > this.#maxFileBytes) {
        throw new RequestLimitReached('this file is larger than the server takes');
      }
      if (record.filesReserved + 1 > record.maxFiles) {
        throw new RequestClosed('this request has received all the files it takes');
      }
      if (record.bytesReserved + length > record.maxBytes) {
        throw new RequestLimitReached(
          `this file is larger than what the request still takes (${record.maxBytes - record.bytesReserved} bytes)`,
        );
      }
      await this.#requests.put(record.id, {
        ...record,
        filesReserved: record.filesReserved + 1,
        bytesReserved: record.bytesReserved + length,
      });
    });
  }

  /** A file of a submission arrived whole and verified: it goes on the receipt. */
  fileVerified(
    upload: UploadRecord,
  ): Promise<{ request: FileRequestRecord; submission: SubmissionRecord } | undefined> {
    return this.#serial(async () => {
      const found = await this.#ofUpload(upload);
      if (!found) return undefined;
      const { submission, request } = found;
      const file: SubmittedFile = {
        upload: upload.id,
        name: upload.filename ?? `file ${submission.files.length + 1}`,
        type: upload.filetype ?? 'application/octet-stream',
        size: upload.length,
        state: 'verified',
        ...(upload.sha256 ? { sha256: upload.sha256 } : {}),
        receivedAt: this.#now().toISOString(),
      };
      const updated = {
        ...submission,
        files: [...submission.files.filter((f) => f.upload !== upload.id), file],
      };
      const counted = {
        ...request,
        filesReceived: request.filesReceived + 1,
        bytesReceived: request.bytesReceived + upload.length,
      };
      await this.#db.batch([
        { type: 'put', sublevel: this.#submissions, key: submission.id, value: updated },
        { type: 'put', sublevel: this.#requests, key: request.id, value: counted },
      ]);
      await this.#audit.record({
        action: 'request.file_received',
        target: `case:${request.caseId}`,
        details: {
          request: request.id,
          submission: submission.id,
          reference: submission.reference,
          contact: submission.contact,
          evidenceId: upload.evidenceId ?? upload.id,
          filename: file.name,
          size: upload.length,
          sha256: upload.sha256,
          clientSha256: upload.clientSha256,
        },
        ip: submission.ip,
        ...(submission.userAgent ? { userAgent: submission.userAgent } : {}),
      });
      return { request: counted, submission: updated };
    });
  }

  /** A file was cancelled or refused: its room in the request is given back. */
  fileDropped(upload: UploadRecord, reason: string): Promise<void> {
    return this.#serial(async () => {
      const found = await this.#ofUpload(upload);
      if (!found) return;
      const { submission, request } = found;
      await this.#db.batch([
        {
          type: 'put',
          sublevel: this.#submissions,
          key: submission.id,
          value: {
            ...submission,
            files: [
              ...submission.files.filter((f) => f.upload !== upload.id),
              {
                upload: upload.id,
                name: upload.filename ?? 'file',
                type: upload.filetype ?? 'application/octet-stream',
                size: upload.length,
                state: reason === 'cancelled' ? 'cancelled' : 'failed',
                error: reason,
              },
            ],
          },
        },
        {
          type: 'put',
          sublevel: this.#requests,
          key: request.id,
          value: {
            ...request,
            filesReserved: Math.max(0, request.filesReserved - 1),
            bytesReserved: Math.max(0, request.bytesReserved - upload.length),
          },
        },
      ]);
    });
  }

  async #ofUpload(upload: UploadRecord): Promise<Submitter | undefined> {
    const id = /^submission:(.+)$/.exec(upload.owner)?.[1];
    if (!id) return undefined;
    const submission = await this.#submissions.get(id);
    const request = submission ? await this.#requests.get(submission.requestId) : undefined;
    return submission && request ? { submission, request } : undefined;
  }

  /** The request behind a code, if it takes files now; otherwise why not, in words. */
  async #open(code: string): Promise<FileRequestRecord> {
    if (!REQUEST_CODE.test(code)) throw new NotFound('there is no file request at this address');
    const id = await this.#codes.get(code);
    const record = id ? await this.#requests.get(id) : undefined;
    if (!record) throw new NotFound('there is no file request at this address');
    if (record.status === 'revoked') {
      throw new RequestClosed('this file request has been withdrawn and takes no more files');
    }
    if (Date.parse(record.expiresAt) <= this.#now().getTime()) {
      throw new RequestClosed('this file request has expired and takes no more files');
    }
    if (record.status === 'paused') {
      throw new RequestClosed('this file request is paused; try again later');
    }
    if (record.filesReserved >= record.maxFiles || record.bytesReserved >= record.maxBytes) {
      throw new RequestClosed('this file request has received all the files it takes');
    }
    return record;
  }

  async #own(caseId: string, id: string): Promise<FileRequestRecord> {
    const record = await this.#requests.get(id);
    if (!record || record.caseId !== caseId)
      throw new NotFound('there is no such request in this case');
    return record;
  }

  async #require(auth: Authenticated, caseId: string, needed: CaseLevel): Promise<void> {
    if (!atLeast(await this.#cases.levelFor(auth.user, caseId), needed)) {
      throw new Forbidden(
        needed === 'manage'
          ? 'only a manager of this case may publish or change its file requests'
          : 'you have no access to this case',
      );
    }
  }

  #future(iso: string): void {
    if (Date.parse(iso) <= this.#now().getTime()) {
      throw new BadRequest('the expiry must be in the future');
    }
  }

  async #freshCode(): Promise<string> {
    for (;;) {
      const bytes = randomBytes(12);
      const code = [...bytes].map((b) => CODE_ALPHABET[b & 31]).join('');
      if ((await this.#codes.get(code)) === undefined) return code;
    }
  }

  async #view(record: FileRequestRecord): Promise<FileRequestView> {
    const creator = await this.#identity.getUser(record.createdBy);
    const { createdBy, ...rest } = record;
    return { ...rest, createdBy: { id: createdBy, ...(creator ? { name: creator.name } : {}) } };
  }
}

function submissionView(s: SubmissionRecord, request: FileRequestRecord): SubmissionView {
  return {
    id: s.id,
    reference: s.reference,
    requestTitle: request.title,
    createdAt: s.createdAt,
    contact: s.contact,
    ...(s.note ? { note: s.note } : {}),
    files: s.files,
  };
}

function reference(): string {
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => CODE_ALPHABET[b & 31]).join('');
  return `EXH-${chars.slice(0, 4)}-${chars.slice(4, 8)}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
