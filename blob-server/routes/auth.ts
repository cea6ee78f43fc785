import express, { type Request, type Response, type Router } from 'express';
import {
  changePasswordRequest,
  createUserRequest,
  loginRequest,
  refreshRequest,
  resetPasswordRequest,
  setupRequest,
  updateUserRequest,
  type SessionResponse,
} from '../../web/lib/shared/auth-schemas.ts';
import { publicUser, type AuthService } from '../identity/auth-service.ts';
import {
  ACCESS_COOKIE,
  REFRESH_COOKIE,
  authOf,
  refreshCookie,
  requestContext,
  requireAuth,
  setSessionCookies,
} from '../identity/http.ts';
import { parseBody } from './validate.ts';

const JSON_LIMIT = '32kb';

/**
 * Sign-in and accounts: `/api/setup` (first administrator), `/api/auth/*` (sessions),
 * `/api/admin/users` (administrators only). Browsers keep the refresh token in an httpOnly
 * cookie scoped to /api/auth; scripts may send it in the body instead.
 */
export function authRoutes(options: { auth: AuthService; refreshTtlMs: number }): Router {
  const { auth, refreshTtlMs } = options;
  const router = express.Router();
  const json = express.json({ limit: JSON_LIMIT });
  const signedIn = requireAuth(auth);

  const sendSession = (req: Request, res: Response, session: SessionResponse, status = 200) => {
    setSessionCookies(req, res, session, refreshTtlMs);
    // A browser gets the refresh token only as a cookie; a script asked for it in the body.
    const { refreshToken, ...rest } = session;
    const wantsToken = req.get('x-exhibit-client') === 'script';
    res.status(status).json(wantsToken ? { ...rest, refreshToken } : rest);
  };

  router.get('/setup', async (_req, res) => {
    res.json({ needed: await auth.setupNeeded() });
  });

  router.post('/setup', json, async (req, res) => {
    const input = parseBody(setupRequest, req.body);
    sendSession(req, res, await auth.setup(input, requestContext(req)), 201);
  });

  router.post('/auth/login', json, async (req, res) => {
    const { email, password } = parseBody(loginRequest, req.body);
    sendSession(req, res, await auth.login(email, password, requestContext(req)));
  });

  router.post('/auth/refresh', json, async (req, res) => {
    const { refreshToken } = parseBody(refreshRequest, req.body);
    sendSession(
      req,
      res,
      await auth.refresh(refreshToken ?? refreshCookie(req), requestContext(req)),
    );
  });

  router.post('/auth/logout', json, async (req, res) => {
    const token = parseBody(refreshRequest, req.body).refreshToken ?? refreshCookie(req);
    const sessionId = token?.split('.')[0];
    await auth.logout(sessionId, requestContext(req));
    res.clearCookie(REFRESH_COOKIE, { path: '/api/auth' });
    res.clearCookie(ACCESS_COOKIE, { path: '/' });
    res.status(204).end();
  });

  router.get('/auth/me', signedIn, (_req, res) => {
    res.json(publicUser(authOf(res).user));
  });

  router.post('/auth/password', signedIn, json, async (req, res) => {
    const { currentPassword, newPassword } = parseBody(changePasswordRequest, req.body);
    res.json(
      await auth.changePassword(authOf(res), currentPassword, newPassword, requestContext(req)),
    );
  });

  router.get('/admin/users', signedIn, async (_req, res) => {
    res.json({ users: await auth.listUsers(authOf(res)) });
  });

  router.post('/admin/users', signedIn, json, async (req, res) => {
    const input = parseBody(createUserRequest, req.body);
    res.status(201).json(await auth.createUser(authOf(res), input, requestContext(req)));
  });

  router.patch('/admin/users/:id', signedIn, json, async (req, res) => {
    const change = parseBody(updateUserRequest, req.body);
    res.json(
      await auth.updateUser(authOf(res), String(req.params.id), change, requestContext(req)),
    );
  });

  router.post('/admin/users/:id/password', signedIn, json, async (req, res) => {
    const { password } = parseBody(resetPasswordRequest, req.body);
    res.json(
      await auth.resetPassword(authOf(res), String(req.params.id), password, requestContext(req)),
    );
  });

  return router;
}
