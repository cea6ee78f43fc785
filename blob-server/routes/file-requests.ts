import express, { type Request, type Response, type Router } from 'express';
import {
  fileRequestChange,
  fileRequestInput,
  REQUEST_CODE,
  submissionInput,
} from '../../web/lib/shared/file-requests.ts';
import { newId } from '../../web/lib/shared/doc-names.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { NotFound, Unauthenticated } from '../errors.ts';
import type { AuthService } from '../identity/auth-service.ts';
import { authOf, bearerToken, requestContext, requireAuth } from '../identity/http.ts';
import { RequestClosed, type FileRequests, type Submitter } from '../requests/file-requests.ts';
import { RateLimit } from '../requests/rate-limit.ts';
import { tusRoutes, type UploadGate } from '../uploads/tus-routes.ts';
import type { UploadService } from '../uploads/upload-service.ts';
import { paramOf, parseBody } from './validate.ts';

const CASE_ID = /^[A-Za-z0-9_-]{8,64}$/;
const REQUEST_ID = /^[0-9a-f-]{36}$/;
const HOUR = 60 * 60 * 1000;

/**
 * A case's file requests, for its investigators: list, publish (`POST`), pause, reopen,
 * extend or edit (`PATCH`), withdraw (`POST …/revoke`), and the submissions each received.
 */
export function fileRequestRoutes(options: { auth: AuthService; requests: FileRequests }): Router {
  const router = express.Router();
  const signedIn = requireAuth(options.auth);
  const json = express.json({ limit: '32kb' });
  const caseOf = (req: Request) => paramOf(req.params['id'], CASE_ID, 'a case');
  const requestOf = (req: Request) => paramOf(req.params['rid'], REQUEST_ID, 'a file request');

  router.get('/:id/file-requests', signedIn, async (req, res) => {
    res.json({ requests: await options.requests.list(authOf(res), caseOf(req)) });
  });

  router.post('/:id/file-requests', signedIn, json, async (req, res) => {
    const input = parseBody(fileRequestInput, req.body);
    res
      .status(201)
      .json(await options.requests.create(authOf(res), caseOf(req), input, requestContext(req)));
  });

  router.patch('/:id/file-requests/:rid', signedIn, json, async (req, res) => {
    const change = parseBody(fileRequestChange, req.body);
    res.json(
      await options.requests.change(
        authOf(res),
        caseOf(req),
        requestOf(req),
        change,
        requestContext(req),
      ),
    );
  });

  router.post('/:id/file-requests/:rid/revoke', signedIn, async (req, res) => {
    res.json(
      await options.requests.revoke(authOf(res), caseOf(req), requestOf(req), requestContext(req)),
    );
  });

  router.get('/:id/file-requests/:rid/submissions', signedIn, async (req, res) => {
    res.json({
      submissions: await options.requests.submissions(authOf(res), caseOf(req), requestOf(req)),
    });
  });

  return router;
}

/** How often one address or one link may do each thing; generous for people, not for scripts. */
export interface PublicLimits {
  lookupsPerAddress: number;
  unknownCodesPerAddress: number;
  submissionsPerAddress: number;
  submissionsPerLink: number;
  uploadsPerAddress: number;
}

export const DEFAULT_PUBLIC_LIMITS: PublicLimits = {
  lookupsPerAddress: 600,
  unknownCodesPerAddress: 30,
  submissionsPerAddress: 20,
  submissionsPerLink: 500,
  uploadsPerAddress: 200,
};

/**
 * What the public may do, and nothing else: read a request's public text
 * (`GET /api/public/requests/:code`), begin a submission (`POST …/submissions`), upload with tus
 * into that submission (`/api/public/uploads`, the submission's token as bearer), and read
 * their own receipt (`GET /api/public/submission`). No route here lists, reads or downloads
 * evidence, and a submission is bound to its request's case.
 */
