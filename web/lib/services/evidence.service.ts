import type { EvidenceRecord } from '$lib/shared/case-doc';

/** Where a verified evidence file downloads from, named as it was when added. */
export function evidenceDownloadUrl(record: Pick<EvidenceRecord, 'sha256' | 'name'>): string {
  return `/api/blobs/${record.sha256}?filename=${encodeURIComponent(record.name)}`;
}
