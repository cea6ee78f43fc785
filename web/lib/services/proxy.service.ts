import type * as Y from 'yjs';
import { sessionManager } from '$lib/managers/session-manager.svelte';
import { setEvidenceProxy, type EvidenceRecord } from '$lib/shared/case-doc';
import { browserTransport } from '$lib/upload/browser-transport';
import { evidencePreviewUrl, storeDerivedFile } from '$lib/services/evidence.service';
import { extensionOf } from '$lib/viewers/playability';

/** Where a playable copy plays from. */
export function proxyUrl(record: Pick<EvidenceRecord, 'proxy'>): string | undefined {
  return record.proxy ? `/api/blobs/${record.proxy.sha256}` : undefined;
}

/**
 * Makes a playable H.264/AAC copy of an evidence file in this browser (ffmpeg.wasm), stores it
 * beside the evidence and records it on the evidence record, where every member's player finds
 * it. The original is only read: it stays the evidence, under its own digest.
 */
export async function makePlayableCopy(input: {
  caseId: string;
  doc: Y.Doc;
  record: EvidenceRecord;
  signal: AbortSignal;
  onProgress: (stage: 'reading' | 'converting' | 'storing', fraction: number) => void;
}): Promise<void> {
  const { caseId, doc, record, signal, onProgress } = input;
  const user = sessionManager.user;
  const from = record.serverSha256 ?? record.sha256;
  if (!user || !from) throw new Error('This file is not on the server yet.');
  onProgress('reading', 0);
  const response = await fetch(evidencePreviewUrl(record), { signal, credentials: 'same-origin' });
  if (!response.ok) throw new Error(`The server answered ${response.status} for the original.`);
  // The browser keeps a large Blob on disk, and WORKERFS reads it in place.
  const original = await response.blob();
  // The engine (and its 30 MB of wasm) loads only when someone needs it.
  const { makeProxy } = await import('../../../wasm/ffmpeg/make-proxy.ts');
  const made = await makeProxy(original, {
    extension: extensionOf(record.name),
    signal,
    onProgress: (fraction) => onProgress('converting', fraction),
  });
  onProgress('storing', 0);
  const sha256 = await storeDerivedFile({
    caseId,
    file: made.blob,
    type: 'video/mp4',
    transport: browserTransport(),
    token: async (renew) => {
      if (renew && (await sessionManager.renew()) !== 'ok') return undefined;
      return sessionManager.token();
    },
    signal,
  });
  setEvidenceProxy(doc, record.id, {
    sha256,
    type: 'video/mp4',
    size: made.blob.size,
    madeAt: new Date().toISOString(),
    madeBy: { id: user.id, name: user.name },
    from,
    method: made.method,
  });
  onProgress('storing', 1);
}
