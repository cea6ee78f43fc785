import type { Level } from 'level';
import { openLevel } from '../../sync-server/level.ts';
import { StorageUnavailable } from '../errors.ts';

export interface AuditEvent {
  /** What happened, e.g. 'auth.login', 'auth.login_failed', 'user.role_changed'. */
  action: string;
  /** Who did it, when known. */
  actor?: { userId?: string; email?: string };
  /** What it was done to, e.g. 'user:<id>'. */
  target?: string;
  details?: Record<string, unknown>;
  ip?: string;
  userAgent?: string;
}

export interface AuditRecord extends AuditEvent {
  seq: number;
  time: string;
}

/**
 * The one funnel every auditable event goes through. Append-only records in LevelDB under
 * DATA_DIR/audit, numbered in order. The custody issue turns this into a hash chain with signed
 * checkpoints; callers only ever call `record`.
 */
export class AuditLog {
  readonly #db: Level<string, AuditRecord>;
  #next = 0;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #now: () => Date;

  private constructor(db: Level<string, AuditRecord>, next: number, now: () => Date) {
    this.#db = db;
    this.#next = next;
    this.#now = now;
  }

  static async open(location: string, now: () => Date = () => new Date()): Promise<AuditLog> {
    const db = await openLevel<AuditRecord>(location, 'audit', { valueEncoding: 'json' }).catch(
      (err: unknown) => {
        throw new StorageUnavailable((err as Error).message, { cause: err });
      },
    );
    const last = await db.keys({ reverse: true, limit: 1 }).all();
    const next = last[0] === undefined ? 0 : parseInt(last[0], 16) + 1;
    return new AuditLog(db, next, now);
  }

  /** Appends an event; resolves once it is stored. */
  record(event: AuditEvent): Promise<AuditRecord> {
    const work = async () => {
      const entry: AuditRecord = { ...event, seq: this.#next, time: this.#now().toISOString() };
      await this.#db.put(entry.seq.toString(16).padStart(16, '0'), entry);
      this.#next++;
      return entry;
    };
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Records in order, from `after` (exclusive), at most `limit`. */
  async list(options: { after?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const gt =
      options.after === undefined ? undefined : options.after.toString(16).padStart(16, '0');
    return this.#db.values({ ...(gt ? { gt } : {}), limit: options.limit ?? 1000 }).all();
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#db.close();
  }
}
