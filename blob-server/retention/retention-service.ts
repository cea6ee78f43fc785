import { randomUUID } from 'node:crypto';
import type * as Y from 'yjs';
import { atLeast, type CaseLevel } from '../../web/lib/shared/access-policy.ts';
import {
  dropPurgedEvidence,
  readEvidence,
  type EvidenceRecord,
  setEvidenceCategory,
  setEvidenceDeletion,
  setLegalHold,
} from '../../web/lib/shared/case-doc.ts';
import { encodeDocName } from '../../web/lib/shared/doc-names.ts';
import {
  purgeTime,
  retainUntil,
  type CaseRetention,
  type CategoryRequest,
  type EvidenceCategory,
  type EvidenceRetention,
  type LegalHold,
  type RetentionSettings,
} from '../../web/lib/shared/retention.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { Conflict, Forbidden, LegalHoldActive, NotFound, RetentionNotElapsed } from '../errors.ts';
import type { Authenticated, RequestContext } from '../identity/auth-service.ts';
import type { CaseAccessService } from '../identity/case-access.ts';
import type { EvidenceItem } from '../identity/case-access-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { versionOf, type EvidenceRefs } from '../uploads/evidence-refs.ts';
import type { Logger } from '../../sync-server/logger.ts';

export interface CaseDocuments {
  change(name: string, edit: (doc: Y.Doc) => void): Promise<void>;
}

export interface RetentionOptions {
  cases: CaseAccessService;
  store: BlobStore;
  refs: EvidenceRefs;
  log: Logger;
  audit?: AuditLog;
  /** Where clients see the state: the case documents, when the sync-server runs in-process. */
  caseDocuments?: CaseDocuments;
  /** Retention of evidence with no category; null keeps it indefinitely. */
  defaultRetentionDays: number | null;
  /** How long deleted evidence stays restorable in the recycle bin. */
  recycleBinDays: number;
  now?: () => Date;
}

const LEGAL_HOLD_MESSAGE = (hold: LegalHold) =>
  `this case is under legal hold (set by ${hold.setBy.name} on ${hold.setAt.slice(0, 10)}: "${hold.reason}"); nothing in it may be deleted or purged until the hold is released`;

/**
 * Retention policies, legal hold and the recycle bin. The server is the authority: what the case
 * document shows is a mirror of the records kept here (`CaseAccessStore`), which decide
 * downloads, deletions and purges.
 */
