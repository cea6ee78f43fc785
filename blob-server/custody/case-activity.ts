import { atLeast } from '../../web/lib/shared/access-policy.ts';
import { isActivity, type ActivityItem } from '../../web/lib/shared/case-activity.ts';
import type { DeviceEntry } from '../../web/lib/shared/device-log.ts';
import type { AuditLog, AuditRecord } from '../audit/audit-log.ts';
import { Forbidden } from '../errors.ts';
import type { Authenticated } from '../identity/auth-service.ts';
import type { CaseAccessService } from '../identity/case-access.ts';
import type { IdentityStore } from '../identity/identity-store.ts';

/** Details a case's members may read in its activity; addresses and browsers stay out. */
const SHOWN = [
  'filename',
  'name',
  'title',
  'reference',
  'member',
  'from',
  'to',
  'added',
  'removed',
  'parts',
  'sha256',
  'evidenceId',
  'reason',
  'category',
] as const;

/**
 * A case's activity for the people on it, newest first, read from the audit trail's index of
 * entries about the case: who added, changed, assigned, deleted, requested what, and when.
 */
export class CaseActivity {
  readonly #audit: AuditLog;
  readonly #cases: CaseAccessService;
  readonly #identity: IdentityStore;

  constructor(options: { audit: AuditLog; cases: CaseAccessService; identity: IdentityStore }) {
    this.#audit = options.audit;
    this.#cases = options.cases;
    this.#identity = options.identity;
  }

  async list(
    auth: Authenticated,
    caseId: string,
    page: { before?: number; limit: number },
  ): Promise<{ items: ActivityItem[]; next?: number }> {
    if (!atLeast(await this.#cases.levelFor(auth.user, caseId), 'view')) {
      throw new Forbidden('you have no access to this case');
    }
    const found = await this.#audit.latestAbout(`case:${caseId}`, {
      ...page,
      keep: (entry) => isActivity(entry.action),
    });
    const names = new Map<string, string | undefined>();
    const items: ActivityItem[] = [];
    for (const entry of found.entries) {
      const userId = entry.actor?.userId;
      if (userId && !names.has(userId)) {
        names.set(userId, (await this.#identity.getUser(userId))?.name);
      }
      const name = userId ? names.get(userId) : undefined;
      items.push({
        seq: entry.seq,
        time: entry.time,
        action: entry.action,
        ...(userId ? { actor: { id: userId, ...(name ? { name } : {}) } } : {}),
        details: shownDetails(entry),
      });
    }
    return { items, ...(found.next !== undefined ? { next: found.next } : {}) };
  }
}

function shownDetails(entry: AuditRecord): Record<string, unknown> {
  const raw = entry.details ?? {};
  // A device's record carries what it said in the signed entry.
  const record = (raw['deviceEntry'] as DeviceEntry | undefined)?.details ?? {};
  const all = { ...record, ...raw };
  const out: Record<string, unknown> = {};
  for (const key of SHOWN) if (all[key] !== undefined) out[key] = all[key];
  return out;
}
