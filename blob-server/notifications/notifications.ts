import { randomBytes } from 'node:crypto';
import type { Level } from 'level';
import type { Logger } from '../../sync-server/logger.ts';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  isAppPath,
  type AppNotification,
  type NotificationPage,
} from '../../web/lib/shared/notifications.ts';
import { BadRequest } from '../errors.ts';
import type { User } from '../identity/identity-store.ts';
import type { Mailer } from './mailer.ts';

export type { AppNotification, NotificationPage };

/**
 * What to tell whom: `link` is a path inside the app (`/cases/<id>`) that mails make absolute;
 * the actor, whoever caused it, is not told of their own doing.
 */
export type NotifyInput = Pick<
  AppNotification,
  'kind' | 'title' | 'body' | 'caseId' | 'link' | 'actorId'
> & { userIds: string[] };

/** Keeps each user's newest notifications; older ones are dropped as new ones arrive. */
export const DEFAULT_MAX_PER_USER = 1000;

const SEP = '\u0000';
const MAX_TITLE = 200;
const MAX_BODY = 2000;

interface Stored extends AppNotification {
  userId: string;
}

/**
 * Notifications inside the app, one per recipient, in the identity database, and by e-mail to
 * recipients with an address when a mailer is configured. Mail is sent after the notifications
 * are stored and never holds them up: a failed delivery is logged, not thrown.
 */
