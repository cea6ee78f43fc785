import { getContext, setContext } from 'svelte';
import type { CaseView } from '$lib/managers/case-view.svelte';
import { atLeast } from '$lib/shared/access-policy';
import type { EvidenceRecord } from '$lib/shared/case-doc';
import {
  retainUntil,
  type CaseRetention as ServerView,
  type EvidenceCategory,
  type EvidenceDeletion,
  type LegalHold,
  type RetentionSettings,
} from '$lib/shared/retention';
import * as retention from '$lib/services/retention.service';

/**
 * Retention for the case on screen: categories to offer, the caller's level, the legal hold
 * and the recycle bin. What the case document mirrors (live, offline too) is shown; the server's
 * own view fills in what the document does not carry (the caller's level, retention dates) and
 * stands in when no mirror is written (a separately run sync-server).
 */
export class CaseRetention {
  readonly #view: CaseView;
  #settings = $state<RetentionSettings | undefined>(undefined);
  #server = $state<ServerView | undefined>(undefined);

  constructor(view: CaseView) {
    this.#view = view;
  }

  /** Loads the server's view; offline, the page keeps what the case document shows. */
  async refresh(signal?: AbortSignal): Promise<void> {
    const [settings, server] = await Promise.all([
      retention.getRetentionSettings(signal),
      retention.getCaseRetention(this.#view.id, signal),
    ]);
    this.#settings = settings;
    this.#server = server;
  }

  get loaded(): boolean {
    return this.#server !== undefined;
  }

  /** Changes when a file is verified: the server then holds an item the page should know. */
  get verifiedKey(): string {
    return this.#view.evidence
      .filter((item) => item.state === 'verified')
      .map((item) => item.id)
      .join(' ');
  }

  get categories(): EvidenceCategory[] {
    return this.#settings?.categories ?? [];
  }

  get recycleBinDays(): number | undefined {
    return this.#settings?.recycleBinDays;
  }

  get mayCategorize(): boolean {
    return atLeast(this.#server?.level, 'contribute');
  }

  get mayManage(): boolean {
    return atLeast(this.#server?.level, 'manage');
  }

  get legalHold(): LegalHold | undefined {
    return this.#view.snapshot.legalHold ?? this.#server?.legalHold ?? undefined;
  }

  /** Evidence outside the recycle bin. */
  get live(): EvidenceRecord[] {
    return this.#view.evidence.filter((item) => !this.deletion(item));
  }

  get bin(): EvidenceRecord[] {
    return this.#view.evidence.filter((item) => this.deletion(item));
  }

  deletion(item: EvidenceRecord): EvidenceDeletion | undefined {
    if (item.deletedAt && item.deletedBy && item.purgeAt) {
      return {
        at: item.deletedAt,
        by: item.deletedBy,
        reason: item.deleteReason ?? '',
        purgeAt: item.purgeAt,
      };
    }
    return this.#serverItem(item)?.deleted;
  }

  categoryOf(item: EvidenceRecord): EvidenceCategory | undefined {
    const id = item.category ?? this.#serverItem(item)?.categoryId;
    return id ? this.categories.find((c) => c.id === id) : undefined;
  }

  /** Until when the item must be kept (null: indefinitely); undefined while not known. */
  retainUntil(item: EvidenceRecord): string | null | undefined {
    const server = this.#serverItem(item);
    if (!server || !this.#settings) return undefined;
    const category = this.categoryOf(item);
    return retainUntil(
      server.addedAt,
      category ? category.retentionDays : this.#settings.defaultRetentionDays,
    );
  }

  /** True when the server knows the item (it stored and verified the file). */
  known(item: EvidenceRecord): boolean {
    return this.#serverItem(item) !== undefined;
  }

  #serverItem(item: EvidenceRecord) {
    return this.#server?.items.find((i) => i.evidenceId === item.id);
  }

  async categorize(item: EvidenceRecord, categoryId: string | null): Promise<void> {
    await this.#then(retention.categorizeEvidence(this.#view.id, item.id, categoryId));
  }

  async delete(item: EvidenceRecord, reason: string): Promise<void> {
    await this.#then(retention.deleteEvidence(this.#view.id, item.id, reason));
  }

  async restore(item: EvidenceRecord): Promise<void> {
    await this.#then(retention.restoreEvidence(this.#view.id, item.id));
  }

  async placeLegalHold(reason: string): Promise<void> {
    await this.#then(retention.placeLegalHold(this.#view.id, reason));
  }

  async releaseLegalHold(reason: string): Promise<void> {
    await this.#then(retention.releaseLegalHold(this.#view.id, reason));
  }

  /** After a change the server accepted, its view is read again. */
  async #then(change: Promise<unknown>): Promise<void> {
    await change;
    await this.refresh();
  }
}

const KEY = Symbol('case-retention');

export function setCaseRetention(state: CaseRetention): CaseRetention {
  return setContext(KEY, state);
}

export function useCaseRetention(): CaseRetention {
  const state = getContext<CaseRetention | undefined>(KEY);
  if (!state) throw new Error('useCaseRetention() needs a CaseRetention set by the case page');
  return state;
}
