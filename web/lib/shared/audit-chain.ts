// Browser-safe: no Node built-ins. The server's audit log and (later) a device's offline log
// chain their entries the same way, so one verifier checks both.

/** The `prevHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Something that happened, as the code reporting it describes it. */
export interface AuditEvent {
  /** What happened, e.g. 'auth.login', 'evidence.played', 'user.role_changed'. */
  action: string;
  /** Who did it, when known. */
  actor?: { userId?: string; email?: string };
  /** What it was done to, e.g. 'user:<id>', 'case:<id>', 'sha256:<digest>'. */
  target?: string;
  details?: Record<string, unknown>;
  ip?: string;
  userAgent?: string;
}

/** One entry of a hash-chained log, as stored. */
export interface ChainedEntry extends AuditEvent {
  seq: number;
  time: string;
  /** `hash` of the entry before, or GENESIS_HASH for the first. */
  prevHash: string;
  /** SHA-256 (hex) of `chainPayload` of this entry. */
  hash: string;
}

/** What a checkpoint signs: the chain head at one sequence number. */
export interface CheckpointClaim {
  seq: number;
  hash: string;
  time: string;
}

/**
 * JSON with object keys sorted at every level and nothing optional about it, so the same value
 * always gives the same bytes, whoever serialises it. Undefined members are left out, as
 * JSON.stringify does; numbers must be finite.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot chain the number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  if (typeof value === 'object') {
    const members = Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${members.join(',')}}`;
  }
  throw new TypeError(`cannot chain a value of type ${typeof value}`);
}

/** The text an entry's hash is taken over: everything in it but the hash itself. */
export function chainPayload(entry: Omit<ChainedEntry, 'hash'> & { hash?: string }): string {
  const { hash: _hash, ...rest } = entry;
  return canonicalJson(rest);
}

export function checkpointPayload(claim: CheckpointClaim): string {
  return canonicalJson({ hash: claim.hash, seq: claim.seq, time: claim.time });
}

export interface ChainProblem {
  /** The first entry that does not verify. */
  seq: number;
  reason: string;
}

/**
 * Checks entries fed in stored order: numbering without gaps from 0, each linked to the one
 * before, each hash matching its contents. Stops at the first problem; `problem` names it.
 */
export class ChainVerifier {
  #expectedSeq = 0;
  #prevHash = GENESIS_HASH;
  #problem: ChainProblem | undefined;
  readonly #sha256: (text: string) => string;

  constructor(sha256: (text: string) => string) {
    this.#sha256 = sha256;
  }

  get problem(): ChainProblem | undefined {
    return this.#problem;
  }

  /** How many entries verified so far. */
  get verified(): number {
    return this.#expectedSeq;
  }

  get head(): string {
    return this.#prevHash;
  }

  /** Feeds the next stored entry; `key` is the sequence number its storage key says. */
  add(entry: ChainedEntry, key: number = entry.seq): boolean {
    if (this.#problem) return false;
    const seq = this.#expectedSeq;
    if (key !== seq) {
      // Keys are stored in order: a jump means entries were removed.
      this.#problem = {
        seq,
        reason:
          key > seq
            ? `entry ${seq} is missing (the next stored entry is ${key})`
            : `entry ${seq} is stored out of order`,
      };
      return false;
    }
    if (entry.seq !== seq) {
      this.#problem = {
        seq,
        reason: `entry ${seq} is out of place: what is stored there says it is entry ${entry.seq}`,
      };
      return false;
    }
    if (entry.prevHash !== this.#prevHash) {
      this.#problem = {
        seq,
        reason: `entry ${seq} does not link to the entry before it (prevHash ${entry.prevHash.slice(0, 12)}…, expected ${this.#prevHash.slice(0, 12)}…)`,
      };
      return false;
    }
    const actual = this.#sha256(chainPayload(entry));
    if (actual !== entry.hash) {
      this.#problem = {
        seq,
        reason: `entry ${seq} was changed after it was written: its contents hash to ${actual.slice(0, 12)}…, not ${entry.hash.slice(0, 12)}…`,
      };
      return false;
    }
    this.#prevHash = entry.hash;
    this.#expectedSeq++;
    return true;
  }
}
