import { docAccessFor, seesEveryCase, type DocAccess } from '../../web/lib/shared/access-policy.ts';
import { SyncAuthError, tokenOf, userIndexName, type SyncAuth } from '../../sync-server/auth.ts';
import type { AuthService } from './auth-service.ts';
import type { CaseAccessService } from './case-access.ts';
import { ACCESS_COOKIE } from './http.ts';
import type { AuditLog } from '../audit/audit-log.ts';

/** Sync access decided by the identity and case-access services in this same process. */
export function identitySyncAuth(
  service: AuthService,
  cases: CaseAccessService,
  audit?: AuditLog,
): SyncAuth {
  return {
    async authenticate(req) {
      try {
        const { user, claims } = await service.authenticate(tokenOf(req, ACCESS_COOKIE));
        if (user.mustChangePassword) {
          throw new SyncAuthError(
            'choose your own password first: this account has a temporary one',
            {
              cause: { code: 'password-change-required' },
            },
          );
        }
        return { userId: user.id, role: user.role, sessionId: claims.sid };
      } catch (err) {
        if (err instanceof SyncAuthError) throw err;
        throw new SyncAuthError((err as Error).message, { cause: err });
      }
    },
    async access(identity, doc): Promise<DocAccess> {
      if (doc.kind === 'cases') return 'read';
      return docAccessFor(await cases.admit({ id: identity.userId, role: identity.role }, doc.id));
    },
    indexFor: (identity) =>
      seesEveryCase(identity.role) ? 'cases' : userIndexName(identity.userId),
    caseReaders: (caseId) => cases.readersOf(caseId),
    caseStored: (caseId, evidence) => cases.recordEvidence(caseId, evidence),
    writeDropped(identity, doc) {
      void audit?.record({
        action: 'sync.write_dropped',
        actor: { userId: identity.userId },
        target: doc,
        details: { reason: 'read-only access' },
      });
    },
    onRevoked: (listener) => service.onRevoked(listener),
    onCaseAccessChanged: (listener) => cases.onChanged(listener),
  };
}
