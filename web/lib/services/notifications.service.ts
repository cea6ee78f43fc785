import type { NotificationPage } from '$lib/shared/notifications';
import { authorizedFetch } from '$lib/utils/authorized-fetch';

/** The signed-in user's notifications, newest first; `before` is the `next` of the page before. */
export function listNotifications(
  options: { before?: string; limit?: number; signal?: AbortSignal } = {},
): Promise<NotificationPage> {
  const query = new URLSearchParams();
  if (options.before) query.set('before', options.before);
  if (options.limit) query.set('limit', String(options.limit));
  const search = query.size > 0 ? `?${query.toString()}` : '';
  return authorizedFetch<NotificationPage>(
    `/api/notifications${search}`,
    options.signal ? { signal: options.signal } : {},
  );
}

/** Marks some of the user's notifications read; resolves with how many stay unread. */
export function markNotificationsRead(
  ids: readonly string[],
): Promise<{ marked: number; unread: number }> {
  return authorizedFetch('/api/notifications/read', { method: 'POST', body: { ids } });
}

export function markAllNotificationsRead(): Promise<{ marked: number; unread: number }> {
  return authorizedFetch('/api/notifications/read', { method: 'POST', body: { all: true } });
}
