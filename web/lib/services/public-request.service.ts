import type { PublicFileRequest, SubmissionInput, SubmissionView } from '$lib/shared/file-requests';
import { asSentence } from '$lib/utils/format';

/** The server refused, with its reason in words, or could not be reached. */
export class PublicRequestError extends Error {
  override readonly name = 'PublicRequestError';
  constructor(
    message: string,
    /** 0 when the server could not be reached. */
    readonly status: number,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new PublicRequestError(
      'The server cannot be reached. Check the connection and try again.',
      0,
    );
  }
  const body = (await response.json().catch(() => ({}))) as { message?: unknown };
  if (!response.ok) {
    throw new PublicRequestError(
      typeof body.message === 'string'
        ? asSentence(body.message)
        : `The server answered ${response.status}.`,
      response.status,
    );
  }
  return body as T;
}

/** What the request's page shows; refuses with why when the link takes nothing. */
export function fetchPublicRequest(code: string, signal?: AbortSignal): Promise<PublicFileRequest> {
  return call(`/api/public/requests/${encodeURIComponent(code)}`, signal ? { signal } : {});
}

export function startSubmission(
  code: string,
  input: SubmissionInput,
): Promise<{ token: string; submission: SubmissionView }> {
  return call(`/api/public/requests/${encodeURIComponent(code)}/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
}

/** The sender's receipt: every file the server verified, with its SHA-256. */
export function fetchReceipt(token: string): Promise<SubmissionView> {
  return call('/api/public/submission', { headers: { authorization: `Bearer ${token}` } });
}
