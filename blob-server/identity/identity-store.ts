import { randomUUID } from 'node:crypto';
import type { Level } from 'level';
import { openLevel } from '../../sync-server/level.ts';
import type { Role } from '../../web/lib/shared/roles.ts';
import { Conflict, NotFound, StorageUnavailable } from '../errors.ts';

export interface User {
  id: string;
  /** Normalised: trimmed and lower-case. */
  email: string;
  name: string;
  role: Role;
  /** Argon2id PHC string; absent for accounts that only sign in through single sign-on. */
  passwordHash?: string;
  /** Set when an administrator chose the password; the user is asked to pick their own. */
  mustChangePassword: boolean;
  disabled: boolean;
  /** The single sign-on identity this account is bound to, once it has signed in that way. */
  sso?: { issuer: string; subject: string };
  createdAt: string;
  updatedAt: string;
}

export interface RefreshSession {
  id: string;
  userId: string;
  /** SHA-256 of the current refresh secret. */
  secretHash: string;
  /** SHA-256 of the secret it replaced: presenting that one again means the token was stolen. */
  previousSecretHash?: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  revokedAt?: string;
  revokedReason?: string;
  userAgent?: string;
}

type Json = Record<string, unknown>;

/**
 * Accounts and sign-in sessions in LevelDB under DATA_DIR/identity. Writes that must not race
 * (a second account with the same email, the last administrator) run one at a time.
 */
export class IdentityStore {
  readonly #db: Level<string, unknown>;
  readonly #users;
  readonly #emails;
  readonly #sessions;
  readonly #meta;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(db: Level<string, unknown>) {
    this.#db = db;
    this.#users = db.sublevel<string, User>('users', { valueEncoding: 'json' });
    this.#emails = db.sublevel<string, string>('emails', { valueEncoding: 'utf8' });
    this.#sessions = db.sublevel<string, RefreshSession>('sessions', { valueEncoding: 'json' });
    this.#meta = db.sublevel<string, Json>('meta', { valueEncoding: 'json' });
  }

  static async open(location: string): Promise<IdentityStore> {
    try {
      return new IdentityStore(
        await openLevel<unknown>(location, 'identity', { valueEncoding: 'json' }),
      );
    } catch (err) {
      throw new StorageUnavailable((err as Error).message, { cause: err });
    }
  }

  /** Runs `work` after every earlier serialised write has finished. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  createUser(input: Omit<User, 'id' | 'createdAt' | 'updatedAt'>): Promise<User> {
    return this.#serial(async () => {
      if ((await this.#emails.get(input.email)) !== undefined) {
        throw new Conflict(`an account with the email ${input.email} already exists`);
      }
      const now = new Date().toISOString();
      const user: User = { ...input, id: randomUUID(), createdAt: now, updatedAt: now };
      await this.#db.batch([
        { type: 'put', sublevel: this.#users, key: user.id, value: user },
        { type: 'put', sublevel: this.#emails, key: user.email, value: user.id },
      ]);
      return user;
    });
  }

  async getUser(id: string): Promise<User | undefined> {
    return this.#users.get(id);
  }

  async findUserByEmail(email: string): Promise<User | undefined> {
    const id = await this.#emails.get(email);
    return id === undefined ? undefined : this.#users.get(id);
  }

  async listUsers(): Promise<User[]> {
    const users = await this.#users.values().all();
    return users.sort((a, b) => a.email.localeCompare(b.email));
  }

  /**
   * Changes a user. `guard` sees the user and every other user before the write, inside the
   * serial section, so rules such as "keep one active administrator" cannot race.
   */
  updateUser(
    id: string,
    change: (user: User) => Partial<Omit<User, 'id' | 'email' | 'createdAt'>>,
    guard?: (user: User, others: User[]) => void,
  ): Promise<User> {
    return this.#serial(async () => {
      const user = await this.#users.get(id);
      if (!user) throw new NotFound(`there is no user ${id}`);
      if (guard) {
        const others = (await this.#users.values().all()).filter((u) => u.id !== id);
        guard(user, others);
      }
      const updated: User = { ...user, ...change(user), updatedAt: new Date().toISOString() };
      await this.#users.put(id, updated);
      return updated;
    });
  }

  async countActiveAdministrators(): Promise<number> {
    const users = await this.#users.values().all();
    return users.filter((u) => u.role === 'administrator' && !u.disabled).length;
  }

  async putSession(session: RefreshSession): Promise<void> {
    await this.#sessions.put(session.id, session);
  }

  async getSession(id: string): Promise<RefreshSession | undefined> {
    return this.#sessions.get(id);
  }

  /** Applies `change` to a session atomically with respect to other session changes. */
  updateSession(
    id: string,
    change: (session: RefreshSession) => RefreshSession,
  ): Promise<RefreshSession | undefined> {
    return this.#serial(async () => {
      const session = await this.#sessions.get(id);
      if (!session) return undefined;
      const updated = change(session);
      await this.#sessions.put(id, updated);
      return updated;
    });
  }

  /** Revokes every live session of a user; returns the revoked session ids. */
  revokeSessionsOfUser(userId: string, reason: string, exceptId?: string): Promise<string[]> {
    return this.#serial(async () => {
      const now = new Date().toISOString();
      const revoked: string[] = [];
      for await (const session of this.#sessions.values()) {
        if (session.userId !== userId || session.revokedAt || session.id === exceptId) continue;
        await this.#sessions.put(session.id, { ...session, revokedAt: now, revokedReason: reason });
        revoked.push(session.id);
      }
      return revoked;
    });
  }

  async getMeta<T extends Json>(key: string): Promise<T | undefined> {
    return (await this.#meta.get(key)) as T | undefined;
  }

  async setMeta(key: string, value: Json | undefined): Promise<void> {
    if (value === undefined) await this.#meta.del(key);
    else await this.#meta.put(key, value);
  }

  /** The same database, for the stores of other server-owned records (case access). */
  get database(): Level<string, unknown> {
    return this.#db;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#db.close();
  }
}
