import type http from 'node:http';
import { isRole } from '../web/lib/shared/roles.ts';
import type { DocAccess } from '../web/lib/shared/access-policy.ts';
import { SyncAuthError, tokenOf, type SyncAuth, type SyncIdentity } from './auth.ts';

const ACCESS_COOKIE = 'exhibit_access';

interface Admission {
  access: DocAccess;
  index: string;
}

/**
 * Sync access for a sync-server run on its own: the API server decides (through its internal
 * routes, with the shared service token). Revocations and membership changes reach open
 * connections of a separate sync-server only when they reconnect.
 */
export function apiSyncAuth(apiUrl: string, serviceToken: string): SyncAuth {
  const admissions = new WeakMap<SyncIdentity, Admission>();
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    try {
      return await fetch(new URL(`/api/internal/sync${path}`, apiUrl), {
        ...init,
        headers: {
          authorization: `Bearer ${serviceToken}`,
          'content-type': 'application/json',
        },
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw new SyncAuthError(`the API server at ${apiUrl} could not be reached`, { cause: err });
    }
  };

  return {
    async authenticate(req: http.IncomingMessage) {
      const doc = decodeURIComponent((req.url ?? '').split('?')[0]?.replace(/^\/sync\//, '') ?? '');
      const token = tokenOf(req, ACCESS_COOKIE);
      const response = await call('/admit', {
        method: 'POST',
        body: JSON.stringify({ token, doc }),
      });
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok)
        throw new SyncAuthError(String(body['message'] ?? 'the sign-in was refused'));
      const identity = body['identity'] as SyncIdentity | undefined;
      if (!identity || typeof identity.userId !== 'string' || !isRole(identity.role)) {
        throw new SyncAuthError('the API server gave an answer that is not a user');
      }
      admissions.set(identity, {
        access: body['access'] as DocAccess,
        index: String(body['index'] ?? 'cases'),
      });
      return identity;
    },
    access: async (identity) => admissions.get(identity)?.access ?? 'none',
    indexFor: (identity) => admissions.get(identity)?.index ?? `cases.${identity.userId}`,
    async caseReaders(caseId) {
      const response = await call(`/cases/${encodeURIComponent(caseId)}/readers`);
      if (!response.ok) throw new Error(`the API server answered ${response.status}`);
      return ((await response.json()) as { userIds: string[] }).userIds;
    },
    // The sync-server's own log has it; the API server's audit record does not (yet).
    writeDropped: () => undefined,
    onRevoked: () => () => undefined,
    onCaseAccessChanged: () => () => undefined,
  };
}
