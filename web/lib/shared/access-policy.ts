// Browser-safe: the servers decide with it; the PWA uses it only to hide what would be refused.
import type { DocName } from './doc-names.ts';
import type { Role } from './roles.ts';

export type DocAccess = 'write' | 'read' | 'none';

/**
 * What a role may do with a synced document. Until case membership lands (identity issue),
 * every staff role works on every case; guests, who will see only cases shared with them,
 * see none. The case index is written by the server alone.
 */
export function docAccess(role: Role, doc: DocName): DocAccess {
  if (role === 'guest') return 'none';
  return doc.kind === 'cases' ? 'read' : 'write';
}
