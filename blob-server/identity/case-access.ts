import { EventEmitter } from 'node:events';
import {
  atLeast,
  caseLevel,
  mayCreateCases,
  seesEveryCase,
  type CaseLevel,
} from '../../web/lib/shared/access-policy.ts';
import type { Role } from '../../web/lib/shared/roles.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { BadRequest, Forbidden, NotFound } from '../errors.ts';
import type { Authenticated, RequestContext } from './auth-service.ts';
import type { CaseAccessStore, Membership } from './case-access-store.ts';
import type { IdentityStore } from './identity-store.ts';

/** Someone's access to one case changed: their index and open connections follow at once. */
export interface MembershipChange {
  caseId: string;
  userId: string;
  reason: string;
}

export interface MemberView {
  userId: string;
  name: string;
  email: string;
  role: Role;
  level: CaseLevel;
  expiresAt?: string;
  addedAt: string;
}

interface Caller {
  id: string;
  role: Role;
}

/** Longest delay a Node timer takes; later expiries are picked up by a later check. */
const MAX_TIMER_MS = 2_147_000_000;

/**
 * Case-level access: who created a case, who is a member and at which level, and which
 * evidence a case holds, so that every read, write and download is checked on the server.
 */
export class CaseAccessService {
  readonly #store: CaseAccessStore;
  readonly #identity: IdentityStore;
  readonly #audit: AuditLog;
  readonly #now: () => Date;
  readonly #events = new EventEmitter<{ changed: [MembershipChange] }>();
  readonly #expiryTimers = new Map<string, NodeJS.Timeout>();

  constructor(options: {
    store: CaseAccessStore;
    identity: IdentityStore;
    audit: AuditLog;
    now?: () => Date;
  }) {
    this.#store = options.store;
    this.#identity = options.identity;
    this.#audit = options.audit;
    this.#now = options.now ?? (() => new Date());
  }

  onChanged(listener: (change: MembershipChange) => void): () => void {
    this.#events.on('changed', listener);
    return () => this.#events.off('changed', listener);
  }

  /** The caller's level on a case, or undefined for none. Unknown cases give none. */
  async levelFor(caller: Caller, caseId: string): Promise<CaseLevel | undefined> {
    if (seesEveryCase(caller.role)) return 'manage';
    const membership = await this.#store.getMembership(caseId, caller.id);
    const level = caseLevel(caller.role, membership, this.#now());
    // Whoever is admitted on an expiring membership is shut out when it ends, not at reconnect.
    if (level && membership?.expiresAt) this.#scheduleExpiry(membership);
    return level;
  }

  /**
   * Access for someone opening a case: a case nobody has opened yet becomes theirs, managed by
   * them, if their role may open cases.
   */
  async admit(caller: Caller, caseId: string): Promise<CaseLevel | undefined> {
    if (!(await this.#store.getCase(caseId)) && mayCreateCases(caller.role)) {
      const { created } = await this.#store.registerCase(caseId, caller.id);
      if (created) {
        await this.#audit.record({
          action: 'case.created',
          actor: { userId: caller.id },
          target: `case:${caseId}`,
        });
        this.#events.emit('changed', { caseId, userId: caller.id, reason: 'opened the case' });
      }
    }
    return this.levelFor(caller, caseId);
  }

  /** Users with a live membership: the ones whose own case list shows this case. */
  async readersOf(caseId: string): Promise<string[]> {
    const now = this.#now();
    const readers: string[] = [];
    for (const membership of await this.#store.members(caseId)) {
      const user = await this.#identity.getUser(membership.userId);
      if (!user || user.disabled || seesEveryCase(user.role)) continue;
      if (caseLevel(user.role, membership, now)) readers.push(user.id);
    }
    return readers;
  }

