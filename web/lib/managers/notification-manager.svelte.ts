import {
  listNotifications,
  markAllNotificationsRead,
  markNotificationsRead,
} from '$lib/services/notifications.service';
import type { AppNotification } from '$lib/shared/notifications';
import { ServerUnreachable } from '$lib/utils/authorized-fetch';

const POLL_MS = 30_000;
const PAGE_SIZE = 30;

/**
 * The signed-in user's notifications: asked for every 30 s while online, when the window gets
 * focus or the connection comes back, and whenever `refresh()` is called (after something the
 * user did that others are told about, or when the panel opens).
 */
class NotificationManager {
  #items = $state<AppNotification[]>([]);
  #unread = $state(0);
  #next = $state<string | undefined>(undefined);
  #problem = $state<string | undefined>(undefined);
  #loaded = $state(false);
  #running = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #control: AbortController | undefined;
  #refreshing: Promise<void> | undefined;
  #onWake = () => void this.refresh();

  /** Newest first: the latest page, and older ones the user asked for. */
  get notifications(): readonly AppNotification[] {
    return this.#items;
  }

  get unread(): number {
    return this.#unread;
  }

  /** Whether older notifications than those loaded are kept on the server. */
  get hasOlder(): boolean {
    return this.#next !== undefined;
  }

  /** Whether the list has been fetched at least once since sign-in. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Why the list could not be fetched, in words for a person; cleared by the next success. */
  get problem(): string | undefined {
    return this.#problem;
  }

  start(): void {
    if (typeof window === 'undefined') return;
    this.stop();
    this.#running = true;
    this.#control = new AbortController();
    window.addEventListener('focus', this.#onWake);
    window.addEventListener('online', this.#onWake);
    this.#timer = setInterval(() => {
      if (navigator.onLine) void this.refresh();
    }, POLL_MS);
    void this.refresh();
  }

  stop(): void {
    if (typeof window === 'undefined') return;
    this.#running = false;
    this.#control?.abort();
    this.#control = undefined;
    this.#refreshing = undefined;
    window.removeEventListener('focus', this.#onWake);
    window.removeEventListener('online', this.#onWake);
    clearInterval(this.#timer);
    this.#items = [];
    this.#unread = 0;
    this.#next = undefined;
    this.#problem = undefined;
    this.#loaded = false;
  }

  /** Fetches the newest page again; calls made while one is under way share it. */
  refresh(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    this.#refreshing ??= this.#fetchLatest().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  /** Loads the next page of older notifications. */
  async loadOlder(): Promise<void> {
    if (!this.#next || !this.#control) return;
    const page = await listNotifications({
      before: this.#next,
      limit: PAGE_SIZE,
      signal: this.#control.signal,
    });
    const known = new Set(this.#items.map((n) => n.id));
    this.#items = [...this.#items, ...page.notifications.filter((n) => !known.has(n.id))];
    this.#unread = page.unread;
    this.#next = page.next;
  }

  async markRead(id: string): Promise<void> {
    const { unread } = await markNotificationsRead([id]);
    this.#setRead((n) => n.id === id, unread);
  }

  async markAllRead(): Promise<void> {
    const { unread } = await markAllNotificationsRead();
    this.#setRead(() => true, unread);
  }

  #setRead(which: (n: AppNotification) => boolean, unread: number): void {
    const readAt = new Date().toISOString();
    this.#items = this.#items.map((n) => (which(n) && !n.readAt ? { ...n, readAt } : n));
    this.#unread = unread;
  }

  async #fetchLatest(): Promise<void> {
    const signal = this.#control?.signal;
    if (!signal) return;
    try {
      const page = await listNotifications({ limit: PAGE_SIZE, signal });
      if (signal.aborted) return;
      // Keep older pages the user opened, below the fresh first page.
      const oldest = page.notifications.at(-1)?.id;
      const older =
        page.next && oldest ? this.#items.filter((n) => n.id < oldest) : ([] as AppNotification[]);
      this.#items = [...page.notifications, ...older];
      if (older.length === 0) this.#next = page.next;
      this.#unread = page.unread;
      this.#problem = undefined;
      this.#loaded = true;
    } catch (err) {
      if (signal.aborted) return;
      // Offline is normal for this app; the next poll or the "online" event tries again.
      if (err instanceof ServerUnreachable) return;
      this.#problem = err instanceof Error ? err.message : String(err);
    }
  }
}

export const notificationManager = new NotificationManager();
