// Browser-safe: the mention request, shared by the PWA and the blob-server.
import { z } from 'zod';

/** Most people one comment may mention, and the longest excerpt a notification quotes. */
export const MOST_MENTIONED = 20;
export const LONGEST_EXCERPT = 300;

const id = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id as the server gave it');

/** `POST /api/cases/:id/mentions`: tell these members a comment names them. */
export const mentionRequest = z.object({
  userIds: z
    .array(id, { error: 'must be a list of user ids' })
    .min(1, 'name at least one person')
    .max(MOST_MENTIONED, `name at most ${MOST_MENTIONED} people`),
  evidenceId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be an evidence id')
    .optional(),
  excerpt: z
    .string({ error: 'must be text' })
    .trim()
    .min(1, 'must quote the comment')
    .max(LONGEST_EXCERPT, `must be at most ${LONGEST_EXCERPT} characters`),
});
export type MentionRequest = z.infer<typeof mentionRequest>;