  /**
   * A download needs view access to a case that holds the file outside its recycle bin; files
   * in a recycle bin only administrators may download. Supervisors, who see every case, may
   * also fetch files no case lists yet (a thumbnail sent before its case document).
   */
  async mayDownload(caller: Caller, digest: string): Promise<boolean> {
    if (caller.role === 'administrator') return true;
    const cases = await this.#store.casesWithEvidence(digest);
    if (cases.length === 0) return seesEveryCase(caller.role);
    for (const caseId of cases) {
      if (
        atLeast(await this.levelFor(caller, caseId), 'view') &&
        !(await this.#store.withheld(caseId, digest))
      ) {
        return true;
      }
    }
    return false;
  }

  async mayAddEvidence(caller: Caller, caseId: string): Promise<boolean> {
    return atLeast(await this.admit(caller, caseId), 'contribute');
  }

  /** A file the server itself stored and verified for the case (a finished upload). */
  async addEvidence(
    caseId: string,
    digest: string,
    item?: { evidenceId: string; addedAt: string; addedBy?: string },
  ): Promise<void> {
    await this.#store.addEvidence(caseId, digest, item);
  }

  /** Evidence items, legal holds and categories: what retention (blob-server/retention) keeps. */
  get records(): CaseAccessStore {
    return this.#store;
  }

  async recordEvidence(caseId: string, digests: Iterable<string>): Promise<void> {
    await this.#store.setEvidence(caseId, digests);
  }

  // --- members ----------------------------------------------------------------------------

  async members(auth: Authenticated, caseId: string): Promise<MemberView[]> {
    await this.#require(auth, caseId, 'view');
    const views: MemberView[] = [];
    for (const m of await this.#store.members(caseId)) {
      const user = await this.#identity.getUser(m.userId);
      if (!user) continue;
      views.push({
        userId: user.id,
        name: user.name,
        email: user.email,
        role: user.role,
        level: m.level,
        addedAt: m.addedAt,
        ...(m.expiresAt ? { expiresAt: m.expiresAt } : {}),
      });
    }
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  async setMember(
    auth: Authenticated,
    caseId: string,
    input: { email: string; level: CaseLevel; expiresAt?: string },
    ctx: RequestContext,
  ): Promise<MemberView> {
    await this.#require(auth, caseId, 'manage');
    const user = await this.#identity.findUserByEmail(input.email);
    if (!user) throw new NotFound(`there is no account with the email ${input.email}`);
    if (input.expiresAt && Date.parse(input.expiresAt) <= this.#now().getTime()) {
      throw new BadRequest('the expiry date must be in the future');
    }
    const membership: Membership = {
      caseId,
      userId: user.id,
      level: input.level,
      addedBy: auth.user.id,
      addedAt: this.#now().toISOString(),
      ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
    };
    const before = await this.#store.getMembership(caseId, user.id);
    await this.#store.putMembership(membership);
    this.#scheduleExpiry(membership);
    await this.#audit.record({
      action: before ? 'case.member_changed' : 'case.member_added',
      actor: { userId: auth.user.id, email: auth.user.email },
      target: `case:${caseId}`,
      details: {
        member: user.email,
        level: input.level,
        ...(before ? { previousLevel: before.level } : {}),
        ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
      },
      ip: ctx.ip,
      ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
    });
    this.#events.emit('changed', { caseId, userId: user.id, reason: 'membership changed' });
    return {
      userId: user.id,
      name: user.name,
      email: user.email,
      role: user.role,
      level: membership.level,
      addedAt: membership.addedAt,
      ...(membership.expiresAt ? { expiresAt: membership.expiresAt } : {}),
    };
  }

  async removeMember(
    auth: Authenticated,
    caseId: string,
    userId: string,
    ctx: RequestContext,
  ): Promise<void> {
    await this.#require(auth, caseId, 'manage');
    const before = await this.#store.getMembership(caseId, userId);
    if (!before) throw new NotFound('that person is not a member of this case');
    await this.#store.removeMembership(caseId, userId);
    clearTimeout(this.#expiryTimers.get(`${caseId}:${userId}`));
    await this.#audit.record({
      action: 'case.member_removed',
      actor: { userId: auth.user.id, email: auth.user.email },
      target: `case:${caseId}`,
      details: { member: userId, previousLevel: before.level },
      ip: ctx.ip,
      ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
    });
    this.#events.emit('changed', { caseId, userId, reason: 'removed from the case' });
  }

  async #require(auth: Authenticated, caseId: string, needed: CaseLevel): Promise<void> {
    const level = await this.levelFor(auth.user, caseId);
    if (!atLeast(level, needed)) {
      throw new Forbidden(
        needed === 'manage'
          ? 'only a manager of this case may change its members'
          : 'you have no access to this case',
      );
    }
  }

  /** Ends an expiring membership on time, closing what the member has open. */
  #scheduleExpiry(membership: Membership): void {
    const key = `${membership.caseId}:${membership.userId}`;
    const current = this.#expiryTimers.get(key) as (NodeJS.Timeout & { at?: string }) | undefined;
    if (current && current.at === membership.expiresAt) return;
    clearTimeout(current);
    this.#expiryTimers.delete(key);
    if (!membership.expiresAt) return;
    const delay = Date.parse(membership.expiresAt) - this.#now().getTime();
    if (delay > MAX_TIMER_MS) return;
    const timer = setTimeout(
      () => {
        this.#expiryTimers.delete(key);
        this.#events.emit('changed', {
          caseId: membership.caseId,
          userId: membership.userId,
          reason: 'membership expired',
        });
      },
      Math.max(0, delay),
    );
    timer.unref();
    (timer as NodeJS.Timeout & { at?: string }).at = membership.expiresAt;
    this.#expiryTimers.set(key, timer);
  }

  close(): void {
    for (const timer of this.#expiryTimers.values()) clearTimeout(timer);
    this.#expiryTimers.clear();
  }
}
