import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';

import type { Role } from '../../web/lib/shared/roles.ts';
import {
  SyncAuthError,
  tokenOf,
  type SyncAuth,
  type SyncIdentity,
  type SyncRevocation,
} from '../../sync-server/auth.ts';

/**
 * A SyncAuth over a table of tokens, for sync-server tests that are about syncing rather than
 * sign-in (which the identity tests cover with the real service). Same access policy as
 * production.
 */
export function tableSyncAuth(): SyncAuth & {
  /** A token for a new identity with this role. */
  issue(role: Role, userId?: string): { token: string; identity: SyncIdentity };
  revoke(revocation: SyncRevocation): void;
  /** Writes dropped from read-only connections. */
  dropped: Array<{ userId: string; doc: string }>;
} {
  const tokens = new Map<string, SyncIdentity>();
  const dropped: Array<{ userId: string; doc: string }> = [];
  const events = new EventEmitter<{
    revoked: [SyncRevocation];
    access: [{ caseId: string; userId: string }];
  }>();
  return {
    async authenticate(req) {
      const token = tokenOf(req, 'exhibit_access');
      const identity = token ? tokens.get(token) : undefined;
      if (!identity) throw new SyncAuthError(token ? 'the token is not valid' : 'missing token');
      return identity;
    },
    // Staff may work on every case and read the whole index; guests get nothing.
    access: async (identity, doc) =>
      identity.role === 'guest' ? 'none' : doc.kind === 'cases' ? 'read' : 'write',
    indexFor: () => 'cases',
    caseReaders: async () => [],
    dropped,
    writeDropped: (identity, doc) => dropped.push({ userId: identity.userId, doc }),
    onRevoked(listener) {
      events.on('revoked', listener);
      return () => events.off('revoked', listener);
    },
    onCaseAccessChanged(listener) {
      events.on('access', listener);
      return () => events.off('access', listener);
    },
    issue(role, userId = randomUUID()) {
      const token = randomUUID();
      const identity = { userId, role, sessionId: randomUUID() };
      tokens.set(token, identity);
      return { token, identity };
    },
    revoke(revocation) {
      for (const [token, identity] of tokens) {
        if (identity.userId !== revocation.userId) continue;
        if (revocation.sessionIds && !revocation.sessionIds.includes(identity.sessionId)) continue;
        tokens.delete(token);
      }
      events.emit('revoked', revocation);
    },
  };
}
