import type {
  FileRequestChange,
  FileRequestInput,
  FileRequestView,
  SubmissionDetail,
} from '$lib/shared/file-requests';
import { authorizedFetch } from '$lib/utils/authorized-fetch';

/**
 * A case's public file requests, as its investigators see them. The server decides who may
 * publish or change a request (managers of the case) and checks every limit; these only ask.
 */

function requestsPath(caseId: string, rest = ''): string {
  return `/api/cases/${encodeURIComponent(caseId)}/file-requests${rest}`;
}

function requestPath(caseId: string, requestId: string, rest = ''): string {
  return requestsPath(caseId, `/${encodeURIComponent(requestId)}${rest}`);
}

export async function listFileRequests(
  caseId: string,
  signal?: AbortSignal,
): Promise<FileRequestView[]> {
  const { requests } = await authorizedFetch<{ requests: FileRequestView[] }>(
    requestsPath(caseId),
    signal ? { signal } : {},
  );
  return requests;
}

export function publishFileRequest(
  caseId: string,
  input: FileRequestInput,
): Promise<FileRequestView> {
  return authorizedFetch<FileRequestView>(requestsPath(caseId), { method: 'POST', body: input });
}

/** Pauses, reopens, extends or edits a request; a withdrawn one cannot be changed. */
export function changeFileRequest(
  caseId: string,
  requestId: string,
  change: FileRequestChange,
): Promise<FileRequestView> {
  return authorizedFetch<FileRequestView>(requestPath(caseId, requestId), {
    method: 'PATCH',
    body: change,
  });
}

/** Withdraws a request for good: its link takes nothing more. */
export function revokeFileRequest(caseId: string, requestId: string): Promise<FileRequestView> {
  return authorizedFetch<FileRequestView>(requestPath(caseId, requestId, '/revoke'), {
    method: 'POST',
  });
}

export async function listSubmissions(
  caseId: string,
  requestId: string,
  signal?: AbortSignal,
): Promise<SubmissionDetail[]> {
  const { submissions } = await authorizedFetch<{ submissions: SubmissionDetail[] }>(
    requestPath(caseId, requestId, '/submissions'),
    signal ? { signal } : {},
  );
  return submissions;
}
