// Browser-safe: the servers decide with it; the PWA uses it only to hide what would be refused.
import type { Role } from './roles.ts';

/** A member's permission on one case. */
export const CASE_LEVELS = ['view', 'contribute', 'manage'] as const;
export type CaseLevel = (typeof CASE_LEVELS)[number];

export type DocAccess = 'write' | 'read' | 'none';

export interface MembershipGrant {
  level: CaseLevel;
  /** ISO time after which the membership no longer counts. */
  expiresAt?: string;
}

/** Roles that see and manage every case without being members. */
export function seesEveryCase(role: Role): boolean {
  return role === 'administrator' || role === 'supervisor';
}

/** Roles that may open a new case (becoming its manager). */
export function mayCreateCases(role: Role): boolean {
  return role === 'administrator' || role === 'supervisor' || role === 'investigator';
}

/**
 * What a person may do on one case: administrators and supervisors manage every case;
 * everyone else only what a live membership grants, analysts and guests never more than
 * "contribute" (read and annotate).
 */
export function caseLevel(
  role: Role,
  membership: MembershipGrant | undefined,
  now: Date,
): CaseLevel | undefined {
  if (seesEveryCase(role)) return 'manage';
  if (!membership) return undefined;
  if (membership.expiresAt && Date.parse(membership.expiresAt) <= now.getTime()) return undefined;
  if ((role === 'analyst' || role === 'guest') && membership.level === 'manage')
    return 'contribute';
  return membership.level;
}

export function atLeast(level: CaseLevel | undefined, needed: CaseLevel): boolean {
  return level !== undefined && CASE_LEVELS.indexOf(level) >= CASE_LEVELS.indexOf(needed);
}

/** The sync permission a case level gives. */
export function docAccessFor(level: CaseLevel | undefined): DocAccess {
  if (!level) return 'none';
  return level === 'view' ? 'read' : 'write';
}
