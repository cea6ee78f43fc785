import type { NextFunction, Request, Response } from 'express';
import { parse as parseCookies } from 'cookie';
import { Forbidden, Unauthenticated } from '../errors.ts';
import type { SessionResponse } from '../../web/lib/shared/auth-schemas.ts';
import type { AuthService, Authenticated, RequestContext } from './auth-service.ts';

export const REFRESH_COOKIE = 'exhibit_refresh';
/**
 * The access token again, as an httpOnly cookie, for what a browser fetches without letting
 * script add a header: evidence in <img>/<video>/downloads, and the sync WebSocket. Accepted
 * only on those reads (never on a request that changes anything), and SameSite=Strict.
 */
export const ACCESS_COOKIE = 'exhibit_access';

/** Who is calling, as set by `requireAuth`. */
export function authOf(res: Response): Authenticated {
  const auth = res.locals['auth'] as Authenticated | undefined;
  if (!auth) throw new Unauthenticated('sign in first');
  return auth;
}

/** Refuses the request unless it carries a valid access token of an active session. */
export function requireAuth(auth: AuthService) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const who = await auth.authenticate(bearerToken(req));
    refuseUntilOwnPassword(who, req);
    res.locals['auth'] = who;
    next();
  };
}

/** What someone holding an administrator's temporary password may still do. */
const WHILE_PASSWORD_TEMPORARY = new Set([
  '/api/auth/me',
  '/api/auth/password',
  '/api/auth/logout',
]);

/**
 * An administrator's temporary password (often passed on by phone or mail) opens nothing but
 * the password change: the person must choose their own before anything else is served.
 */
function refuseUntilOwnPassword(who: Authenticated, req: Request): void {
  if (!who.user.mustChangePassword) return;
  if (WHILE_PASSWORD_TEMPORARY.has(`${req.baseUrl}${req.path}`)) return;
  throw new Forbidden('choose your own password first: this account still has a temporary one');
}

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new Unauthenticated('the Authorization header must be "Bearer <token>"');
  return match[1];
}

export function refreshCookie(req: Request): string | undefined {
  return cookie(req.headers.cookie, REFRESH_COOKIE);
}

export function cookie(header: string | undefined, name: string): string | undefined {
  return header ? parseCookies(header)[name] : undefined;
}

/** For reads a browser makes on its own: the bearer header if present, else the access cookie. */
export function requireAuthForReads(auth: AuthService) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const token = bearerToken(req) ?? cookie(req.headers.cookie, ACCESS_COOKIE);
    const who = await auth.authenticate(token);
    refuseUntilOwnPassword(who, req);
    res.locals['auth'] = who;
    next();
  };
}

export function requestContext(req: Request): RequestContext {
  const userAgent = req.headers['user-agent'];
  return {
    ip: req.ip ?? req.socket.remoteAddress ?? 'unknown',
    ...(userAgent ? { userAgent } : {}),
  };
}

/**
 * Hands a browser its session: the access token for what it fetches on its own, and the refresh
 * token scoped to /api/auth. Password and single sign-on sign-ins set exactly the same cookies.
 */
export function setSessionCookies(
  req: Request,
  res: Response,
  session: SessionResponse,
  refreshTtlMs: number,
): void {
  res.cookie(ACCESS_COOKIE, session.accessToken, {
    httpOnly: true,
    secure: req.secure,
    sameSite: 'strict',
    path: '/',
    maxAge: Math.max(0, session.expiresAt * 1000 - Date.now()),
  });
  res.cookie(REFRESH_COOKIE, session.refreshToken, {
    httpOnly: true,
    secure: req.secure,
    sameSite: 'strict',
    path: '/api/auth',
    maxAge: refreshTtlMs,
  });
  res.setHeader('Cache-Control', 'no-store');
}
