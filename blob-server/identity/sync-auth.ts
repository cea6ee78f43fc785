import { docAccessFor, seesEveryCase, type DocAccess } from '../../web/lib/shared/access-policy.ts';
import { SyncAuthError, tokenOf, userIndexName, type SyncAuth } from '../../sync-server/auth.ts';
import type { AuthService } from './auth-service.ts';
import type { CaseAccessService } from './case-access.ts';
import { ACCESS_COOKIE } from './http.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Notifications } from '../notifications/notifications.ts';
import type { CaseEvents } from '../../web/lib/shared/case-doc.ts';

/** Edits to one case by one person within this long make one audit entry, not one per keystroke. */
const CASE_CHANGE_WINDOW_MS = 10_000;

/**
 * Case changes made through sync, in the audit trail: who changed which parts of which case
 * (`meta` is title and status, then `description`, `tags`, `evidence`), gathered per person and
 * case over a short window. Status changes and assignment are recorded at once, each on its own.
 */
function caseChanges(
  audit: AuditLog,
  windowMs: number,
  notifications: Notifications | undefined,
): NonNullable<SyncAuth['caseChanged']> {
  const open = new Map<string, { parts: Set<string>; updates: number; first: string }>();
  return (identity, caseId, parts, events) => {
    recordEvents(audit, notifications, identity.userId, caseId, events);
    const key = `${identity.userId}\u0000${caseId}`;
    let window = open.get(key);
    if (!window) {
      window = { parts: new Set(), updates: 0, first: new Date().toISOString() };
      open.set(key, window);
      const pending = window;
      setTimeout(() => {
        open.delete(key);
        void audit
          .record({
            action: 'case.changed',
            actor: { userId: identity.userId },
            target: `case:${caseId}`,
            details: {
              parts: [...pending.parts].sort(),
              updates: pending.updates,
              since: pending.first,
            },
          })
          .catch(() => undefined);
      }, windowMs).unref();
    }
    for (const part of parts) window.parts.add(part);
    window.updates++;
  };
}

function recordEvents(
  audit: AuditLog,
  notifications: Notifications | undefined,
  userId: string,
  caseId: string,
  events: CaseEvents,
): void {
  const entry = { actor: { userId }, target: `case:${caseId}` };
  if (events.status) {
    void audit
      .record({ ...entry, action: 'case.status_changed', details: { ...events.status } })
      .catch(() => undefined);
  }
  if (!events.assigned) return;
  void audit
    .record({ ...entry, action: 'case.assigned', details: { ...events.assigned } })
    .catch(() => undefined);
  if (!notifications || events.assigned.added.length === 0) return;
  void notifications
    .notify({
      userIds: events.assigned.added,
      actorId: userId,
      kind: 'case.assigned',
      title: `You were assigned to “${events.title ?? 'a case'}”`,
      body: 'Open the case to see its summary and evidence.',
      caseId,
      link: `/cases/${caseId}`,
    })
    .catch(() => undefined);
}

/** Sync access decided by the identity and case-access services in this same process. */
export function identitySyncAuth(
  service: AuthService,
  cases: CaseAccessService,
  audit?: AuditLog,
  options: { caseChangeWindowMs?: number; notifications?: Notifications } = {},
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
    writeDropped(identity, doc) {
      void audit?.record({
        action: 'sync.write_dropped',
        actor: { userId: identity.userId },
        target: doc,
        details: { reason: 'read-only access' },
      });
    },
    ...(audit
      ? {
          caseChanged: caseChanges(
            audit,
            options.caseChangeWindowMs ?? CASE_CHANGE_WINDOW_MS,
            options.notifications,
          ),
        }
      : {}),
    onRevoked: (listener) => service.onRevoked(listener),
    onCaseAccessChanged: (listener) => cases.onChanged(listener),
  };
}
