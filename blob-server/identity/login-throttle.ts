import { TooManyAttempts } from '../errors.ts';

const WINDOW_MS = 15 * 60 * 1000;
const FREE_FAILURES_PER_ACCOUNT = 5;
const MAX_FAILURES_PER_ADDRESS = 30;
const MAX_LOCK_MS = 15 * 60 * 1000;
const MAX_ENTRIES = 100_000;

interface Entry {
  failures: number;
  firstAt: number;
  lockedUntil: number;
}

/**
 * Slows down password guessing: after a few failures for one account from one address, each
 * further failure locks that pair for twice as long (up to 15 minutes); an address failing on
 * many accounts is locked as a whole. Kept in memory: a restart forgets, which only helps a
 * guesser who can also restart the server.
 */
export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Throws TooManyAttempts while the account (from this address) or the address is locked. */
  check(email: string, ip: string): void {
    const now = this.#now();
    for (const key of [pairKey(email, ip), addressKey(ip)]) {
      const entry = this.#fresh(key, now);
      if (entry && entry.lockedUntil > now) {
        const seconds = Math.ceil((entry.lockedUntil - now) / 1000);
        throw new TooManyAttempts(
          `too many failed sign-ins; try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}`,
          seconds,
        );
      }
    }
  }

  failed(email: string, ip: string): void {
    const now = this.#now();
    const pair = this.#bump(pairKey(email, ip), now);
    if (pair.failures >= FREE_FAILURES_PER_ACCOUNT) {
      const lockMs = Math.min(
        MAX_LOCK_MS,
        60_000 * 2 ** (pair.failures - FREE_FAILURES_PER_ACCOUNT),
      );
      pair.lockedUntil = now + lockMs;
    }
    const address = this.#bump(addressKey(ip), now);
    if (address.failures >= MAX_FAILURES_PER_ADDRESS) address.lockedUntil = now + MAX_LOCK_MS;
  }

  succeeded(email: string, ip: string): void {
    this.#entries.delete(pairKey(email, ip));
  }

  #fresh(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && now - entry.firstAt > WINDOW_MS && entry.lockedUntil <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #bump(key: string, now: number): Entry {
    let entry = this.#fresh(key, now);
    if (!entry) {
      if (this.#entries.size >= MAX_ENTRIES) this.#prune(now);
      entry = { failures: 0, firstAt: now, lockedUntil: 0 };
      this.#entries.set(key, entry);
    }
    entry.failures++;
    return entry;
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (now - entry.firstAt > WINDOW_MS && entry.lockedUntil <= now) this.#entries.delete(key);
    }
    // Under a flood of distinct addresses, forget the oldest rather than grow without bound.
    while (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}

const pairKey = (email: string, ip: string) => `p\u0000${email}\u0000${ip}`;
const addressKey = (ip: string) => `a\u0000${ip}`;
