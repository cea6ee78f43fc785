import { deviceDb } from '$lib/db/device-db';
import { closeLocalDb, openLocalDb } from '$lib/db/local-db';
import { custodyManager } from '$lib/managers/custody-manager.svelte';
import { notificationManager } from '$lib/managers/notification-manager.svelte';
import { syncManager } from '$lib/managers/sync-manager.svelte';
import { uploadManager } from '$lib/managers/upload-manager.svelte';
import type { PublicUser, SessionResponse } from '$lib/shared/auth-schemas';

/**
 * - `starting`: reading the device's last session and asking the server.
 * - `signed-in`: the server confirmed the session; changes sync.
 * - `offline`: the server cannot be reached; working as the last signed-in user on what this
 *   device holds. Nothing is sent until the session is confirmed again.
 * - `signed-out`: someone must sign in.
 */
export type SessionStatus = 'starting' | 'signed-in' | 'offline' | 'signed-out';

export class SignInFailed extends Error {
  override readonly name = 'SignInFailed';
}

/** Renew this long before the access token runs out. */
const RENEW_EARLY_MS = 60_000;

/**
 * Who is using the app. Access tokens stay in memory; the refresh token is an httpOnly cookie
 * the server set, so script never sees it. Tabs renew one at a time (Web Locks), because a
 * refresh token used twice ends the session.
 */
class SessionManager {
  #status = $state<SessionStatus>('starting');
  #user = $state<PublicUser | undefined>(undefined);
  #accessToken: string | undefined;
  #expiresAt = 0;
  #renewing: Promise<'ok' | 'unauthenticated' | 'unreachable'> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #started = false;

  get status(): SessionStatus {
    return this.#status;
  }

  get user(): PublicUser | undefined {
    return this.#user;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    window.addEventListener('online', () => {
      if (this.#status === 'offline') void this.renew();
    });
    const outcome = await this.renew();
    if (outcome !== 'unreachable') return;
    const stored = await deviceDb.session.get('current');
    if (stored) this.#begin(stored.user, 'offline');
    else this.#status = 'signed-out';
  }

  /** Renews the session with the refresh cookie; true when the session is current. */
  async reauthenticate(): Promise<boolean> {
    return (await this.renew()) === 'ok';
  }

  renew(): Promise<'ok' | 'unauthenticated' | 'unreachable'> {
    this.#renewing ??= this.#renewOnce().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  async #renewOnce(): Promise<'ok' | 'unauthenticated' | 'unreachable'> {
    const attempt = async () => {
      let response: Response;
      try {
        response = await fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' });
      } catch {
        if (this.#status === 'signed-in') this.#status = 'offline';
        return 'unreachable' as const;
      }
      if (response.ok) {
        this.#apply((await response.json()) as SessionResponse);
        return 'ok' as const;
      }
      if (response.status === 401) {
        await this.#end();
        return 'unauthenticated' as const;
      }
      if (this.#status === 'signed-in') this.#status = 'offline';
      return 'unreachable' as const;
    };
    return navigator.locks
      ? navigator.locks.request('exhibit-session-renewal', attempt)
      : attempt();
  }

  async signIn(email: string, password: string): Promise<void> {
    await this.#post('/api/auth/login', { email, password });
  }

  async setup(input: {
    token: string;
    email: string;
    name: string;
    password: string;
  }): Promise<void> {
    await this.#post('/api/setup', input);
  }

  async #post(path: string, body: unknown): Promise<void> {
    let response: Response;
    try {
      response = await fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch {
      throw new SignInFailed('The server cannot be reached. Check the connection and try again.');
    }
    const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      throw new SignInFailed(
        typeof payload['message'] === 'string'
          ? capitalise(payload['message'])
          : `The server answered ${response.status}.`,
      );
    }
    this.#apply(payload as unknown as SessionResponse);
  }

  async signOut(): Promise<void> {
    await fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' }).catch(
      () => undefined,
    );
    await this.#end();
  }

  /** A current access token, renewed first when it is about to run out; undefined if none. */
  async token(): Promise<string | undefined> {
    if (this.#status !== 'signed-in' && this.#status !== 'offline') return undefined;
    if (!this.#accessToken || Date.now() > this.#expiresAt - RENEW_EARLY_MS) {
      if ((await this.renew()) !== 'ok') return undefined;
    }
    return this.#accessToken;
  }

  /**
   * The server accepted a new password for the signed-in user and answered with the account as
   * it is now (no longer `mustChangePassword`). This session stays valid; the server ended the
   * user's other sessions.
   */
  passwordChanged(user: PublicUser): void {
    if (!this.#user || user.id !== this.#user.id) return;
    const wasTemporary = this.#user.mustChangePassword;
    this.#user = user;
    void deviceDb.session.update('current', { user });
    if (wasTemporary && !user.mustChangePassword) this.#startWork(user);
  }

  #apply(session: SessionResponse): void {
    this.#accessToken = session.accessToken;
    this.#expiresAt = session.expiresAt * 1000;
    this.#begin(session.user, 'signed-in');
    void deviceDb.session.put({
      key: 'current',
      user: session.user,
      signedInAt: new Date().toISOString(),
    });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => void this.renew(),
      Math.max(5_000, this.#expiresAt - Date.now() - RENEW_EARLY_MS),
    );
  }

  /** Opens the user's own data on this device and starts syncing it. */
  #begin(user: PublicUser, status: 'signed-in' | 'offline'): void {
    const switching = this.#user?.id !== user.id;
    this.#user = user;
    this.#status = status;
    if (!switching) return;
    openLocalDb(user.id);
    // The server serves nothing on a temporary password; start once it is replaced.
    if (!user.mustChangePassword) this.#startWork(user);
  }

  #startWork(user: PublicUser): void {
    syncManager.start(user.id, () => this.reauthenticate());
    custodyManager.start(user.id);
    notificationManager.start();
    uploadManager.start({
      user: { id: user.id, name: user.name },
      token: async (renew) => {
        if (renew && (await this.renew()) !== 'ok') return undefined;
        return this.token();
      },
    });
  }

  async #end(): Promise<void> {
    clearTimeout(this.#timer);
    this.#accessToken = undefined;
    this.#expiresAt = 0;
    this.#user = undefined;
    this.#status = 'signed-out';
    uploadManager.stop();
    notificationManager.stop();
    custodyManager.stop();
    syncManager.stop();
    closeLocalDb();
    await deviceDb.session.delete('current');
  }
}

function capitalise(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1) + (message.endsWith('.') ? '' : '.');
}

export const sessionManager = new SessionManager();
