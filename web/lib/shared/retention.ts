// Browser-safe: imported by the PWA (forms, what to show) and the blob-server (request
// validation, the rules it enforces). No Node built-ins.
import { z } from 'zod';
import type { CaseLevel } from './access-policy.ts';

/** The longest retention a category may have in days; beyond it, say "indefinitely". */
export const MAX_RETENTION_DAYS = 36_500;
const DAY_MS = 24 * 60 * 60 * 1000;

/** An evidence category and how long evidence in it must be kept (null: indefinitely). */
export interface EvidenceCategory {
  id: string;
  name: string;
  retentionDays: number | null;
  createdAt: string;
  updatedAt: string;
}

/** A case under legal hold: nothing in it may be deleted or purged until a manager releases it. */
export interface LegalHold {
  reason: string;
  setAt: string;
  setBy: { id: string; name: string };
}

/** One evidence item as the server keeps it: the authority for retention and deletion. */
export interface EvidenceRetention {
  evidenceId: string;
  sha256: string;
  addedAt: string;
  categoryId?: string;
  /** Until when it must be kept; null when indefinitely. */
  retainUntil: string | null;
  deleted?: EvidenceDeletion;
}

export interface EvidenceDeletion {
  at: string;
  by: { id: string; name: string };
  reason: string;
  /** When the purge sweep removes it for good (unless a legal hold stands then). */
  purgeAt: string;
}

/** What the retention settings are, for anyone signed in (the case page offers the categories). */
export interface RetentionSettings {
  categories: EvidenceCategory[];
  /** Retention of evidence without a category (DEFAULT_RETENTION_DAYS); null: indefinitely. */
  defaultRetentionDays: number | null;
  recycleBinDays: number;
}

export interface CaseRetention {
  /** The caller's level on the case: what the page may offer them. */
  level: CaseLevel;
  legalHold: LegalHold | null;
  items: EvidenceRetention[];
}

const retentionDays = z
  .number({ error: 'retentionDays must be a number of days, or null for indefinitely' })
  .int('retentionDays must be a whole number of days')
  .min(0, 'retentionDays cannot be negative')
  .max(
    MAX_RETENTION_DAYS,
    `retentionDays can be at most ${MAX_RETENTION_DAYS}; use null for indefinitely`,
  )
  .nullable();

export const categoryRequest = z.object({
  name: z
    .string({ error: 'a category needs a name' })
    .trim()
    .min(1, 'a category needs a name')
    .max(80, 'the name can be at most 80 characters'),
  retentionDays,
});
export type CategoryRequest = z.infer<typeof categoryRequest>;

export const setCategoryRequest = z.object({
  categoryId: z
    .string({ error: 'categoryId must be a category id, or null for none' })
    .max(64)
    .nullable(),
});

const reason = z
  .string({ error: 'say why (a reason is required)' })
  .trim()
  .min(3, 'the reason must be at least 3 characters')
  .max(500, 'the reason can be at most 500 characters');

/** Setting or releasing a legal hold, deleting evidence: each needs a reason for the record. */
export const reasonRequest = z.object({ reason });

/** Until when evidence added at `addedAt` must be kept; null when indefinitely. */
export function retainUntil(addedAt: string, days: number | null): string | null {
  if (days === null) return null;
  const added = Date.parse(addedAt);
  return new Date((Number.isNaN(added) ? 0 : added) + days * DAY_MS).toISOString();
}

/** When evidence moved to the recycle bin at `deletedAt` is purged. */
export function purgeTime(deletedAt: Date, recycleBinDays: number): string {
  return new Date(deletedAt.getTime() + recycleBinDays * DAY_MS).toISOString();
}

/** "30 days", "1 day", "indefinitely": a retention as a person says it. */
export function describeRetention(days: number | null): string {
  if (days === null) return 'indefinitely';
  if (days === 0) return '0 days (no minimum)';
  return days === 1 ? '1 day' : `${days} days`;
}
