// Browser-safe: a case's activity as the API gives it and the case page shows it.

/** One thing that happened on a case, from the audit trail. */
export interface ActivityItem {
  seq: number;
  time: string;
  action: string;
  actor?: { id: string; name?: string };
  /** The details a reader needs: file names, the status moved to, who was assigned… */
  details: Record<string, unknown>;
}

/**
 * What the activity feed leaves out: every look at a file (the custody report lists those),
 * sync plumbing and link checks. The rest of what concerns a case is its activity.
 */
export function isActivity(action: string): boolean {
  return !/^(evidence\.(viewed|played|downloaded|exported)|sync\.|link\.|device\.)/.test(action);
}

const LABELS: Record<string, string> = {
  'case.created': 'opened the case',
  'case.changed': 'edited the case',
  'case.status_changed': 'changed the status',
  'case.assigned': 'changed who is assigned',
  'case.member_added': 'added a member',
  'case.member_changed': 'changed a member’s access',
  'case.member_removed': 'removed a member',
  'case.legal_hold_set': 'placed a legal hold',
  'case.legal_hold_released': 'released the legal hold',
  'case.mentioned': 'mentioned someone',
  'evidence.added': 'added a file on their device',
  'evidence.upload_started': 'started sending a file',
  'evidence.upload_cancelled': 'cancelled a file',
  'evidence.stored': 'added a file, verified by the server',
  'evidence.rejected': 'sent a file the server refused',
  'evidence.deleted': 'moved a file to the recycle bin',
  'evidence.restored': 'restored a file',
  'evidence.purged': 'purged a file',
  'evidence.category_changed': 'changed a file’s category',
  'request.created': 'published a file request',
  'request.changed': 'changed a file request',
  'request.revoked': 'withdrew a file request',
  'request.submission_started': 'began a public submission',
  'request.file_received': 'received a file from the public',
};

/** "added a file, verified by the server", or the action itself when it has no words yet. */
export function activityLabel(action: string): string {
  return LABELS[action] ?? action;
}

/** The few details worth a line: a file name, a status, a title, a reference. */
export function activityDetail(item: ActivityItem): string | undefined {
  const d = item.details;
  const text = (key: string) => (typeof d[key] === 'string' ? (d[key] as string) : undefined);
  if (item.action === 'case.status_changed' && text('to')) {
    return `${text('from') ?? '?'} → ${text('to')}`;
  }
  if (item.action === 'case.changed' && Array.isArray(d['parts'])) {
    return (d['parts'] as unknown[]).filter((p) => typeof p === 'string').join(', ');
  }
  return text('filename') ?? text('name') ?? text('title') ?? text('reference') ?? text('member');
}
