import type { MentionRequest } from '$lib/shared/mentions';
import { ServerUnreachable, authorizedFetch } from '$lib/utils/authorized-fetch';
import { whenOnline } from '$lib/utils/online';

/** Tries this often before giving up on a mention written offline (each after going online). */
const ATTEMPTS = 5;

/**
 * Tells the people a comment mentions. The comment itself travels with the case document; a
 * mention written offline is sent once the connection is back (while the app stays open).
 */
export async function notifyMentioned(caseId: string, request: MentionRequest): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await whenOnline(AbortSignal.timeout(24 * 60 * 60 * 1000));
    try {
      await authorizedFetch<{ notified: number }>(
        `/api/cases/${encodeURIComponent(caseId)}/mentions`,
        { method: 'POST', body: request },
      );
      return;
    } catch (err) {
      if (!(err instanceof ServerUnreachable) || attempt >= ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5000 * attempt));
    }
  }
}
