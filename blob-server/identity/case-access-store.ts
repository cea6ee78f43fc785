import type { Level } from 'level';
import type { CaseLevel } from '../../web/lib/shared/access-policy.ts';

export interface CaseRecord {
  caseId: string;
  createdBy: string;
  createdAt: string;
}

export interface Membership {
  caseId: string;
  userId: string;
  level: CaseLevel;
  expiresAt?: string;
  addedBy: string;
  addedAt: string;
}

const SEP = '\u0000';

/**
 * Who owns and who may work on each case, and which evidence (by SHA-256) each case holds, in
 * the identity database. Server-owned: clients change it only through the members API.
 */
export class CaseAccessStore {
  readonly #db: Level<string, unknown>;
  readonly #cases;
  readonly #members;
  readonly #byUser;
  readonly #evidence;
  readonly #caseEvidence;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(db: Level<string, unknown>) {
    this.#db = db;
    this.#cases = db.sublevel<string, CaseRecord>('cases', { valueEncoding: 'json' });
    this.#members = db.sublevel<string, Membership>('members', { valueEncoding: 'json' });
    this.#byUser = db.sublevel<string, string>('members-by-user', { valueEncoding: 'utf8' });
    this.#evidence = db.sublevel<string, string>('evidence-cases', { valueEncoding: 'utf8' });
    this.#caseEvidence = db.sublevel<string, string>('case-evidence', { valueEncoding: 'utf8' });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async getCase(caseId: string): Promise<CaseRecord | undefined> {
    return this.#cases.get(caseId);
  }

  /**
   * Records who opened a case and makes them its manager; a case already recorded keeps its
   * owner. Returns the record that stands.
   */
  registerCase(caseId: string, userId: string): Promise<{ record: CaseRecord; created: boolean }> {
    return this.#serial(async () => {
      const existing = await this.#cases.get(caseId);
      if (existing) return { record: existing, created: false };
      const now = new Date().toISOString();
      const record: CaseRecord = { caseId, createdBy: userId, createdAt: now };
      const membership: Membership = {
        caseId,
        userId,
        level: 'manage',
        addedBy: userId,
        addedAt: now,
      };
      await this.#db.batch([
        { type: 'put', sublevel: this.#cases, key: caseId, value: record },
        {
          type: 'put',
          sublevel: this.#members,
          key: `${caseId}${SEP}${userId}`,
          value: membership,
        },
        { type: 'put', sublevel: this.#byUser, key: `${userId}${SEP}${caseId}`, value: '' },
      ]);
      return { record, created: true };
    });
  }

  async getMembership(caseId: string, userId: string): Promise<Membership | undefined> {
    return this.#members.get(`${caseId}${SEP}${userId}`);
  }

  putMembership(membership: Membership): Promise<void> {
    return this.#serial(async () => {
      await this.#db.batch([
        {
          type: 'put',
          sublevel: this.#members,
          key: `${membership.caseId}${SEP}${membership.userId}`,
          value: membership,
        },
        {
          type: 'put',
          sublevel: this.#byUser,
          key: `${membership.userId}${SEP}${membership.caseId}`,
          value: '',
        },
      ]);
    });
  }

  removeMembership(caseId: string, userId: string): Promise<void> {
    return this.#serial(async () => {
      await this.#db.batch([
        { type: 'del', sublevel: this.#members, key: `${caseId}${SEP}${userId}` },
        { type: 'del', sublevel: this.#byUser, key: `${userId}${SEP}${caseId}` },
      ]);
    });
  }

  async members(caseId: string): Promise<Membership[]> {
    const prefix = `${caseId}${SEP}`;
    return this.#members.values({ gte: prefix, lt: `${prefix}\uffff` }).all();
  }

  async casesOf(userId: string): Promise<string[]> {
    const prefix = `${userId}${SEP}`;
    const keys = await this.#byUser.keys({ gte: prefix, lt: `${prefix}\uffff` }).all();
    return keys.map((k) => k.slice(prefix.length));
  }

  /** Replaces the set of evidence digests recorded for a case. */
  setEvidence(caseId: string, digests: Iterable<string>): Promise<void> {
    return this.#serial(async () => {
      const prefix = `${caseId}${SEP}`;
      const before = new Set(
        (await this.#caseEvidence.keys({ gte: prefix, lt: `${prefix}\uffff` }).all()).map((k) =>
          k.slice(prefix.length),
        ),
      );
      const after = new Set(digests);
      const batch = this.#db.batch();
      for (const digest of after) {
        if (before.has(digest)) continue;
        batch.put(`${prefix}${digest}`, '', { sublevel: this.#caseEvidence });
        batch.put(`${digest}${SEP}${caseId}`, '', { sublevel: this.#evidence });
      }
      for (const digest of before) {
        if (after.has(digest)) continue;
        batch.del(`${prefix}${digest}`, { sublevel: this.#caseEvidence });
        batch.del(`${digest}${SEP}${caseId}`, { sublevel: this.#evidence });
      }
      if (batch.length > 0) await batch.write();
      else await batch.close();
    });
  }

  /** The cases whose documents list evidence with this digest. */
  /** One more file in the case, known to the server before the case document lists it. */
  addEvidence(caseId: string, digest: string): Promise<void> {
    return this.#serial(async () => {
      await this.#db.batch([
        { type: 'put', key: `${caseId}${SEP}${digest}`, value: '', sublevel: this.#caseEvidence },
        { type: 'put', key: `${digest}${SEP}${caseId}`, value: '', sublevel: this.#evidence },
      ]);
    });
  }

  async casesWithEvidence(digest: string): Promise<string[]> {
    const prefix = `${digest}${SEP}`;
    const keys = await this.#evidence.keys({ gte: prefix, lt: `${prefix}\uffff` }).all();
    return keys.map((k) => k.slice(prefix.length));
  }
}
