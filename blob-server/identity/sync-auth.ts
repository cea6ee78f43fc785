import { docAccess } from '../../web/lib/shared/access-policy.ts';
import { SyncAuthError, tokenOf, type SyncAuth } from '../../sync-server/auth.ts';
import type { AuthService } from './auth-service.ts';
import { ACCESS_COOKIE } from './http.ts';

/** Sync access decided by the identity service in this same process. */
export function identitySyncAuth(service: AuthService): SyncAuth {
  return {
    async authenticate(req) {
      try {
        const { user, claims } = await service.authenticate(tokenOf(req, ACCESS_COOKIE));
        return { userId: user.id, role: user.role, sessionId: claims.sid };
      } catch (err) {
        throw new SyncAuthError((err as Error).message, { cause: err });
      }
    },
    access: async (identity, doc) => docAccess(identity.role, doc),
    onRevoked: (listener) => service.onRevoked(listener),
  };
}
