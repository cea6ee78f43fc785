import type { ChainedEntry } from '$lib/shared/audit-chain';
import { authorizedFetch } from '$lib/utils/authorized-fetch';

/**
 * The audit trail as administrators read it. The server filters and checks; these only ask.
 */

export interface AuditFilters {
  actor?: string;
  action?: string;
  target?: string;
  /** Dates as the form gives them (YYYY-MM-DD). */
  from?: string;
  to?: string;
}

export interface AuditPage {
  entries: ChainedEntry[];
  /** Where the next (older) page starts; absent at the beginning of the trail. */
  next?: number;
}

export interface AuditCheck {
  ok: boolean;
  entries: number;
  checkpoints: number;
  milliseconds: number;
  problem?: { seq: number; reason: string };
}

function queryOf(filters: AuditFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams(extra);
  for (const [name, value] of Object.entries(filters)) {
    if (typeof value === 'string' && value.trim() !== '') params.set(name, value.trim());
  }
  return params.toString();
}

export function searchAudit(
  filters: AuditFilters,
  before?: number,
  signal?: AbortSignal,
): Promise<AuditPage> {
  const query = queryOf(filters, before !== undefined ? { before: String(before) } : {});
  return authorizedFetch<AuditPage>(`/api/admin/audit/entries?${query}`, {
    ...(signal ? { signal } : {}),
  });
}

/** A link that downloads every matching entry as CSV. */
export function auditCsvUrl(filters: AuditFilters): string {
  return `/api/admin/audit/entries.csv?${queryOf(filters)}`;
}

export function checkAuditTrail(): Promise<AuditCheck> {
  return authorizedFetch<AuditCheck>('/api/admin/audit/verify');
}
