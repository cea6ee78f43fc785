import { TooManyAttempts } from '../errors.ts';

/** Keys remembered at most; the oldest windows are dropped first past this. */
const MAX_KEYS = 100_000;

/**
 * A fixed-window counter per key (an address, a link): at most `limit` events per `windowMs`.
 * In memory: one process's view, which is what protects that process.
 */
export class RateLimit {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #what: string;
  readonly #now: () => number;

  constructor(options: { limit: number; windowMs: number; what: string; now?: () => number }) {
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#what = options.what;
    this.#now = options.now ?? Date.now;
  }

  /** Counts one event for `key`, or refuses with when to try again. */
  take(key: string): void {
    const now = this.#now();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= this.#windowMs) {
      this.#windows.delete(key);
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
      if (this.#windows.size > MAX_KEYS) {
        const oldest = this.#windows.keys().next().value;
        if (oldest !== undefined) this.#windows.delete(oldest);
      }
    }
    if (window.count >= this.#limit) {
      const seconds = Math.max(1, Math.ceil((window.start + this.#windowMs - now) / 1000));
      throw new TooManyAttempts(
        `${this.#what}; try again in ${seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`}`,
        seconds,
      );
    }
    window.count++;
  }
}
