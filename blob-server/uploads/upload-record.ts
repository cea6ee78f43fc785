import { z } from 'zod';
import { encodeBlobKey } from '../storage/keys.ts';

/** Upload ids are random, unguessable, and safe as a key segment and in a URL. */
export const UPLOAD_ID = /^[A-Za-z0-9_-]{22}$/;

const storedPart = z.object({
  part: z.number().int().min(1),
  etag: z.string().min(1),
  size: z.number().int().min(0),
});

/**
 * One resumable upload, as kept in the blob store beside its bytes (`uploads/<id>/info`), so any
 * server process that reaches the store can continue it after a restart.
 *
 * The bytes received so far are `parts` (already in the backend's multipart write) followed by
 * `tailLength` bytes in `uploads/<id>/tail`: fewer than a part, kept until the next chunk fills
 * the part. `offset` is always their sum and only moves forward.
 */
export const uploadRecord = z.object({
  id: z.string().regex(UPLOAD_ID),
  /** Who may continue it: `user:<id>`, or later `link:<id>` for capability links. */
  owner: z.string().min(1),
  /** The owner's name as it was when the upload began, for the evidence record. */
  ownerName: z.string().optional(),
  caseId: z.string().min(1),
  evidenceId: z.string().optional(),
  filename: z.string().optional(),
  filetype: z.string().optional(),
  /** The Upload-Metadata header as the client sent it, given back on HEAD as tus asks. */
  metadata: z.string(),
  length: z.number().int().min(0),
  offset: z.number().int().min(0),
  partSize: z.number().int().min(1),
  objectKey: z.string(),
  multipartId: z.string().optional(),
  parts: z.array(storedPart),
  tailLength: z.number().int().min(0),
  createdAt: z.string(),
  expiresAt: z.string(),
  /**
   * receiving: bytes are still coming. completing: all bytes are in, the object is being joined
   * and verified (retried after a failure until it ends). verified / failed: final.
   */
  state: z.enum(['receiving', 'completing', 'verified', 'failed']),
  /** Whether the backend's multipart write has been joined into the object already. */
  joined: z.boolean().default(false),
  /** The SHA-256 the client says the whole file has, when it said. */
  clientSha256: z.string().optional(),
  /** The SHA-256 the server computed over the stored object. */
  sha256: z.string().optional(),
  completedAt: z.string().optional(),
  failure: z.string().optional(),
});

export type UploadRecord = z.infer<typeof uploadRecord>;

export const uploadKeys = {
  info: (id: string) => encodeBlobKey(['uploads', id, 'info']),
  tail: (id: string) => encodeBlobKey(['uploads', id, 'tail']),
  /** Where the evidence original itself lands. */
  object: (id: string) => encodeBlobKey(['evidence', id]),
  prefix: 'uploads/',
  /** `uploads/<id>/info` → id, or undefined for any other key. */
  idOfInfo(key: string): string | undefined {
    const match = /^uploads\/([A-Za-z0-9_-]{22})\/info$/.exec(key);
    return match?.[1];
  },
};
