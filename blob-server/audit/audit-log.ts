import { createHash, webcrypto } from 'node:crypto';
import type { Level } from 'level';
import { openLevel } from '../../sync-server/level.ts';
import { StorageUnavailable } from '../errors.ts';
import { matches, type AuditQuery } from './audit-search.ts';
import { loadOrCreateKey, type SigningKey } from '../identity/tokens.ts';
import {
  ChainVerifier,
  GENESIS_HASH,
  chainPayload,
  checkpointPayload,
  type AuditEvent,
  type ChainedEntry,
  type CheckpointClaim,
} from '../../web/lib/shared/audit-chain.ts';

export type { AuditEvent };

export type AuditRecord = ChainedEntry;

export interface Checkpoint extends CheckpointClaim {
  /** Ed25519 signature over `checkpointPayload`, base64url. */
  signature: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  checkpoints: number;
  /** The first entry that does not verify, and why. */
  problem?: { seq: number; reason: string };
}

/** LevelDB layout, for tools that look at the store directly (and tests that tamper with it). */
export const AUDIT_LAYOUT = { entries: 'entries', checkpoints: 'checkpoints' } as const;
export const auditKey = (seq: number) => seq.toString(16).padStart(16, '0');

export const AUDIT_CHECKPOINT_KEY = {
  file: 'audit-checkpoint-key.json',
  label: 'audit checkpoint signing key',
  lossMeans:
    'without it, earlier checkpoints can no longer be checked and the audit trail loses its proof against rewriting',
};
/** A checkpoint after this many entries, and at the latest after this long, if anything new. */
const CHECKPOINT_EVERY = 10_000;
const CHECKPOINT_INTERVAL_MS = 10 * 60 * 1000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The one funnel every auditable event goes through: an append-only log in LevelDB under
 * DATA_DIR/audit, each entry numbered and carrying the hash of the one before (a hash chain),
 * so editing, removing or reordering an entry breaks the chain at that entry. Checkpoints signed
 * with an Ed25519 key kept in DATA_DIR/keys pin the chain head from time to time, so rewriting
 * the whole chain consistently is caught too: the rewriter cannot sign.
 *
 * Appends are made durable in LevelDB's log before `record` resolves; a process crash loses
 * nothing acknowledged.
 */
export class AuditLog {
  readonly #db: Level<string, unknown>;
  readonly #entries;
  readonly #checkpoints;
  readonly #key: SigningKey;
  readonly #now: () => Date;
  #next: number;
  #head: string;
  #lastCheckpointSeq: number;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;

