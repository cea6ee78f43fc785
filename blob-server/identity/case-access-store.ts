import type { Level } from 'level';
import type { CaseLevel } from '../../web/lib/shared/access-policy.ts';
import type {
  EvidenceCategory,
  EvidenceDeletion,
  LegalHold,
} from '../../web/lib/shared/retention.ts';

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

/** One evidence item of a case, as the server recorded it when it stored the file. */
export interface EvidenceItem {
  caseId: string;
  evidenceId: string;
  sha256: string;
  addedAt: string;
  addedBy?: string;
  categoryId?: string;
  deleted?: EvidenceDeletion;
  /** Purged from the recycle bin: kept as a tombstone so the case document cannot re-list it. */
  purgedAt?: string;
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
  readonly #items;
  readonly #itemsByDigest;
  readonly #itemsByCategory;
  readonly #purgeQueue;
  readonly #holds;
  readonly #categories;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(db: Level<string, unknown>) {
    this.#db = db;
    this.#cases = db.sublevel<string, CaseRecord>('cases', { valueEncoding: 'json' });
    this.#members = db.sublevel<string, Membership>('members', { valueEncoding: 'json' });
    this.#byUser = db.sublevel<string, string>('members-by-user', { valueEncoding: 'utf8' });
    this.#evidence = db.sublevel<string, string>('evidence-cases', { valueEncoding: 'utf8' });
    this.#caseEvidence = db.sublevel<string, string>('case-evidence', { valueEncoding: 'utf8' });
    this.#items = db.sublevel<string, EvidenceItem>('evidence-items', { valueEncoding: 'json' });
    // case, digest, evidence id: which items of a case hold one file (usually one).
    this.#itemsByDigest = db.sublevel<string, string>('evidence-items-by-digest', {
      valueEncoding: 'utf8',
    });
    // category, case, evidence id: whether a category is in use.
    this.#itemsByCategory = db.sublevel<string, string>('evidence-items-by-category', {
      valueEncoding: 'utf8',
    });
    // purge time, case, evidence id: what is in a recycle bin, soonest purge first.
    this.#purgeQueue = db.sublevel<string, string>('evidence-purge-queue', {
      valueEncoding: 'utf8',
    });
    this.#holds = db.sublevel<string, LegalHold>('legal-holds', { valueEncoding: 'json' });
    this.#categories = db.sublevel<string, EvidenceCategory>('evidence-categories', {
      valueEncoding: 'json',
    });
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
      const before = new Set(await this.evidenceOf(caseId));
      const after = new Set<string>();
      for (const digest of digests) {
        // A purged file stays out even if a device's stale copy of the document still lists it.
        if (before.has(digest) || !(await this.#onlyPurged(caseId, digest))) after.add(digest);
      }
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

  /**
   * One more file in the case, known to the server before the case document lists it, with the
   * evidence item it belongs to. An item recorded before keeps its record (category, deletion).
   */
  addEvidence(
    caseId: string,
    digest: string,
    item?: { evidenceId: string; addedAt: string; addedBy?: string },
  ): Promise<void> {
    return this.#serial(async () => {
      const batch = this.#db.batch();
      batch.put(`${caseId}${SEP}${digest}`, '', { sublevel: this.#caseEvidence });
      batch.put(`${digest}${SEP}${caseId}`, '', { sublevel: this.#evidence });
      if (item && !(await this.#items.get(`${caseId}${SEP}${item.evidenceId}`))) {
        const record: EvidenceItem = { caseId, sha256: digest, ...item };
        batch.put(`${caseId}${SEP}${item.evidenceId}`, record, { sublevel: this.#items });
        batch.put(`${caseId}${SEP}${digest}${SEP}${item.evidenceId}`, '', {
          sublevel: this.#itemsByDigest,
        });
      }
      await batch.write();
    });
  }

  /** The digests a case holds. */
  async evidenceOf(caseId: string): Promise<string[]> {
    const prefix = `${caseId}${SEP}`;
    const keys = await this.#caseEvidence.keys({ gte: prefix, lt: `${prefix}\uffff` }).all();
    return keys.map((k) => k.slice(prefix.length));
  }

  /** The cases whose documents list evidence with this digest. */
  async casesWithEvidence(digest: string): Promise<string[]> {
    const prefix = `${digest}${SEP}`;
    const keys = await this.#evidence.keys({ gte: prefix, lt: `${prefix}\uffff` }).all();
    return keys.map((k) => k.slice(prefix.length));
  }

  // --- retention ------------------------------------------------------------------------

  async getItem(caseId: string, evidenceId: string): Promise<EvidenceItem | undefined> {
    return this.#items.get(`${caseId}${SEP}${evidenceId}`);
  }

  async items(caseId: string): Promise<EvidenceItem[]> {
    const prefix = `${caseId}${SEP}`;
    return this.#items.values({ gte: prefix, lt: `${prefix}\uffff` }).all();
  }

  /** Changes one item (category, deletion), keeping the category index in step. */
  updateItem(
    caseId: string,
    evidenceId: string,
    change: (item: EvidenceItem) => EvidenceItem,
  ): Promise<EvidenceItem> {
    return this.#serial(async () => {
      const key = `${caseId}${SEP}${evidenceId}`;
      const before = await this.#items.get(key);
      if (!before) throw new Error(`no evidence item ${evidenceId} in case ${caseId}`);
      const after = change(before);
      const batch = this.#db.batch();
      batch.put(key, after, { sublevel: this.#items });
      if (before.deleted?.purgeAt !== after.deleted?.purgeAt) {
        if (before.deleted) {
          batch.del(`${before.deleted.purgeAt}${SEP}${key}`, { sublevel: this.#purgeQueue });
        }
        if (after.deleted) {
          batch.put(`${after.deleted.purgeAt}${SEP}${key}`, '', { sublevel: this.#purgeQueue });
        }
      }
      if (before.categoryId !== after.categoryId) {
        if (before.categoryId) {
          batch.del(`${before.categoryId}${SEP}${key}`, { sublevel: this.#itemsByCategory });
        }
        if (after.categoryId) {
          batch.put(`${after.categoryId}${SEP}${key}`, '', { sublevel: this.#itemsByCategory });
        }
      }
      await batch.write();
      return after;
    });
  }

  /** Items in the recycle bin whose purge time has come, across all cases. */
  async duePurges(now: Date): Promise<EvidenceItem[]> {
    const keys = await this.#purgeQueue.keys({ lt: `${now.toISOString()}\uffff` }).all();
    const items = await this.#items.getMany(keys.map((k) => k.slice(k.indexOf(SEP) + 1)));
    return items.filter(
      (item): item is EvidenceItem =>
        item?.deleted !== undefined &&
        !item.purgedAt &&
        Date.parse(item.deleted.purgeAt) <= now.getTime(),
    );
  }

  /**
   * Marks the item purged and, unless another item of the case still holds the same file,
   * removes the case's link to it, in one batch. Resolves with the cases still linking the file.
   */
  markPurged(caseId: string, evidenceId: string, at: string): Promise<string[]> {
    return this.#serial(async () => {
      const key = `${caseId}${SEP}${evidenceId}`;
      const item = await this.#items.get(key);
      if (!item) throw new Error(`no evidence item ${evidenceId} in case ${caseId}`);
      const digest = item.sha256;
      const batch = this.#db.batch();
      batch.put(key, { ...item, purgedAt: at }, { sublevel: this.#items });
      if (item.deleted) {
        batch.del(`${item.deleted.purgeAt}${SEP}${key}`, { sublevel: this.#purgeQueue });
      }
      if (item.categoryId) {
        batch.del(`${item.categoryId}${SEP}${key}`, { sublevel: this.#itemsByCategory });
      }
      const siblings = (await this.#itemsWithDigest(caseId, digest)).filter(
        (other) => other.evidenceId !== evidenceId && !other.purgedAt,
      );
      if (siblings.length === 0) {
        batch.del(`${caseId}${SEP}${digest}`, { sublevel: this.#caseEvidence });
        batch.del(`${digest}${SEP}${caseId}`, { sublevel: this.#evidence });
      }
      await batch.write();
      const prefix = `${digest}${SEP}`;
      const keys = await this.#evidence.keys({ gte: prefix, lt: `${prefix}\uffff` }).all();
      return keys.map((k) => k.slice(prefix.length));
    });
  }

  /**
   * True when the file is in this case only through items in the recycle bin: then only
   * administrators may download it.
   */
  async withheld(caseId: string, digest: string): Promise<boolean> {
    const items = (await this.#itemsWithDigest(caseId, digest)).filter((i) => !i.purgedAt);
    return items.length > 0 && items.every((i) => i.deleted);
  }

  async #itemsWithDigest(caseId: string, digest: string): Promise<EvidenceItem[]> {
    const prefix = `${caseId}${SEP}${digest}${SEP}`;
    const ids = await this.#itemsByDigest.keys({ gte: prefix, lt: `${prefix}\uffff` }).all();
    const items = await this.#items.getMany(
      ids.map((k) => `${caseId}${SEP}${k.slice(prefix.length)}`),
    );
    return items.filter((i): i is EvidenceItem => i !== undefined);
  }

  async #onlyPurged(caseId: string, digest: string): Promise<boolean> {
    const items = await this.#itemsWithDigest(caseId, digest);
    return items.length > 0 && items.every((i) => i.purgedAt);
  }

  async getLegalHold(caseId: string): Promise<LegalHold | undefined> {
    return this.#holds.get(caseId);
  }

  setLegalHold(caseId: string, hold: LegalHold | undefined): Promise<void> {
    return this.#serial(() => (hold ? this.#holds.put(caseId, hold) : this.#holds.del(caseId)));
  }

  async categories(): Promise<EvidenceCategory[]> {
    return this.#categories.values().all();
  }

  async getCategory(id: string): Promise<EvidenceCategory | undefined> {
    return this.#categories.get(id);
  }

  putCategory(category: EvidenceCategory): Promise<void> {
    return this.#serial(() => this.#categories.put(category.id, category));
  }

  /** Deletes the category unless evidence uses it; resolves false when it is in use. */
  deleteCategory(id: string): Promise<boolean> {
    return this.#serial(async () => {
      const prefix = `${id}${SEP}`;
      const users = await this.#itemsByCategory
        .keys({ gte: prefix, lt: `${prefix}\uffff`, limit: 1 })
        .all();
      if (users.length > 0) return false;
      await this.#categories.del(id);
      return true;
    });
  }
}
