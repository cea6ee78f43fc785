import express, { type Router } from 'express';
import { setMemberRequest } from '../../web/lib/shared/auth-schemas.ts';
import type { AuthService } from '../identity/auth-service.ts';
import type { CaseAccessService } from '../identity/case-access.ts';
import { authOf, requestContext, requireAuth } from '../identity/http.ts';
import { BadRequest } from '../errors.ts';
import { parseBody } from './validate.ts';

const CASE_ID = /^[A-Za-z0-9_-]{8,64}$/;

export function caseIdOf(value: unknown): string {
  if (typeof value !== 'string' || !CASE_ID.test(value)) {
    throw new BadRequest('the address must name a case: 8-64 characters of A-Z a-z 0-9 _ -');
  }
  return value;
}

/**
 * Case members: `GET /api/cases/:id/members` for anyone who may see the case,
 * `PUT` (add or change, by email) and `DELETE /api/cases/:id/members/:userId` for its managers.
 */
export function caseRoutes(options: { auth: AuthService; cases: CaseAccessService }): Router {
  const router = express.Router();
  const signedIn = requireAuth(options.auth);
  const json = express.json({ limit: '16kb' });

  router.get('/:id/members', signedIn, async (req, res) => {
    res.json({ members: await options.cases.members(authOf(res), caseIdOf(req.params.id)) });
  });

  router.put('/:id/members', signedIn, json, async (req, res) => {
    const input = parseBody(setMemberRequest, req.body);
    res.json(
      await options.cases.setMember(
        authOf(res),
        caseIdOf(req.params.id),
        input,
        requestContext(req),
      ),
    );
  });

  router.delete('/:id/members/:userId', signedIn, async (req, res) => {
    await options.cases.removeMember(
      authOf(res),
      caseIdOf(req.params.id),
      String(req.params.userId),
      requestContext(req),
    );
    res.status(204).end();
  });

  return router;
}