  private constructor(
    db: Level<string, unknown>,
    key: SigningKey,
    state: { next: number; head: string; lastCheckpointSeq: number },
    now: () => Date,
  ) {
    this.#db = db;
    this.#entries = db.sublevel<string, AuditRecord>(AUDIT_LAYOUT.entries, {
      valueEncoding: 'json',
    });
    this.#checkpoints = db.sublevel<string, Checkpoint>(AUDIT_LAYOUT.checkpoints, {
      valueEncoding: 'json',
    });
    this.#key = key;
    this.#now = now;
    this.#next = state.next;
    this.#head = state.head;
    this.#lastCheckpointSeq = state.lastCheckpointSeq;
    this.#timer = setInterval(() => {
      void this.#checkpointIfNew().catch(() => undefined);
    }, CHECKPOINT_INTERVAL_MS);
    this.#timer.unref();
  }

  static async open(
    location: string,
    options: { keyDir: string; now?: () => Date },
  ): Promise<AuditLog> {
    const db = await openLevel<unknown>(location, 'audit', { valueEncoding: 'json' }).catch(
      (err: unknown) => {
        throw new StorageUnavailable((err as Error).message, { cause: err });
      },
    );
    try {
      const key = await loadOrCreateKey(options.keyDir, AUDIT_CHECKPOINT_KEY);
      const entries = db.sublevel<string, AuditRecord>(AUDIT_LAYOUT.entries, {
        valueEncoding: 'json',
      });
      const checkpoints = db.sublevel<string, Checkpoint>(AUDIT_LAYOUT.checkpoints, {
        valueEncoding: 'json',
      });
      const [last] = await entries.values({ reverse: true, limit: 1 }).all();
      const [lastCheckpoint] = await checkpoints.values({ reverse: true, limit: 1 }).all();
      return new AuditLog(
        db,
        key,
        {
          next: last ? last.seq + 1 : 0,
          head: last ? last.hash : GENESIS_HASH,
          lastCheckpointSeq: lastCheckpoint ? lastCheckpoint.seq : -1,
        },
        options.now ?? (() => new Date()),
      );
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  /** Appends an event; resolves once it is stored. */
  record(event: AuditEvent): Promise<AuditRecord> {
    return this.#serial(async () => {
      const unsigned = {
        ...event,
        seq: this.#next,
        time: this.#now().toISOString(),
        prevHash: this.#head,
      };
      const entry: AuditRecord = { ...unsigned, hash: sha256(chainPayload(unsigned)) };
      await this.#entries.put(auditKey(entry.seq), entry);
      this.#next++;
      this.#head = entry.hash;
      if (entry.seq - this.#lastCheckpointSeq >= CHECKPOINT_EVERY) await this.#writeCheckpoint();
      return entry;
    });
  }

  /** Signs the current chain head now (an administrator asking, a shutdown). */
  checkpoint(): Promise<Checkpoint | undefined> {
    return this.#serial(() => this.#writeCheckpoint());
  }

  /** Records in order, from `after` (exclusive), at most `limit`. */
  async list(options: { after?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const gt = options.after === undefined ? undefined : auditKey(options.after);
    return this.#entries.values({ ...(gt ? { gt } : {}), limit: options.limit ?? 1000 }).all();
  }

  /**
   * Newest first: the entries matching `query` older than `before` (a sequence number), at most
   * `limit`; `next` is where the following page starts, when there may be one.
   */
  async search(
    query: AuditQuery,
    options: { before?: number; limit: number },
  ): Promise<{ entries: AuditRecord[]; next?: number }> {
    const lt = options.before === undefined ? undefined : auditKey(options.before);
    const found: AuditRecord[] = [];
    for await (const entry of this.#entries.values({ reverse: true, ...(lt ? { lt } : {}) })) {
      if (!matches(entry, query)) continue;
      found.push(entry);
      if (found.length === options.limit) return { entries: found, next: entry.seq };
    }
    return { entries: found };
  }

  /** Oldest first, every entry matching `query`, for exports. */
  async *matching(query: AuditQuery): AsyncIterable<AuditRecord> {
    for await (const entry of this.#entries.values()) {
      if (matches(entry, query)) yield entry;
    }
  }

  async listCheckpoints(): Promise<Checkpoint[]> {
    return this.#checkpoints.values().all();
  }

  /** Checks the whole chain and every checkpoint; names the first entry that does not verify. */
  async verify(): Promise<AuditVerification> {
    await this.#queue;
    return verifyAuditStore(this.#db, this.#key.publicKey);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#checkpointIfNew().catch(() => undefined);
    await this.#queue;
    await this.#db.close();
  }

  async #checkpointIfNew(): Promise<void> {
    if (this.#next - 1 > this.#lastCheckpointSeq) await this.checkpoint();
  }

  async #writeCheckpoint(): Promise<Checkpoint | undefined> {
    const seq = this.#next - 1;
    if (seq < 0) return undefined;
    const claim: CheckpointClaim = { seq, hash: this.#head, time: this.#now().toISOString() };
    const signature = await webcrypto.subtle.sign(
      'Ed25519',
      this.#key.privateKey,
      new TextEncoder().encode(checkpointPayload(claim)),
    );
    const checkpoint: Checkpoint = {
      ...claim,
      signature: Buffer.from(signature).toString('base64url'),
    };
    await this.#checkpoints.put(auditKey(seq), checkpoint);
    this.#lastCheckpointSeq = seq;
    return checkpoint;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/**
 * The verification itself, on an open audit store: every entry in stored order through the
 * chain verifier, then every checkpoint's signature and the entry hash it pins.
 */
export async function verifyAuditStore(
  db: Level<string, unknown>,
  publicKey: webcrypto.CryptoKey,
): Promise<AuditVerification> {
  const entries = db.sublevel<string, AuditRecord>(AUDIT_LAYOUT.entries, { valueEncoding: 'json' });
  const checkpointStore = db.sublevel<string, Checkpoint>(AUDIT_LAYOUT.checkpoints, {
    valueEncoding: 'json',
  });
  const checkpoints = await checkpointStore.values().all();
  const pinned = new Map(checkpoints.map((c) => [c.seq, c]));
  const problems: { seq: number; reason: string }[] = [];

  for (const checkpoint of checkpoints) {
    const valid = await webcrypto.subtle
      .verify(
        'Ed25519',
        publicKey,
        Buffer.from(checkpoint.signature, 'base64url'),
        new TextEncoder().encode(checkpointPayload(checkpoint)),
      )
      .catch(() => false);
    if (!valid) {
      problems.push({
        seq: checkpoint.seq,
        reason: `the checkpoint at entry ${checkpoint.seq} is not signed by this server's key`,
      });
    }
  }

  const verifier = new ChainVerifier(sha256);
  let previousPin = -1;
  for await (const [key, entry] of entries.iterator()) {
    if (!verifier.add(entry, parseInt(key, 16))) break;
    const pin = pinned.get(entry.seq);
    if (pin) {
      if (pin.hash !== entry.hash) {
        problems.push({
          seq: previousPin + 1,
          reason: `entries ${previousPin + 1} to ${entry.seq} were rewritten: entry ${entry.seq} no longer matches the checkpoint signed at ${pin.time}`,
        });
        break;
      }
      previousPin = entry.seq;
    }
  }
  if (verifier.problem) problems.push(verifier.problem);
  const lastPin = checkpoints.at(-1);
  if (!verifier.problem && lastPin && lastPin.seq >= verifier.verified) {
    problems.push({
      seq: verifier.verified,
      reason: `entries from ${verifier.verified} on are missing: a checkpoint signed at ${lastPin.time} names entry ${lastPin.seq}`,
    });
  }
  problems.sort((a, b) => a.seq - b.seq);
  const problem = problems[0];
  return {
    ok: problem === undefined,
    entries: verifier.verified,
    checkpoints: checkpoints.length,
    ...(problem ? { problem } : {}),
  };
}
