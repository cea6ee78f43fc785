import { docAccess } from '../web/lib/shared/access-policy.ts';
import { isRole } from '../web/lib/shared/roles.ts';
import { SyncAuthError, tokenOf, type SyncAuth } from './auth.ts';

const ACCESS_COOKIE = 'exhibit_access';

/**
 * Sync access for a sync-server run on its own: each connection's token is checked by the API
 * server (`GET /api/auth/me`), which also sees revoked sessions. Revocations reach open
 * connections of a separate sync-server only when they reconnect.
 */
export function apiSyncAuth(apiUrl: string): SyncAuth {
  return {
    async authenticate(req) {
      const token = tokenOf(req, ACCESS_COOKIE);
      if (!token) throw new SyncAuthError('missing token; sign in first');
      let response: Response;
      try {
        response = await fetch(new URL('/api/auth/me', apiUrl), {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(5000),
        });
      } catch (err) {
        throw new SyncAuthError(
          `the API server at ${apiUrl} could not be reached to check the sign-in`,
          {
            cause: err,
          },
        );
      }
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok)
        throw new SyncAuthError(String(body['message'] ?? 'the sign-in was refused'));
      const role = body['role'];
      if (typeof body['id'] !== 'string' || !isRole(role)) {
        throw new SyncAuthError('the API server gave an answer that is not a user');
      }
      return { userId: body['id'], role, sessionId: sessionOf(token) };
    },
    access: async (identity, doc) => docAccess(identity.role, doc),
    onRevoked: () => () => undefined,
  };
}

/** The session id inside a token the API server has just accepted. */
function sessionOf(token: string): string {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      sid?: unknown;
    };
    return typeof payload.sid === 'string' ? payload.sid : '';
  } catch {
    return '';
  }
}
