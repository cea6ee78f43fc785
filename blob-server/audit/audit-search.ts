import type { AuditRecord } from './audit-log.ts';

/** What an administrator filters the audit trail by; every field optional. */
export interface AuditQuery {
  /** A user id or (part of) an email address. */
  actor?: string;
  /** An action, or its first part: `evidence` matches `evidence.played`. */
  action?: string;
  /** Part of the target, e.g. a case id or a file digest. */
  target?: string;
  /** ISO times, inclusive. */
  from?: string;
  to?: string;
}

/** Whether an entry passes the filters (all given ones must hold). */
export function matches(entry: AuditRecord, query: AuditQuery): boolean {
  if (query.action) {
    const wanted = query.action.toLowerCase();
    const action = entry.action.toLowerCase();
    if (action !== wanted && !action.startsWith(`${wanted}.`)) return false;
  }
  if (query.actor) {
    const wanted = query.actor.toLowerCase();
    const id = entry.actor?.userId?.toLowerCase();
    const email = entry.actor?.email?.toLowerCase();
    if (id !== wanted && !email?.includes(wanted)) return false;
  }
  if (query.target && !entry.target?.toLowerCase().includes(query.target.toLowerCase())) {
    return false;
  }
  if (query.from && entry.time < query.from) return false;
  if (query.to && entry.time > query.to) return false;
  return true;
}

const CSV_COLUMNS = [
  'seq',
  'time',
  'action',
  'actor_user',
  'actor_email',
  'target',
  'ip',
  'user_agent',
  'details',
  'hash',
] as const;

export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

/** One RFC 4180 line; a cell starting with = + - @ is prefixed so spreadsheets do not run it. */
export function csvLine(entry: AuditRecord): string {
  const cells = [
    String(entry.seq),
    entry.time,
    entry.action,
    entry.actor?.userId ?? '',
    entry.actor?.email ?? '',
    entry.target ?? '',
    entry.ip ?? '',
    entry.userAgent ?? '',
    entry.details ? JSON.stringify(entry.details) : '',
    entry.hash,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
