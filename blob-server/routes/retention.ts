import express, { type Router } from 'express';
import {
  categoryRequest,
  reasonRequest,
  setCategoryRequest,
} from '../../web/lib/shared/retention.ts';
import type { AuthService } from '../identity/auth-service.ts';
import { authOf, requestContext, requireAuth } from '../identity/http.ts';
import type { RetentionService } from '../retention/retention-service.ts';
import { BadRequest } from '../errors.ts';
import { caseIdOf } from './cases.ts';
import { parseBody } from './validate.ts';

const ID = /^[A-Za-z0-9_-]{1,64}$/;

function idOf(value: unknown, what: string): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new BadRequest(`the address must name ${what}: 1-64 characters of A-Z a-z 0-9 _ -`);
  }
  return value;
}

/**
 * Retention's two route sets: `categories` for `/api/admin/categories`, `cases` for
 * `/api/cases`.
 */
export function retentionRoutes(options: { auth: AuthService; retention: RetentionService }): {
  categories: Router;
  cases: Router;
} {
  const signedIn = requireAuth(options.auth);
  const json = express.json({ limit: '4kb' });
  return {
    categories: categoryRoutes(options.retention, signedIn, json),
    cases: caseRetentionRoutes(options.retention, signedIn, json),
  };
}

type Handler = express.RequestHandler;

/**
 * Evidence categories: `GET /api/admin/categories` for anyone signed in (the case page offers
 * them), `POST`, `PUT /:id` and `DELETE /:id` for administrators.
 */
function categoryRoutes(retention: RetentionService, signedIn: Handler, json: Handler): Router {
  const router = express.Router();

  router.get('/', signedIn, async (_req, res) => {
    res.json(await retention.settings());
  });

  router.post('/', signedIn, json, async (req, res) => {
    const input = parseBody(categoryRequest, req.body);
    res.status(201).json(await retention.createCategory(authOf(res), input, requestContext(req)));
  });

  router.put('/:categoryId', signedIn, json, async (req, res) => {
    const id = idOf(req.params.categoryId, 'a category');
    const input = parseBody(categoryRequest, req.body);
    res.json(await retention.changeCategory(authOf(res), id, input, requestContext(req)));
  });

  router.delete('/:categoryId', signedIn, async (req, res) => {
    const id = idOf(req.params.categoryId, 'a category');
    await retention.deleteCategory(authOf(res), id, requestContext(req));
    res.status(204).end();
  });

  return router;
}

/**
 * A case's retention, under `/api/cases/:id`: `GET /retention` (anyone who may see the case),
 * `PUT /evidence/:evidenceId/category` (contributors), `DELETE /evidence/:evidenceId` into the
 * recycle bin and `POST /evidence/:evidenceId/restore` out of it, `PUT` and `DELETE
 * /legal-hold` (managers).
 */
function caseRetentionRoutes(
  retention: RetentionService,
  signedIn: Handler,
  json: Handler,
): Router {
  const router = express.Router();
  const evidenceIdOf = (value: unknown) => idOf(value, 'an evidence item');

  router.get('/:id/retention', signedIn, async (req, res) => {
    res.json(await retention.caseRetention(authOf(res), caseIdOf(req.params.id)));
  });

  router.put('/:id/evidence/:evidenceId/category', signedIn, json, async (req, res) => {
    const { categoryId } = parseBody(setCategoryRequest, req.body);
    res.json(
      await retention.setCategory(
        authOf(res),
        caseIdOf(req.params.id),
        evidenceIdOf(req.params.evidenceId),
        categoryId,
        requestContext(req),
      ),
    );
  });

  router.delete('/:id/evidence/:evidenceId', signedIn, json, async (req, res) => {
    const { reason } = parseBody(reasonRequest, req.body);
    res.json(
      await retention.deleteEvidence(
        authOf(res),
        caseIdOf(req.params.id),
        evidenceIdOf(req.params.evidenceId),
        reason,
        requestContext(req),
      ),
    );
  });

  router.post('/:id/evidence/:evidenceId/restore', signedIn, async (req, res) => {
    res.json(
      await retention.restoreEvidence(
        authOf(res),
        caseIdOf(req.params.id),
        evidenceIdOf(req.params.evidenceId),
        requestContext(req),
      ),
    );
  });

  router.put('/:id/legal-hold', signedIn, json, async (req, res) => {
    const { reason } = parseBody(reasonRequest, req.body);
    res.json(
      await retention.placeLegalHold(
        authOf(res),
        caseIdOf(req.params.id),
        reason,
        requestContext(req),
      ),
    );
  });

  router.delete('/:id/legal-hold', signedIn, json, async (req, res) => {
    const { reason } = parseBody(reasonRequest, req.body);
    await retention.releaseLegalHold(
      authOf(res),
      caseIdOf(req.params.id),
      reason,
      requestContext(req),
    );
    res.status(204).end();
  });

  return router;
}