export class RetentionService {
  readonly #cases: CaseAccessService;
  readonly #options: RetentionOptions;
  readonly #now: () => Date;
  /** One change at a time, so a check and the write it allows cannot interleave with another. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: RetentionOptions) {
    this.#options = options;
    this.#cases = options.cases;
    this.#now = options.now ?? (() => new Date());
  }

  get #records() {
    return this.#cases.records;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  // --- categories (administrators) ---------------------------------------------------------

  async settings(): Promise<RetentionSettings> {
    const categories = await this.#records.categories();
    return {
      categories: categories.sort((a, b) => a.name.localeCompare(b.name)),
      defaultRetentionDays: this.#options.defaultRetentionDays,
      recycleBinDays: this.#options.recycleBinDays,
    };
  }

  createCategory(
    auth: Authenticated,
    input: CategoryRequest,
    ctx: RequestContext,
  ): Promise<EvidenceCategory> {
    return this.#saveCategory(auth, randomUUID(), input, ctx, 'create');
  }

  changeCategory(
    auth: Authenticated,
    id: string,
    input: CategoryRequest,
    ctx: RequestContext,
  ): Promise<EvidenceCategory> {
    return this.#saveCategory(auth, id, input, ctx, 'change');
  }

  #saveCategory(
    auth: Authenticated,
    id: string,
    input: CategoryRequest,
    ctx: RequestContext,
    mode: 'create' | 'change',
  ): Promise<EvidenceCategory> {
    requireAdministrator(auth);
    return this.#serial(async () => {
      const before = await this.#records.getCategory(id);
      if (mode === 'change' && !before) throw new NotFound('there is no such evidence category');
      const all = await this.#records.categories();
      const clash = all.find(
        (c) => c.id !== id && c.name.toLowerCase() === input.name.toLowerCase(),
      );
      if (clash) throw new Conflict(`there is already a category named "${clash.name}"`);
      const now = this.#now().toISOString();
      const category: EvidenceCategory = {
        id,
        name: input.name,
        retentionDays: input.retentionDays,
        createdAt: before?.createdAt ?? now,
        updatedAt: now,
      };
      await this.#records.putCategory(category);
      await this.#record(
        auth,
        ctx,
        before ? 'category.changed' : 'category.created',
        `category:${id}`,
        {
          name: category.name,
          retentionDays: category.retentionDays,
          ...(before
            ? { previousName: before.name, previousRetentionDays: before.retentionDays }
            : {}),
        },
      );
      return category;
    });
  }

  deleteCategory(auth: Authenticated, id: string, ctx: RequestContext): Promise<void> {
    requireAdministrator(auth);
    return this.#serial(async () => {
      const before = await this.#records.getCategory(id);
      if (!before) throw new NotFound('there is no such evidence category');
      if (!(await this.#records.deleteCategory(id))) {
        throw new Conflict(
          `the category "${before.name}" is in use by evidence; give that evidence another category first`,
        );
      }
      await this.#record(auth, ctx, 'category.deleted', `category:${id}`, {
        name: before.name,
        retentionDays: before.retentionDays,
      });
    });
  }

  // --- a case's evidence -------------------------------------------------------------------

  /** The server's view of a case's retention: its legal hold and every item not yet purged. */
  async caseRetention(auth: Authenticated, caseId: string): Promise<CaseRetention> {
    const level = await this.#require(auth, caseId, 'view', 'you have no access to this case');
    await this.#adoptEarlierEvidence(caseId);
    const categories = new Map((await this.#records.categories()).map((c) => [c.id, c]));
    const items = (await this.#records.items(caseId)).filter((i) => !i.purgedAt);
    return {
      level,
      legalHold: (await this.#records.getLegalHold(caseId)) ?? null,
      items: items.map((item) => this.#view(item, categories)),
    };
  }

  setCategory(
    auth: Authenticated,
    caseId: string,
    evidenceId: string,
    categoryId: string | null,
    ctx: RequestContext,
  ): Promise<EvidenceRetention> {
    const refusal =
      'only contributors and managers of this case may set the category of its evidence';
    return this.#onItem(auth, caseId, evidenceId, 'contribute', refusal, async (item) => {
      const category =
        categoryId === null ? undefined : await this.#records.getCategory(categoryId);
      if (categoryId !== null && !category) {
        throw new NotFound(
          'there is no such evidence category; an administrator may have removed it',
        );
      }
      const updated = await this.#records.updateItem(caseId, evidenceId, (current) => {
        const { categoryId: _previous, ...rest } = current;
        return category ? { ...rest, categoryId: category.id } : rest;
      });
      await this.#mirror(caseId, (doc) => setEvidenceCategory(doc, evidenceId, category?.id));
      await this.#record(auth, ctx, 'evidence.category_changed', `case:${caseId}`, {
        evidenceId,
        sha256: item.sha256,
        category: category?.name ?? null,
        ...(item.categoryId ? { previousCategoryId: item.categoryId } : {}),
      });
      return this.#view(updated, new Map(category ? [[category.id, category]] : []));
    });
  }

  // --- legal hold --------------------------------------------------------------------------

  placeLegalHold(
    auth: Authenticated,
    caseId: string,
    reason: string,
    ctx: RequestContext,
  ): Promise<LegalHold> {
    return this.#serial(async () => {
      await this.#require(
        auth,
        caseId,
        'manage',
        'only a manager of this case may set a legal hold',
      );
      const hold: LegalHold = {
        reason,
        setAt: this.#now().toISOString(),
        setBy: { id: auth.user.id, name: auth.user.name },
      };
      const before = await this.#records.getLegalHold(caseId);
      await this.#records.setLegalHold(caseId, hold);
      await this.#mirror(caseId, (doc) => setLegalHold(doc, hold));
      const storage = await this.#holdInStorage(caseId, true);
      await this.#record(auth, ctx, 'case.legal_hold_set', `case:${caseId}`, {
        reason,
        storage,
        ...(before ? { previousReason: before.reason } : {}),
      });
      return hold;
    });
  }

  releaseLegalHold(
    auth: Authenticated,
    caseId: string,
    reason: string,
    ctx: RequestContext,
  ): Promise<void> {
    return this.#serial(async () => {
      await this.#require(
        auth,
        caseId,
        'manage',
        'only a manager of this case may release its legal hold',
      );
      const before = await this.#records.getLegalHold(caseId);
      if (!before) throw new NotFound('this case is not under legal hold');
      await this.#records.setLegalHold(caseId, undefined);
      await this.#mirror(caseId, (doc) => setLegalHold(doc, undefined));
      const storage = await this.#holdInStorage(caseId, false);
      await this.#record(auth, ctx, 'case.legal_hold_released', `case:${caseId}`, {
        reason,
        storage,
        holdReason: before.reason,
        heldSince: before.setAt,
      });
    });
  }

  /** A verified upload joined the case: under legal hold, its original is held in storage too. */
  evidenceStored(caseId: string, sha256: string): Promise<void> {
    return this.#serial(async () => {
      if (!(await this.#records.getLegalHold(caseId))) return;
      await this.#holdDigest(sha256, true).catch((err: unknown) => {
        this.#options.log.warn('retention.storage_hold_failed', {
          caseId,
          sha256,
          error: String(err),
        });
      });
    });
  }

  /**
   * The storage's own legal hold (S3 Object Lock) on every original the case holds, beside
   * Exhibit's, so not even someone with the storage keys can delete a held version. Lifting it
   * leaves the originals another held case also holds. Best effort: Exhibit's hold already
   * stands, and the outcome goes into the audit entry.
   */
  async #holdInStorage(
    caseId: string,
    hold: boolean,
  ): Promise<'applied' | 'unsupported' | 'failed'> {
    if (this.#options.store.protection !== 'object-lock') return 'unsupported';
    let result: 'applied' | 'failed' = 'applied';
    const digests = new Set(
      (await this.#records.items(caseId)).filter((i) => !i.purgedAt).map((i) => i.sha256),
    );
    for (const digest of digests) {
      if (!hold && (await this.#heldElsewhere(digest, caseId))) continue;
      await this.#holdDigest(digest, hold).catch((err: unknown) => {
        result = 'failed';
        this.#options.log.warn('retention.storage_hold_failed', {
          caseId,
          sha256: digest,
          error: String(err),
        });
      });
    }
    return result;
  }

  async #holdDigest(sha256: string, hold: boolean): Promise<void> {
    if (this.#options.store.protection !== 'object-lock') return;
    const ref = await this.#options.refs.locate(sha256);
    if (ref) await this.#options.store.setLegalHold(ref.key, hold, versionOf(ref));
  }

  async #heldElsewhere(sha256: string, caseId: string): Promise<boolean> {
    for (const other of await this.#records.casesWithEvidence(sha256)) {
      if (other !== caseId && (await this.#records.getLegalHold(other))) return true;
    }
    return false;
  }

  // --- recycle bin -------------------------------------------------------------------------

  /** Moves evidence to the recycle bin, if no legal hold stands and its retention has passed. */
  deleteEvidence(
    auth: Authenticated,
    caseId: string,
    evidenceId: string,
    reason: string,
    ctx: RequestContext,
  ): Promise<EvidenceRetention> {
    const refusal = 'only a manager of this case may delete evidence';
    return this.#onItem(auth, caseId, evidenceId, 'manage', refusal, async (item) => {
      if (item.deleted) throw new Conflict('this evidence is already in the recycle bin');
      await this.#refuseUnderHold(caseId);
      const categories = new Map((await this.#records.categories()).map((c) => [c.id, c]));
      this.#refuseWithinRetention(item, categories);
      const now = this.#now();
      const deleted = {
        at: now.toISOString(),
        by: { id: auth.user.id, name: auth.user.name },
        reason,
        purgeAt: purgeTime(now, this.#options.recycleBinDays),
      };
      const updated = await this.#records.updateItem(caseId, evidenceId, (current) => ({
        ...current,
        deleted,
      }));
      await this.#mirror(caseId, (doc) => setEvidenceDeletion(doc, evidenceId, deleted));
      await this.#record(auth, ctx, 'evidence.deleted', `case:${caseId}`, {
        evidenceId,
        sha256: item.sha256,
        reason,
        purgeAt: deleted.purgeAt,
      });
      return this.#view(updated, categories);
    });
  }

  restoreEvidence(
    auth: Authenticated,
    caseId: string,
    evidenceId: string,
    ctx: RequestContext,
  ): Promise<EvidenceRetention> {
    const refusal = 'only a manager of this case may restore evidence';
    return this.#onItem(auth, caseId, evidenceId, 'manage', refusal, async (item) => {
      if (!item.deleted) throw new Conflict('this evidence is not in the recycle bin');
      const updated = await this.#records.updateItem(caseId, evidenceId, (current) => {
        const { deleted: _deleted, ...rest } = current;
        return rest;
      });
      await this.#mirror(caseId, (doc) => setEvidenceDeletion(doc, evidenceId, undefined));
      await this.#record(auth, ctx, 'evidence.restored', `case:${caseId}`, {
        evidenceId,
        sha256: item.sha256,
        deletedAt: item.deleted.at,
      });
      return this.#view(updated, new Map((await this.#records.categories()).map((c) => [c.id, c])));
    });
  }

  /**
   * Purges what has been in the recycle bin long enough, except under legal hold or while a
   * retention (lengthened since the deletion) still runs. Each purge unlinks the file from its
   * case and, when no case holds it any more, deletes it from the store. Safe to repeat after a
   * crash at any point: the object goes before the record says purged.
   */
  sweep(): Promise<{ purged: number; held: number }> {
    return this.#serial(async () => {
      const now = this.#now();
      const categories = new Map((await this.#records.categories()).map((c) => [c.id, c]));
      let purged = 0;
      let held = 0;
      for (const item of await this.#records.duePurges(now)) {
        if (await this.#records.getLegalHold(item.caseId)) {
          held++;
          continue;
        }
        // A retention lengthened since the deletion still holds the evidence.
        const until = this.#retainUntil(item, categories);
        if (until === null || Date.parse(until) > now.getTime()) {
          held++;
          continue;
        }
        await this.#purge(item, now);
        purged++;
      }
      return { purged, held };
    });
  }

  async #purge(item: EvidenceItem, now: Date): Promise<void> {
    const { store, refs } = this.#options;
    const others = (await this.#records.casesWithEvidence(item.sha256)).filter(
      (c) => c !== item.caseId,
    );
    const siblings = (await this.#records.items(item.caseId)).filter(
      (i) => i.sha256 === item.sha256 && i.evidenceId !== item.evidenceId && !i.purgedAt,
    );
    let objectDeleted = false;
    if (others.length === 0 && siblings.length === 0) {
      // The bytes first, then the reference to them, then the record: a crash in between
      // leaves the item due, and the next sweep finds less to delete.
      const ref = await refs.locate(item.sha256);
      if (ref) {
        await store.delete(ref.key);
        await refs.forget(item.sha256);
        objectDeleted = true;
      }
    }
    const stillLinked = await this.#records.markPurged(
      item.caseId,
      item.evidenceId,
      now.toISOString(),
    );
    if (objectDeleted && stillLinked.length > 0) {
      // Another case gained the file while it was being purged (the same bytes uploaded again).
      this.#options.log.error('evidence.purge_raced_upload', {
        sha256: item.sha256,
        cases: stillLinked,
      });
    }
    await this.#mirror(item.caseId, (doc) => dropPurgedEvidence(doc, item.evidenceId));
    await this.#options.audit?.record({
      action: 'evidence.purged',
      target: `case:${item.caseId}`,
      details: {
        evidenceId: item.evidenceId,
        sha256: item.sha256,
        objectDeleted,
        deletedAt: item.deleted?.at,
        deletedBy: item.deleted?.by.id,
        reason: 'the recycle bin period ended',
      },
    });
  }

  /**
   * Evidence verified before the server kept evidence items (an upgrade) is known only by its
   * case document and the case's link to its digest: it gets an item now. Its retention counts
   * from now, since the date in the document is the client's word.
   */
  async #adoptEarlierEvidence(caseId: string): Promise<void> {
    const documents = this.#options.caseDocuments;
    if (!documents) return;
    let records: EvidenceRecord[] = [];
    // An edit that changes nothing writes nothing: this only reads.
    await documents.change(encodeDocName({ kind: 'case', id: caseId }), (doc) => {
      records = readEvidence(doc);
    });
    const linked = new Set(await this.#records.evidenceOf(caseId));
    const known = new Set((await this.#records.items(caseId)).map((i) => i.evidenceId));
    const now = this.#now().toISOString();
    for (const record of records) {
      const digest = record.serverSha256 ?? record.sha256;
      if (record.state !== 'verified' || !digest || known.has(record.id) || !linked.has(digest)) {
        continue;
      }
      await this.#records.addEvidence(caseId, digest, { evidenceId: record.id, addedAt: now });
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  async #require(
    auth: Authenticated,
    caseId: string,
    needed: CaseLevel,
    refusal: string,
  ): Promise<CaseLevel> {
    const level = await this.#cases.levelFor(auth.user, caseId);
    if (!level || !atLeast(level, needed)) throw new Forbidden(refusal);
    return level;
  }

  /** One change to one evidence item, by someone with at least `needed` on its case. */
  #onItem<T>(
    auth: Authenticated,
    caseId: string,
    evidenceId: string,
    needed: CaseLevel,
    refusal: string,
    work: (item: EvidenceItem) => Promise<T>,
  ): Promise<T> {
    return this.#serial(async () => {
      await this.#require(auth, caseId, needed, refusal);
      const item = await this.#records.getItem(caseId, evidenceId);
      if (!item || item.purgedAt) {
        throw new NotFound(
          item ? 'this evidence has been purged' : 'the server holds no such evidence in this case',
        );
      }
      return work(item);
    });
  }

  async #refuseUnderHold(caseId: string): Promise<void> {
    const hold = await this.#records.getLegalHold(caseId);
    if (hold) throw new LegalHoldActive(LEGAL_HOLD_MESSAGE(hold));
  }

  #refuseWithinRetention(item: EvidenceItem, categories: Map<string, EvidenceCategory>): void {
    const until = this.#retainUntil(item, categories);
    const category = item.categoryId ? categories.get(item.categoryId) : undefined;
    const rule = category ? `its category "${category.name}"` : 'evidence without a category';
    if (until === null) {
      throw new RetentionNotElapsed(
        `${rule} must be kept indefinitely, so it cannot be deleted`,
        null,
      );
    }
    if (Date.parse(until) > this.#now().getTime()) {
      throw new RetentionNotElapsed(
        `${rule} must be kept until ${until}, so it cannot be deleted before then`,
        until,
      );
    }
  }

  #retainUntil(item: EvidenceItem, categories: Map<string, EvidenceCategory>): string | null {
    const category = item.categoryId ? categories.get(item.categoryId) : undefined;
    return retainUntil(
      item.addedAt,
      category ? category.retentionDays : this.#options.defaultRetentionDays,
    );
  }

  #view(item: EvidenceItem, categories: Map<string, EvidenceCategory>): EvidenceRetention {
    return {
      evidenceId: item.evidenceId,
      sha256: item.sha256,
      addedAt: item.addedAt,
      ...(item.categoryId ? { categoryId: item.categoryId } : {}),
      retainUntil: this.#retainUntil(item, categories),
      ...(item.deleted ? { deleted: item.deleted } : {}),
    };
  }

  /** Writes the server's decision into the case document; its record here already stands. */
  async #mirror(caseId: string, edit: (doc: Y.Doc) => void): Promise<void> {
    const name = encodeDocName({ kind: 'case', id: caseId });
    await this.#options.caseDocuments?.change(name, edit).catch((err: unknown) => {
      this.#options.log.warn('retention.case_mirror_failed', { caseId, error: String(err) });
    });
  }

  async #record(
    auth: Authenticated,
    ctx: RequestContext,
    action: string,
    target: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.#options.audit?.record({
      action,
      actor: { userId: auth.user.id, email: auth.user.email },
      target,
      details,
      ip: ctx.ip,
      ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
    });
  }
}

function requireAdministrator(auth: Authenticated): void {
  if (auth.user.role !== 'administrator') {
    throw new Forbidden('only administrators may manage evidence categories');
  }
}
