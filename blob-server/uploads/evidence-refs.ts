import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { z } from 'zod';
import { BlobNotFound } from '../errors.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { encodeBlobKey, sha256Key } from '../storage/keys.ts';

const evidenceRef = z.object({
  key: z.string(),
  size: z.number().int().min(0),
  contentType: z.string(),
  /** The protected version (S3 Object Lock): what is served, whatever is written later. */
  versionId: z.string().optional(),
});

export type EvidenceRef = z.infer<typeof evidenceRef>;

/**
 * Finds evidence by its SHA-256. A resumable upload lands under its own key (its digest is only
 * known at the end, and copying gigabytes to a content address would double the work), so a
 * small reference object `refs/sha256/<digest>` names where the verified bytes are. Files sent
 * whole with `PUT /api/blobs/<sha256>` are stored at the content address itself.
 */
export class EvidenceRefs {
  readonly #store: BlobStore;

  constructor(store: BlobStore) {
    this.#store = store;
  }

  async locate(sha256: string): Promise<EvidenceRef | undefined> {
    const direct = sha256Key(sha256);
    const info = await this.#store.stat(direct);
    if (info) return { key: direct, ...info };
    try {
      const raw = await buffer((await this.#store.get(refKey(sha256))).body);
      return evidenceRef.parse(JSON.parse(raw.toString('utf8')));
    } catch (err) {
      if (err instanceof BlobNotFound) return undefined;
      throw err;
    }
  }

  /**
   * Records where the bytes with this digest are, unless they are stored already; resolves with
   * the copy that counts (the caller drops its own when that is another one).
   */
  async adopt(sha256: string, ref: EvidenceRef): Promise<EvidenceRef> {
    const existing = await this.locate(sha256);
    if (existing && (await this.#store.stat(existing.key, versionOf(existing)))) return existing;
    const json = Buffer.from(JSON.stringify(ref));
    await this.#store.put(refKey(sha256), Readable.from([json]), {
      size: json.length,
      contentType: 'application/json',
    });
    return ref;
  }

  /** Drops the reference (the object it named is gone); forgetting a missing one is no error. */
  async forget(sha256: string): Promise<void> {
    await this.#store.delete(refKey(sha256));
  }
}

export function versionOf(ref: EvidenceRef): { versionId?: string } {
  return ref.versionId !== undefined ? { versionId: ref.versionId } : {};
}

function refKey(sha256: string): string {
  return encodeBlobKey(['refs', ...sha256Key(sha256).split('/')]);
}
