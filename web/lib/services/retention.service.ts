import type {
  CaseRetention,
  CategoryRequest,
  EvidenceCategory,
  EvidenceRetention,
  LegalHold,
  RetentionSettings,
} from '$lib/shared/retention';
import { authorizedFetch } from '$lib/utils/authorized-fetch';

/**
 * Evidence categories, legal hold and the recycle bin. The server enforces every rule
 * (retention, hold, who may do what); these only ask and pass on its answer or its reason.
 */

const CATEGORIES = '/api/admin/categories';

export function getRetentionSettings(signal?: AbortSignal): Promise<RetentionSettings> {
  return authorizedFetch<RetentionSettings>(CATEGORIES, signal ? { signal } : {});
}

export function createCategory(input: CategoryRequest): Promise<EvidenceCategory> {
  return authorizedFetch<EvidenceCategory>(CATEGORIES, { method: 'POST', body: input });
}

export function changeCategory(id: string, input: CategoryRequest): Promise<EvidenceCategory> {
  return authorizedFetch<EvidenceCategory>(`${CATEGORIES}/${encodeURIComponent(id)}`, {
    method: 'PUT',
    body: input,
  });
}

export async function deleteCategory(id: string): Promise<void> {
  await authorizedFetch<unknown>(`${CATEGORIES}/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

function casePath(caseId: string, rest: string): string {
  return `/api/cases/${encodeURIComponent(caseId)}${rest}`;
}

function evidencePath(caseId: string, evidenceId: string, rest = ''): string {
  return casePath(caseId, `/evidence/${encodeURIComponent(evidenceId)}${rest}`);
}

export function getCaseRetention(caseId: string, signal?: AbortSignal): Promise<CaseRetention> {
  return authorizedFetch<CaseRetention>(casePath(caseId, '/retention'), signal ? { signal } : {});
}

export function categorizeEvidence(
  caseId: string,
  evidenceId: string,
  categoryId: string | null,
): Promise<EvidenceRetention> {
  return authorizedFetch<EvidenceRetention>(evidencePath(caseId, evidenceId, '/category'), {
    method: 'PUT',
    body: { categoryId },
  });
}

/** Moves evidence to the recycle bin; refused under legal hold or within its retention. */
export function deleteEvidence(
  caseId: string,
  evidenceId: string,
  reason: string,
): Promise<EvidenceRetention> {
  return authorizedFetch<EvidenceRetention>(evidencePath(caseId, evidenceId), {
    method: 'DELETE',
    body: { reason },
  });
}

export function restoreEvidence(caseId: string, evidenceId: string): Promise<EvidenceRetention> {
  return authorizedFetch<EvidenceRetention>(evidencePath(caseId, evidenceId, '/restore'), {
    method: 'POST',
  });
}

export function placeLegalHold(caseId: string, reason: string): Promise<LegalHold> {
  return authorizedFetch<LegalHold>(casePath(caseId, '/legal-hold'), {
    method: 'PUT',
    body: { reason },
  });
}

export async function releaseLegalHold(caseId: string, reason: string): Promise<void> {
  await authorizedFetch<unknown>(casePath(caseId, '/legal-hold'), {
    method: 'DELETE',
    body: { reason },
  });
}
