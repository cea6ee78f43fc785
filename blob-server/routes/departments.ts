import express, { type Router } from 'express';
import { departmentRequest } from '../../web/lib/shared/departments.ts';
import type { Departments } from '../departments/departments.ts';
import type { AuthService } from '../identity/auth-service.ts';
import { authOf, requestContext, requireAuth } from '../identity/http.ts';
import { paramOf, parseBody } from './validate.ts';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const idOf = (value: unknown) => paramOf(value, ID, 'a department');

/**
 * Departments under `/api/admin/departments`: `GET` for anyone signed in (the case page offers
 * them), `POST`, `PUT /:id` and `DELETE /:id` for administrators.
 */
export function departmentRoutes(options: { auth: AuthService; departments: Departments }): Router {
  const { departments } = options;
  const signedIn = requireAuth(options.auth);
  const json = express.json({ limit: '4kb' });
  const router = express.Router();

  router.get('/', signedIn, async (_req, res) => {
    res.json({ departments: await departments.list() });
  });

  router.post('/', signedIn, json, async (req, res) => {
    const input = parseBody(departmentRequest, req.body);
    res.status(201).json(await departments.create(authOf(res), input, requestContext(req)));
  });

  router.put('/:departmentId', signedIn, json, async (req, res) => {
    const input = parseBody(departmentRequest, req.body);
    const id = idOf(req.params.departmentId);
    res.json(await departments.change(authOf(res), id, input, requestContext(req)));
  });

  router.delete('/:departmentId', signedIn, async (req, res) => {
    await departments.remove(authOf(res), idOf(req.params.departmentId), requestContext(req));
    res.status(204).end();
  });

  return router;
}
