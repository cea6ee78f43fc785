// Browser-safe: the shape of a custody report, as the server builds it and the PWA shows it.

export type CheckOutcome = 'pass' | 'fail' | 'pending' | 'absent';

/** One line of the report's verdict, e.g. "the device's hash equals the server's". */
export interface CustodyCheck {
  id:
    | 'device-record'
    | 'device-signatures'
    | 'hashes-agree'
    | 'server-verified'
    | 'chain-intact'
    | 'sealed';
  outcome: CheckOutcome;
  /** In words for a reader of the report. */
  detail: string;
}

export interface CustodyEvent {
  seq: number;
  /** When the server recorded it. */
  serverTime: string;
  /** When the device says it happened, for entries a device signed. */
  deviceTime?: string;
  action: string;
  actor?: { id: string; name?: string; email?: string };
  device?: {
    id: string;
    label?: string;
    seq: number;
    hash: string;
    /** Checked again against the device's registered key when the report was made. */
    signature: 'valid' | 'invalid' | 'unknown-device';
    revokedAt?: string;
  };
  ip?: string;
  userAgent?: string;
  /** The file digest this event names, if any. */
  sha256?: string;
  details: Record<string, unknown>;
  /** The audit entry's own hash, and how it stands up. */
  hash: string;
  proof: {
    intact: boolean;
    sealedBy?: { seq: number; time: string; signatureValid: boolean };
    problem?: string;
  };
}

export interface CustodyReport {
  caseId: string;
  evidenceId: string;
  generatedAt: string;
  evidence: {
    name?: string;
    type?: string;
    size?: number;
    /** The digest the first device computed before sending the file. */
    deviceSha256?: string;
    /** The digest of what the server stored, read back. */
    serverSha256?: string;
    verifiedAt?: string;
  };
  checks: CustodyCheck[];
  events: CustodyEvent[];
  /** More events exist than a report lists. */
  truncated: boolean;
}

/** Words for an audit action, as a report reader would say it. */
export const CUSTODY_ACTION_LABELS: Record<string, string> = {
  'evidence.added': 'Added on a device (custody record signed)',
  'evidence.upload_started': 'Upload started',
  'evidence.upload_cancelled': 'Upload cancelled',
  'evidence.stored': 'Stored and verified by the server',
  'evidence.rejected': 'Refused: the stored file did not match',
  'evidence.viewed': 'Viewed',
  'evidence.played': 'Played',
  'evidence.downloaded': 'Downloaded',
  'evidence.exported': 'Exported from a device',
  'evidence.uploaded': 'Uploaded',
  'evidence.deleted': 'Moved to the recycle bin',
  'evidence.restored': 'Restored from the recycle bin',
  'evidence.purged': 'Purged',
  'evidence.category_changed': 'Category changed',
  'evidence.redacted': 'Redacted copy made',
  'evidence.shared': 'Shared',
};

export function custodyActionLabel(action: string): string {
  return CUSTODY_ACTION_LABELS[action] ?? action;
}
