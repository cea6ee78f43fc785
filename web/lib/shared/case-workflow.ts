// Browser-safe: the case status workflow, for the PWA's buttons and its tests. No Node built-ins.
import { CASE_STATUSES, type CaseStatus } from './case-doc.ts';

/** A step a person can take from a status: forward along the workflow, or one step back. */
export interface StatusAction {
  to: CaseStatus;
  label: string;
  /** Forward moves are the main action; going back is offered beside it. */
  forward: boolean;
}

const FORWARD: Record<CaseStatus, string | undefined> = {
  open: 'Send for review',
  'under-review': 'Close case',
  closed: 'Archive',
  archived: undefined,
};

const BACK: Record<CaseStatus, string | undefined> = {
  open: undefined,
  'under-review': 'Back to open',
  closed: 'Reopen for review',
  archived: 'Restore from archive',
};

/** Open → under review → closed → archived, and one step back from each. */
export function statusActions(status: CaseStatus): StatusAction[] {
  const at = CASE_STATUSES.indexOf(status);
  const actions: StatusAction[] = [];
  const next = CASE_STATUSES[at + 1];
  const forward = FORWARD[status];
  if (next && forward) actions.push({ to: next, label: forward, forward: true });
  const previous = CASE_STATUSES[at - 1];
  const back = BACK[status];
  if (previous && back) actions.push({ to: previous, label: back, forward: false });
  return actions;
}
