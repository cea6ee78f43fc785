import express, { type Request, type Response, type Router } from 'express';
import { ExhibitError } from '../errors.ts';
import { cookie, requestContext, setSessionCookies } from '../identity/http.ts';
import { FLOW_TTL_MS, type SingleSignOn } from '../identity/oidc.ts';

/** Holds the id of a sign-in in progress at the provider. */
export const OIDC_FLOW_COOKIE = 'exhibit_oidc';
const FLOW_COOKIE_PATH = '/api/auth/oidc';
const DEFAULT_LABEL = 'Sign in with single sign-on';

/**
 * Single sign-on under /api/auth/oidc: `GET /` tells the sign-in form whether to offer it,
 * `GET /start` sends the browser to the provider, `GET /callback` is where it comes back. Both
 * end in a redirect to the app, with `?signin_error=` when the sign-in did not happen.
 */
export function oidcRoutes(options: {
  sso: SingleSignOn | undefined;
  refreshTtlMs: number;
}): Router {
  const { sso, refreshTtlMs } = options;
  const router = express.Router();

  router.get('/', (_req, res) => {
    res.json({ enabled: sso !== undefined, label: sso?.label ?? DEFAULT_LABEL });
  });

  router.get('/start', async (req, res) => {
    if (!sso) return failed(res, 'single sign-on is not set up on this server');
    try {
      const { flowId, url } = await sso.start(requestContext(req));
      // Lax, not Strict: the browser comes back from the provider in a cross-site navigation.
      res.cookie(OIDC_FLOW_COOKIE, flowId, {
        httpOnly: true,
        secure: req.secure,
        sameSite: 'lax',
        path: FLOW_COOKIE_PATH,
        maxAge: FLOW_TTL_MS,
      });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, url.href);
    } catch (err) {
      failed(res, messageOf(err));
    }
  });

  router.get('/callback', async (req: Request, res: Response) => {
    if (!sso) return failed(res, 'single sign-on is not set up on this server');
    res.clearCookie(OIDC_FLOW_COOKIE, { path: FLOW_COOKIE_PATH });
    try {
      const { search } = new URL(req.originalUrl, 'http://callback.invalid');
      const session = await sso.finish(
        cookie(req.headers.cookie, OIDC_FLOW_COOKIE),
        search,
        requestContext(req),
      );
      setSessionCookies(req, res, session, refreshTtlMs);
      res.redirect(303, '/');
    } catch (err) {
      failed(res, messageOf(err));
    }
  });

  return router;
}

function failed(res: Response, message: string): void {
  res.setHeader('Cache-Control', 'no-store');
  res.redirect(303, `/?signin_error=${encodeURIComponent(message.slice(0, 200))}`);
}

function messageOf(err: unknown): string {
  return err instanceof ExhibitError
    ? err.message
    : 'single sign-on failed on the server; try again or ask an administrator';
}
