import type http from 'node:http';
import type { DocName } from '../web/lib/shared/doc-names.ts';
import type { DocAccess } from '../web/lib/shared/access-policy.ts';
import type { Role } from '../web/lib/shared/roles.ts';
import type { CaseEvents } from '../web/lib/shared/case-doc.ts';

/** Who is on the other end of a sync connection. */
export interface SyncIdentity {
  userId: string;
  role: Role;
  sessionId: string;
}

/** An ended session or a changed account: its open connections are closed at once. */
export interface SyncRevocation {
  userId: string;
  /** Only these sessions; all of the user's when absent. */
  sessionIds?: string[];
  reason: string;
}

export class SyncAuthError extends Error {
  override readonly name = 'SyncAuthError';
}

/**
 * How the sync-server learns who connects and what they may do. The all-in-one process passes
 * the identity service itself; a separately run sync-server asks the API server.
 */
export interface SyncAuth {
  /** Who is connecting; rejects with SyncAuthError saying why not. */
  authenticate(req: http.IncomingMessage): Promise<SyncIdentity>;
  access(identity: SyncIdentity, doc: DocName): Promise<DocAccess>;
  /**
   * The case index this identity reads when it asks for `cases`: the whole index for those who
   * see every case, else a server-kept index of their own cases (`cases.<userId>`).
   */
  indexFor(identity: SyncIdentity): string;
  /** Users (other than those who see every case) whose own index lists this case. */
  caseReaders(caseId: string): Promise<string[]>;
  /** Records that a read-only connection tried to write (its update was dropped). */
  writeDropped(identity: SyncIdentity, doc: string): void;
  /**
   * Records that someone changed a case through sync, which parts of it, and the status and
   * assignment changes among them.
   */
  caseChanged?(identity: SyncIdentity, caseId: string, parts: string[], events: CaseEvents): void;
  /** Subscribes to revocations; returns an unsubscribe function. */
  onRevoked(listener: (revocation: SyncRevocation) => void): () => void;
  /** Subscribes to changes of one user's access to one case (added, changed, removed, expired). */
  onCaseAccessChanged(listener: (change: { caseId: string; userId: string }) => void): () => void;
}

/** The name of a user's own case index document (never a name a client may ask for). */
export function userIndexName(userId: string): string {
  return `cases.${userId}`;
}

/** The access token a browser or script sent: Authorization header, cookie, or query. */
export function tokenOf(req: http.IncomingMessage, cookieName: string): string | undefined {
  const header = req.headers.authorization;
  const bearer = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
  if (bearer) return bearer;
  const cookies = req.headers.cookie ?? '';
  for (const part of cookies.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === cookieName) return decodeURIComponent(rest.join('='));
  }
  const query = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token');
  return query ?? undefined;
}
