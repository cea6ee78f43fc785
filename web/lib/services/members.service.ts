import type { CaseMember } from '$lib/shared/auth-schemas';
import type { CaseLevel } from '$lib/shared/access-policy';
import { authorizedFetch } from '$lib/utils/authorized-fetch';

/** Who works on a case. The server decides who may see and change this; these only ask. */
export async function listMembers(caseId: string, signal?: AbortSignal): Promise<CaseMember[]> {
  const { members } = await authorizedFetch<{ members: CaseMember[] }>(
    `/api/cases/${encodeURIComponent(caseId)}/members`,
    signal ? { signal } : {},
  );
  return members;
}

export function addOrChangeMember(
  caseId: string,
  input: { email: string; level: CaseLevel; expiresAt?: string },
): Promise<CaseMember> {
  return authorizedFetch<CaseMember>(`/api/cases/${encodeURIComponent(caseId)}/members`, {
    method: 'PUT',
    body: input,
  });
}

export async function removeMember(caseId: string, userId: string): Promise<void> {
  await authorizedFetch<unknown>(
    `/api/cases/${encodeURIComponent(caseId)}/members/${encodeURIComponent(userId)}`,
    { method: 'DELETE' },
  );
}
