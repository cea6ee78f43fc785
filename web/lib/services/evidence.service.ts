import type { EvidenceRecord } from '$lib/shared/case-doc';
import { sha256OfFile } from '$lib/utils/sha256';
import {
  refusalOf,
  sendAuthorized,
  type Transport,
  type TusClientOptions,
} from '$lib/upload/tus-client';

type Stored = Pick<EvidenceRecord, 'sha256' | 'serverSha256' | 'name'>;

/** The digest a verified file is stored under: the server's own, which the device's equals. */
function storedDigest(record: Stored): string | undefined {
  return record.serverSha256 ?? record.sha256;
}

/**
 * Where a verified evidence file downloads from, named as it was when added. The server answers
 * range requests there, so a <video> or <audio> element seeks without fetching the whole file.
 */
export function evidenceDownloadUrl(record: Stored): string {
  return `/api/blobs/${storedDigest(record) ?? ''}?filename=${encodeURIComponent(record.name)}`;
}

/** Where the file plays or shows in the page (the same bytes, without a download name). */
export function evidencePreviewUrl(record: Stored): string {
  return `/api/blobs/${storedDigest(record) ?? ''}`;
}

export function thumbnailUrl(record: Pick<EvidenceRecord, 'thumbnail'>): string | undefined {
  return record.thumbnail ? `/api/blobs/${record.thumbnail}` : undefined;
}

/** What a verified file can be shown as in the page; anything else is offered as a download. */
export function previewKind(
  record: Pick<EvidenceRecord, 'type'>,
): 'image' | 'video' | 'audio' | undefined {
  const kind = record.type.split('/')[0];
  return kind === 'image' || kind === 'video' || kind === 'audio' ? kind : undefined;
}

/**
 * Stores a small file beside a case's evidence (a thumbnail) under its SHA-256, and resolves with
 * that digest. Thumbnails are a few kilobytes, so one request holds the whole of it.
 */
export async function storeThumbnail(input: {
  caseId: string;
  jpeg: Blob;
  transport: Transport;
  token: TusClientOptions['token'];
  signal?: AbortSignal;
}): Promise<string> {
  const { jpeg, ...rest } = input;
  return storeDerivedFile({ ...rest, file: jpeg, type: 'image/jpeg' });
}

/**
 * Stores a file made from a case's evidence (a thumbnail, a playable copy) under its SHA-256 in
 * one request, and resolves with that digest. The server refuses files over its
 * MAX_UPLOAD_BYTES (1 GiB unless set), far above what such copies weigh.
 */
export async function storeDerivedFile(input: {
  caseId: string;
  file: Blob;
  type: string;
  transport: Transport;
  token: TusClientOptions['token'];
  signal?: AbortSignal;
}): Promise<string> {
  const bytes = new Uint8Array(await input.file.arrayBuffer());
  const sha256 = await sha256OfFile(input.file);
  const response = await sendAuthorized(input.transport, input.token, {
    method: 'PUT',
    url: `/api/blobs/${sha256}?case=${encodeURIComponent(input.caseId)}`,
    headers: { 'Content-Type': input.type },
    body: bytes,
    ...(input.signal ? { signal: input.signal } : {}),
  });
  if (response.status !== 200 && response.status !== 201) throw refusalOf(response);
  return sha256;
}