export function publicRequestRoutes(options: {
  requests: FileRequests;
  uploads: UploadService;
  audit?: AuditLog;
  limits?: Partial<PublicLimits>;
}): Router {
  const limits = { ...DEFAULT_PUBLIC_LIMITS, ...options.limits };
  const perAddress = (limit: number, what: string) =>
    new RateLimit({ limit, windowMs: HOUR, what });
  const lookups = perAddress(limits.lookupsPerAddress, 'too many requests from this address');
  const unknown = perAddress(
    limits.unknownCodesPerAddress,
    'too many unknown links from this address',
  );
  const submissionsByAddress = perAddress(
    limits.submissionsPerAddress,
    'too many submissions from this address',
  );
  const submissionsByLink = perAddress(
    limits.submissionsPerLink,
    'this request is receiving too many submissions at the moment',
  );
  const uploadsByAddress = perAddress(limits.uploadsPerAddress, 'too many files from this address');

  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  const addressOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';
  const codeOf = (req: Request, res: Response): string => {
    const code = String(req.params['code'] ?? '').toUpperCase();
    lookups.take(addressOf(req));
    if (!REQUEST_CODE.test(code)) {
      unknown.take(addressOf(req));
      throw new NotFound('there is no file request at this address');
    }
    res.locals['code'] = code;
    return code;
  };
  /** Unknown codes count against the address, so links cannot be found by trying. */
  const countingUnknown = async <T>(req: Request, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof NotFound) unknown.take(addressOf(req));
      throw err;
    }
  };

  router.get('/requests/:code', async (req, res) => {
    const code = codeOf(req, res);
    res.json(await countingUnknown(req, () => options.requests.publicView(code)));
  });

  router.post('/requests/:code/submissions', express.json({ limit: '16kb' }), async (req, res) => {
    const code = codeOf(req, res);
    const input = parseBody(submissionInput, req.body);
    submissionsByAddress.take(addressOf(req));
    submissionsByLink.take(code);
    const started = await countingUnknown(req, () =>
      options.requests.startSubmission(code, input, requestContext(req)),
    );
    res.status(201).json(started);
  });

  router.get('/submission', async (req, res) => {
    res.json(await options.requests.receipt(bearerToken(req)));
  });

  const gate: UploadGate = {
    async authenticate(req, res, next) {
      res.locals['submitter'] = await options.requests.submitter(bearerToken(req));
      next();
    },
    ownerOf: (res) => `submission:${submitterOf(res).submission.id}`,
    actorOf: () => ({}),
    async admitNew(res, { length }) {
      const submitter = submitterOf(res);
      uploadsByAddress.take(String(res.req.ip ?? 'unknown'));
      await options.requests.admitFile(submitter, length);
      const { name } = submitter.submission.contact;
      return {
        caseId: submitter.request.caseId,
        // The sender's own ids mean nothing in the case: the server names the new item.
        evidenceId: newId(),
        ownerName: `Public submission${name ? `: ${name}` : ''}`,
        auditDetails: {
          request: submitter.request.id,
          submission: submitter.submission.id,
          reference: submitter.submission.reference,
        },
      };
    },
    async admitContinue(res) {
      const { request } = await options.requests.submitter(bearerToken(res.req));
      if (request.status === 'revoked') {
        throw new RequestClosed('this file request has been withdrawn and takes no more files');
      }
      if (Date.parse(request.expiresAt) <= Date.now()) {
        throw new RequestClosed('this file request has expired and takes no more files');
      }
    },
    cancelled: (upload) => options.requests.fileDropped(upload, 'cancelled'),
  };
  router.use(
    '/uploads',
    tusRoutes({
      uploads: options.uploads,
      gate,
      ...(options.audit ? { audit: options.audit } : {}),
    }),
  );
  return router;
}

function submitterOf(res: Response): Submitter {
  const submitter = res.locals['submitter'] as Submitter | undefined;
  if (!submitter) throw new Unauthenticated('open the file request link first');
  return submitter;
}
