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
export const AUDIT_LAYOUT = {
  entries: 'entries',
  checkpoints: 'checkpoints',
  /** `<subject>\0<seq key>` → '': which entries concern a case, a file, an evidence item. */
  subjects: 'subjects',
  meta: 'meta',
} as const;
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
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SUBJECT_SEP = '\u0000';
/** Meta key: the last entry whose subjects are certainly indexed. */
const INDEXED_THROUGH = 'indexed-through';

/**
 * What an entry is about, for finding it again without reading the whole log: its target
 * (`case:<id>`, `sha256:<digest>`, `user:<id>`, `device:<id>`), the evidence item and the file
 * its details name.
 */
export function subjectsOf(event: AuditEvent): string[] {
  const subjects = new Set<string>();
  if (event.target) subjects.add(event.target);
  const details = event.details ?? {};
  const evidenceId = details['evidenceId'];
  if (typeof evidenceId === 'string' && evidenceId !== '') subjects.add(`evidence:${evidenceId}`);
  for (const field of ['sha256', 'clientSha256'] as const) {
    const digest = details[field];
    if (typeof digest === 'string' && SHA256_HEX.test(digest)) subjects.add(`sha256:${digest}`);
  }
  return [...subjects];
}

/** How one entry stands up when checked on its own, for reports about a single item. */
export interface EntryProof {
  seq: number;
  /** Its contents hash to its hash, and it links to the entry before it. */
  intact: boolean;
  /** The checkpoint after it that the chain from it reaches unbroken, when there is one yet. */
  sealedBy?: { seq: number; time: string; signatureValid: boolean };
  problem?: string;
}

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
  readonly #subjects;
  readonly #meta;
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
    this.#subjects = db.sublevel<string, string>(AUDIT_LAYOUT.subjects, { valueEncoding: 'utf8' });
    this.#meta = db.sublevel<string, number>(AUDIT_LAYOUT.meta, { valueEncoding: 'json' });
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
      const log = new AuditLog(
        db,
        key,
        {
          next: last ? last.seq + 1 : 0,
          head: last ? last.hash : GENESIS_HASH,
          lastCheckpointSeq: lastCheckpoint ? lastCheckpoint.seq : -1,
        },
        options.now ?? (() => new Date()),
      );
      await log.#catchUpIndex();
      return log;
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
      const key = auditKey(entry.seq);
      // The entry and its index keys land together or not at all.
      await this.#db.batch([
        { type: 'put', sublevel: this.#entries, key, value: entry },
        ...subjectsOf(entry).map((subject) => ({
          type: 'put' as const,
          sublevel: this.#subjects,
          key: `${subject}${SUBJECT_SEP}${key}`,
          value: '',
        })),
      ]);
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

  /** Entries about one subject (see `subjectsOf`), oldest first, at most `limit`. */
  async about(subject: string, limit = 5000): Promise<AuditRecord[]> {
    const prefix = `${subject}${SUBJECT_SEP}`;
    const keys = await this.#subjects.keys({ gt: prefix, lt: `${prefix}\uffff`, limit }).all();
    const found = await this.#entries.getMany(keys.map((k) => k.slice(prefix.length)));
    return found.filter((e): e is AuditRecord => e !== undefined);
  }

  /**
   * Entries about one subject, newest first, older than `before` (a sequence number) if given,
   * at most `limit` of those `keep` accepts; `next` is where the following page starts.
   */
  async latestAbout(
    subject: string,
    options: { before?: number; limit: number; keep?: (entry: AuditRecord) => boolean },
  ): Promise<{ entries: AuditRecord[]; next?: number }> {
    const prefix = `${subject}${SUBJECT_SEP}`;
    const upper =
      options.before === undefined ? `${prefix}\uffff` : `${prefix}${auditKey(options.before)}`;
    const found: AuditRecord[] = [];
    for await (const key of this.#subjects.keys({ gt: prefix, lt: upper, reverse: true })) {
      const entry = await this.#entries.get(key.slice(prefix.length));
      if (!entry || (options.keep && !options.keep(entry))) continue;
      found.push(entry);
      if (found.length === options.limit) return { entries: found, next: entry.seq };
    }
    return { entries: found };
  }

  /**
   * Checks given entries the way a court would ask about them one by one: each must hash to its
   * hash and link to the entry before it, and the chain from it must run unbroken to the next
   * signed checkpoint, whose signature must hold. Only the stretches between an entry and its
   * checkpoint are read, so the cost does not grow with the whole log.
   */
  async prove(seqs: readonly number[]): Promise<Map<number, EntryProof>> {
    await this.#queue;
    const wanted = [...new Set(seqs)].sort((a, b) => a - b);
    const proofs = new Map<number, EntryProof>();
    const checkpoints = await this.#checkpoints.values().all();
    let i = 0;
    while (i < wanted.length) {
      const start = wanted[i]!;
      const seal = checkpoints.find((c) => c.seq >= start);
      const end = seal ? seal.seq : this.#next - 1;
      const inStretch = wanted.filter((seq) => seq >= start && seq <= end);
      i += inStretch.length;
      const verdict = await this.#checkStretch(start, end, seal);
      for (const seq of inStretch) {
        const broken = verdict.brokenAt !== undefined && verdict.brokenAt <= seq;
        proofs.set(seq, {
          seq,
          intact: !broken,
          ...(seal && verdict.reachesSeal
            ? {
                sealedBy: {
                  seq: seal.seq,
                  time: seal.time,
                  signatureValid: verdict.signatureValid,
                },
              }
            : {}),
          ...(verdict.problem && (broken || !verdict.reachesSeal)
            ? { problem: verdict.problem }
            : {}),
        });
      }
    }
    return proofs;
  }

  async #checkStretch(
    start: number,
    end: number,
    seal: Checkpoint | undefined,
  ): Promise<{
    reachesSeal: boolean;
    signatureValid: boolean;
    brokenAt?: number;
    problem?: string;
  }> {
    const before = start > 0 ? await this.#entries.get(auditKey(start - 1)) : undefined;
    let prevHash = start === 0 ? GENESIS_HASH : before?.hash;
    let expected = start;
    const fail = (seq: number, problem: string) => ({
      reachesSeal: false,
      signatureValid: false,
      brokenAt: seq,
      problem,
    });
    if (prevHash === undefined) return fail(start, `entry ${start - 1} is missing`);
    for await (const [key, entry] of this.#entries.iterator({
      gte: auditKey(start),
      lte: auditKey(end),
    })) {
      const seq = parseInt(key, 16);
      if (seq !== expected || entry.seq !== seq) {
        return fail(expected, `entry ${expected} is missing or out of place`);
      }
      if (entry.prevHash !== prevHash) {
        return fail(seq, `entry ${seq} does not link to the entry before it`);
      }
      if (sha256(chainPayload(entry)) !== entry.hash) {
        return fail(seq, `entry ${seq} was changed after it was written`);
      }
      prevHash = entry.hash;
      expected++;
    }
    if (expected !== end + 1) return fail(expected, `entry ${expected} is missing`);
    if (!seal) return { reachesSeal: false, signatureValid: false };
    if (seal.hash !== prevHash) {
      return fail(
        start,
        `the entries up to ${seal.seq} no longer match the checkpoint signed at ${seal.time}`,
      );
    }
    const signatureValid = await this.#signatureValid(seal);
    return {
      reachesSeal: true,
      signatureValid,
      ...(signatureValid
        ? {}
        : { problem: `the checkpoint at entry ${seal.seq} is not signed by this server's key` }),
    };
  }

  async #signatureValid(checkpoint: Checkpoint): Promise<boolean> {
    return webcrypto.subtle
      .verify(
        'Ed25519',
        this.#key.publicKey,
        Buffer.from(checkpoint.signature, 'base64url'),
        new TextEncoder().encode(checkpointPayload(checkpoint)),
      )
      .catch(() => false);
  }

  /**
   * Index keys are written with their entry; the marker of how far that is certain moves at
   * checkpoints. After a crash, the entries past it are indexed again (idempotent puts).
   */
  async #catchUpIndex(): Promise<void> {
    const through = (await this.#meta.get(INDEXED_THROUGH)) ?? -1;
    if (through >= this.#next - 1) return;
    let batch: { key: string; value: string }[] = [];
    const flush = async () => {
      await this.#subjects.batch(batch.map((op) => ({ type: 'put' as const, ...op })));
      batch = [];
    };
    const range = through >= 0 ? { gt: auditKey(through) } : {};
    for await (const [key, entry] of this.#entries.iterator(range)) {
      for (const subject of subjectsOf(entry)) {
        batch.push({ key: `${subject}${SUBJECT_SEP}${key}`, value: '' });
      }
      if (batch.length >= 1000) await flush();
    }
    await flush();
    await this.#meta.put(INDEXED_THROUGH, this.#next - 1);
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
    await this.#db.batch([
      { type: 'put', sublevel: this.#checkpoints, key: auditKey(seq), value: checkpoint },
      { type: 'put', sublevel: this.#meta, key: INDEXED_THROUGH, value: seq },
    ]);
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
