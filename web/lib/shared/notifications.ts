// Browser-safe: the notification shape and API schemas, shared by the PWA and the blob-server.
import { z } from 'zod';

/** One notification, as its recipient sees it. */
export interface AppNotification {
  /** Sorts by creation time: newer notifications have greater ids. */
  id: string;
  /** What happened, e.g. `evidence.added`, `case.mentioned`, `file-request.submitted`. */
  kind: string;
  title: string;
  body?: string;
  caseId?: string;
  /** A path inside the app, e.g. `/cases/<id>`. */
  link?: string;
  /** Who caused it, when a person did. */
  actorId?: string;
  createdAt: string;
  readAt?: string;
}

export interface NotificationPage {
  /** Newest first. */
  notifications: AppNotification[];
  /** Unread notifications in all, not only on this page. */
  unread: number;
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: string;
}

/** Notification ids: 16 digits of time and sequence, a dash, 8 hex digits. */
export const NOTIFICATION_ID = /^\d{16}-[0-9a-f]{8}$/;
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 30;

const notificationId = z
  .string()
  .regex(NOTIFICATION_ID, 'must be a notification id as the list returned it');

export const listNotificationsQuery = z.object({
  before: notificationId.optional(),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
    .default(DEFAULT_PAGE_SIZE),
});

export const markReadRequest = z.union(
  [
    z.object({ ids: z.array(notificationId).min(1, 'name at least one').max(MAX_PAGE_SIZE) }),
    z.object({ all: z.literal(true) }),
  ],
  { error: 'send { "ids": [...] } or { "all": true }' },
);
export type MarkReadRequest = z.infer<typeof markReadRequest>;

/** The links notifications may carry: paths inside the app, never another site. */
export function isAppPath(link: string): boolean {
  return /^\/(?!\/)[^\s\\]*$/.test(link);
}