export class Notifications {
  readonly #db: Level<string, unknown>;
  readonly #items;
  /** `<user>\0<id>` → '' for each unread notification, so the count needs no values. */
  readonly #unread;
  readonly #users: { getUser(id: string): Promise<User | undefined> };
  readonly #caseMembers: {
    members(caseId: string): Promise<Array<{ userId: string; expiresAt?: string }>>;
  };
  readonly #mailer: Mailer | undefined;
  readonly #log: Logger;
  readonly #maxPerUser: number;
  readonly #now: () => Date;
  readonly #sending = new Set<Promise<void>>();
  #queue: Promise<unknown> = Promise.resolve();
  #lastStamp = 0;

  constructor(options: {
    db: Level<string, unknown>;
    users: { getUser(id: string): Promise<User | undefined> };
    /** The case membership records (`CaseAccessStore`). */
    caseMembers: {
      members(caseId: string): Promise<Array<{ userId: string; expiresAt?: string }>>;
    };
    mailer?: Mailer;
    log: Logger;
    maxPerUser?: number;
    now?: () => Date;
  }) {
    this.#db = options.db;
    this.#items = options.db.sublevel<string, Stored>('notifications', { valueEncoding: 'json' });
    this.#unread = options.db.sublevel<string, string>('notifications-unread', {
      valueEncoding: 'utf8',
    });
    this.#users = options.users;
    this.#caseMembers = options.caseMembers;
    this.#mailer = options.mailer;
    this.#log = options.log;
    this.#maxPerUser = options.maxPerUser ?? DEFAULT_MAX_PER_USER;
    this.#now = options.now ?? (() => new Date());
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Stores one notification for each recipient other than the actor, skipping unknown and
   * disabled accounts, then mails those with an address. Resolves with the stored ones once
   * they are stored; mail goes out in the background (`flush()` waits for it).
   */
  async notify(request: NotifyInput): Promise<AppNotification[]> {
    const input = checkInput(request);
    const recipients: User[] = [];
    for (const userId of new Set(input.userIds)) {
      if (userId === input.actorId) continue;
      const user = await this.#users.getUser(userId);
      if (user && !user.disabled) recipients.push(user);
    }
    if (recipients.length === 0) return [];
    const createdAt = this.#now();
    const stored = await this.#serial(async () => {
      const batch = this.#db.batch();
      const made: Stored[] = [];
      for (const user of recipients) {
        const notification: Stored = {
          id: this.#nextId(createdAt),
          userId: user.id,
          kind: input.kind,
          title: input.title,
          createdAt: createdAt.toISOString(),
          ...(input.body !== undefined ? { body: input.body } : {}),
          ...(input.caseId !== undefined ? { caseId: input.caseId } : {}),
          ...(input.link !== undefined ? { link: input.link } : {}),
          ...(input.actorId !== undefined ? { actorId: input.actorId } : {}),
        };
        const key = `${user.id}${SEP}${notification.id}`;
        batch.put(key, notification, { sublevel: this.#items });
        batch.put(key, '', { sublevel: this.#unread });
        made.push(notification);
      }
      await batch.write();
      for (const user of recipients) await this.#prune(user.id);
      return made;
    });
    if (this.#mailer) this.#mail(this.#mailer, recipients, input);
    return stored.map(publicView);
  }

  /**
   * Notifies the case's members: everyone with a live membership at any level, administrators
   * and supervisors included when they are members. Those who see every case without being
   * members are not told about each one.
   */
  async notifyCase(caseId: string, input: Omit<NotifyInput, 'userIds' | 'caseId'>) {
    const now = this.#now().getTime();
    const members = await this.#caseMembers.members(caseId);
    const userIds = members
      .filter((m) => !m.expiresAt || Date.parse(m.expiresAt) > now)
      .map((m) => m.userId);
    return this.notify({ ...input, caseId, userIds });
  }

  /** The user's notifications, newest first, `limit` at a time, with their unread count. */
  async list(
    userId: string,
    options: { before?: string; limit?: number } = {},
  ): Promise<NotificationPage> {
    const limit = Math.min(Math.max(options.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const prefix = `${userId}${SEP}`;
    const page = await this.#items
      .values({
        gt: prefix,
        lt: options.before !== undefined ? `${prefix}${options.before}` : `${prefix}\uffff`,
        reverse: true,
        limit: limit + 1,
      })
      .all();
    const more = page.length > limit;
    const notifications = page.slice(0, limit).map(publicView);
    return {
      notifications,
      unread: await this.unreadCount(userId),
      ...(more ? { next: notifications[notifications.length - 1]!.id } : {}),
    };
  }

  async unreadCount(userId: string): Promise<number> {
    const prefix = `${userId}${SEP}`;
    const keys = await this.#unread.keys({ gt: prefix, lt: `${prefix}\uffff` }).all();
    return keys.length;
  }

  /**
   * Marks the user's own notifications read; ids that are not theirs (or no longer kept) are
   * ignored. Resolves with how many were newly marked and how many stay unread.
   */
  markRead(
    userId: string,
    ids: readonly string[] | 'all',
  ): Promise<{ marked: number; unread: number }> {
    return this.#serial(async () => {
      const prefix = `${userId}${SEP}`;
      const keys =
        ids === 'all'
          ? await this.#unread.keys({ gt: prefix, lt: `${prefix}\uffff` }).all()
          : [...new Set(ids)].map((id) => `${prefix}${id}`);
      const found = await this.#items.getMany(keys);
      const readAt = this.#now().toISOString();
      const batch = this.#db.batch();
      let marked = 0;
      found.forEach((item, i) => {
        if (!item || item.readAt) return;
        batch.put(keys[i]!, { ...item, readAt }, { sublevel: this.#items });
        batch.del(keys[i]!, { sublevel: this.#unread });
        marked += 1;
      });
      if (marked > 0) await batch.write();
      else await batch.close();
      return { marked, unread: await this.unreadCount(userId) };
    });
  }

  /** Waits for mail still being sent. */
  async flush(): Promise<void> {
    while (this.#sending.size > 0) await Promise.allSettled([...this.#sending]);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#queue;
    this.#mailer?.close();
  }

  /** Time-ordered and unique even for many notifications in one millisecond. */
  #nextId(at: Date): string {
    this.#lastStamp = Math.max(at.getTime() * 1000, this.#lastStamp + 1);
    return `${String(this.#lastStamp).padStart(16, '0')}-${randomBytes(4).toString('hex')}`;
  }

  /** Drops the user's oldest notifications beyond the newest `maxPerUser`. */
  async #prune(userId: string): Promise<void> {
    const prefix = `${userId}${SEP}`;
    const keys = await this.#items.keys({ gt: prefix, lt: `${prefix}\uffff`, reverse: true }).all();
    if (keys.length <= this.#maxPerUser) return;
    const batch = this.#db.batch();
    for (const key of keys.slice(this.#maxPerUser)) {
      batch.del(key, { sublevel: this.#items });
      batch.del(key, { sublevel: this.#unread });
    }
    await batch.write();
  }

  #mail(mailer: Mailer, recipients: User[], input: NotifyInput): void {
    for (const user of recipients) {
      if (!user.email) continue;
      const sending = mailer
        .send({
          to: { name: user.name, address: user.email },
          title: input.title,
          ...(input.body !== undefined ? { body: input.body } : {}),
          ...(input.link !== undefined ? { link: input.link } : {}),
        })
        .catch((err: unknown) => {
          this.#log.warn('notification.mail_failed', {
            to: user.email,
            kind: input.kind,
            error: String(err),
          });
        })
        .finally(() => this.#sending.delete(sending));
      this.#sending.add(sending);
    }
  }
}

function publicView(stored: Stored): AppNotification {
  const { userId: _userId, ...view } = stored;
  return view;
}

/**
 * Callers are server code, yet a bad link is still refused, saying why; text made from user
 * input (a file name) is shortened rather than refused.
 */
function checkInput(input: NotifyInput): NotifyInput {
  if (!input.kind.trim()) throw new BadRequest('a notification needs a kind');
  if (!input.title.trim()) throw new BadRequest('a notification needs a title');
  if (input.link !== undefined && !isAppPath(input.link)) {
    throw new BadRequest(`the link "${input.link}" is not a path inside the app`);
  }
  return {
    ...input,
    title: shorten(input.title, MAX_TITLE),
    ...(input.body !== undefined ? { body: shorten(input.body, MAX_BODY) } : {}),
  };
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
