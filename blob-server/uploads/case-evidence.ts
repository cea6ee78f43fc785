import type * as Y from 'yjs';
import {
  type EvidenceRecord,
  addEvidence,
  getEvidence,
  setEvidenceState,
  updateEvidence,
} from '../../web/lib/shared/case-doc.ts';
import type { UploadRecord } from './upload-record.ts';

/**
 * Writes a verified upload into its case document on the server's authority. The PWA created
 * the record when the file was added (`evidence` metadata names it): it turns verified with the
 * server's digest. An upload from any other tus client (a dock station, a script) has no record
 * yet: it gets one, so the file shows up in the case like any other.
 */
export function recordVerifiedUpload(
  doc: Y.Doc,
  upload: UploadRecord,
  now: string,
  /** For files sent through a public file request: which request, and the sender's receipt. */
  submission?: EvidenceRecord['submission'],
): void {
  const serverSha256 = upload.sha256;
  if (!serverSha256) throw new Error(`upload ${upload.id} is not verified`);
  const id = upload.evidenceId ?? upload.id;
  const existing = getEvidence(doc).get(id);
  doc.transact(() => {
    if (existing) {
      updateEvidence(doc, id, {
        serverSha256,
        verifiedAt: now,
        ...(existing.get('sha256') === undefined
          ? { sha256: upload.clientSha256 ?? serverSha256 }
          : {}),
      });
      setEvidenceState(doc, id, 'verified');
      return;
    }
    addEvidence(doc, {
      id,
      name: upload.filename ?? `upload ${upload.id}`,
      type: upload.filetype ?? 'application/octet-stream',
      size: upload.length,
      sha256: upload.clientSha256 ?? serverSha256,
      serverSha256,
      verifiedAt: now,
      addedAt: upload.createdAt,
      ...(upload.ownerName !== undefined
        ? { addedBy: { id: upload.owner.replace(/^user:/, ''), name: upload.ownerName } }
        : {}),
      ...(submission ? { submission } : {}),
      state: 'verified',
    });
  });
}
