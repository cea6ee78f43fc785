import Dexie from 'dexie';
import { localDb, type CustodyLogRow, type DeviceKeyRow, type LocalDb } from '$lib/db/local-db';
import { registerDevice, sendDeviceLog } from '$lib/services/custody.service';
import {
  deviceEntrySchema,
  GENESIS_HASH,
  generateDeviceKey,
  registrationPayload,
  sealDeviceEntry,
  signText,
  type DeviceEntry,
  type UnsignedDeviceEntry,
} from '$lib/shared/device-log';
import { RequestRefused, ServerUnreachable } from '$lib/utils/authorized-fetch';

/** What a caller says about an entry; the manager numbers, chains, dates and signs it. */
export type CustodyFact = Pick<UnsignedDeviceEntry, 'action' | 'details'> &
  Partial<Pick<UnsignedDeviceEntry, 'case' | 'evidence'>>;

const BATCH = 200;
const SEND_DELAY_MS = 500;
const RETRY_MS = 60_000;

/**
 * This device's custody log for the signed-in user. Entries are signed here with a key that
 * never leaves the browser, chained to the one before, and kept in IndexedDB, so what happens
 * offline is recorded as it happens; they are sent to the server in order whenever it can be
 * reached. Tabs share one log: writes and sends take a Web Lock.
 */
class CustodyManager {
  #user: string | undefined;
  #deviceId = $state<string | undefined>(undefined);
  #pending = $state(0);
  #problem = $state<string | undefined>(undefined);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retry: ReturnType<typeof setInterval> | undefined;
  #onOnline = () => this.#schedule(0);

  /** The id (key thumbprint) of this browser's key for the signed-in user. */
  get deviceId(): string | undefined {
    return this.#deviceId;
  }

  /** Entries signed here that the server does not hold yet. */
  get pending(): number {
    return this.#pending;
  }

  /** Why entries could not be sent, in words for a person. */
  get problem(): string | undefined {
    return this.#problem;
  }

  start(userId: string): void {
    if (typeof window === 'undefined') return;
    this.stop();
    this.#user = userId;
    window.addEventListener('online', this.#onOnline);
    this.#retry = setInterval(() => this.#schedule(0), RETRY_MS);
    void this.#key(localDb())
      .then((key) => {
        if (this.#user === userId) this.#deviceId = key.deviceId;
      })
      .catch((err: unknown) => {
        this.#problem = `This browser cannot make a signing key: ${String(err)}`;
      });
    this.#schedule(0);
  }

  stop(): void {
    window.removeEventListener('online', this.#onOnline);
    clearTimeout(this.#timer);
    clearInterval(this.#retry);
    this.#user = undefined;
    this.#deviceId = undefined;
    this.#pending = 0;
    this.#problem = undefined;
  }

  /** Signs and keeps the next entry, online or not; resolves once it is stored here. */
  async record(fact: CustodyFact): Promise<DeviceEntry> {
    const user = this.#user;
    if (!user) throw new Error('no user is signed in on this device');
    const db = localDb();
    const entry = await withLock(`exhibit-custody-log:${user}`, async () => {
      const key = await this.#key(db);
      const last = await db.custodyLog
        .where('[device+seq]')
        .between([key.deviceId, Dexie.minKey], [key.deviceId, Dexie.maxKey])
        .last();
      const sealed = await sealDeviceEntry(
        {
          v: 1,
          device: key.deviceId,
          seq: last ? last.seq + 1 : 0,
          prev: last ? last.hash : GENESIS_HASH,
          time: new Date().toISOString(),
          user,
          ...fact,
        },
        key.privateKey,
      );
      // An entry the server would refuse would hold up every later one: refuse it here.
      const checked = deviceEntrySchema.safeParse(sealed);
      if (!checked.success) {
        throw new Error(
          `the custody record is not valid: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
      await db.custodyLog.add({ ...sealed, sent: 0 });
      return sealed;
    });
    this.#pending++;
    this.#schedule(SEND_DELAY_MS);
    return entry;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#send(), ms);
  }

  /** Registers the key if the server does not know it yet, then sends what it lacks. */
  async #send(): Promise<void> {
    const user = this.#user;
    if (!user || !navigator.onLine) return;
    const db = localDb();
    try {
      await withLock(`exhibit-custody-send:${user}`, async () => {
        let key = await this.#key(db);
        if (!key.registeredAt) key = await this.#register(db, key, user);
        for (;;) {
          const unsent = await db.custodyLog
            .where('[device+sent+seq]')
            .between([key.deviceId, 0, Dexie.minKey], [key.deviceId, 0, Dexie.maxKey])
            .limit(BATCH)
            .toArray();
          this.#pending = await db.custodyLog
            .where('[device+sent+seq]')
            .between([key.deviceId, 0, Dexie.minKey], [key.deviceId, 0, Dexie.maxKey])
            .count();
          if (unsent.length === 0) break;
          const next = await sendDeviceLog(key.deviceId, unsent.map(withoutSent));
          await this.#markSent(db, key.deviceId, next);
          if (next <= unsent[0]!.seq) {
            throw new Error(
              `the server expects entry ${next}, which this device no longer holds unsent`,
            );
          }
        }
      });
      this.#problem = undefined;
    } catch (err) {
      if (err instanceof ServerUnreachable) return;
      this.#problem =
        err instanceof RequestRefused
          ? `The server refused this device's custody log: ${err.message}`
          : `This device's custody log could not be sent: ${err instanceof Error ? err.message : String(err)}`;
      console.warn(this.#problem, err);
    }
  }

  async #register(db: LocalDb, key: DeviceKeyRow, user: string): Promise<DeviceKeyRow> {
    const proof = await signText(
      key.privateKey,
      registrationPayload({ user, device: key.deviceId, createdAt: key.createdAt }),
    );
    try {
      const view = await registerDevice({
        publicKey: key.publicKey,
        label: key.label,
        createdAt: key.createdAt,
        proof,
      });
      const registered = { ...key, registeredAt: view.registeredAt };
      await db.deviceKey.put(registered);
      return registered;
    } catch (err) {
      // Revoked: entries from now on get a new key; those already signed stay as they are.
      if (err instanceof RequestRefused && err.status === 403) {
        await db.deviceKey.delete('self');
        const fresh = await this.#key(db);
        this.#deviceId = fresh.deviceId;
        return this.#register(db, fresh, user);
      }
      throw err;
    }
  }

  async #markSent(db: LocalDb, deviceId: string, next: number): Promise<void> {
    await db.custodyLog
      .where('[device+sent+seq]')
      .between([deviceId, 0, Dexie.minKey], [deviceId, 0, next], true, false)
      .modify({ sent: 1 });
  }

  /** This browser's key for the user, made the first time it is needed. */
  async #key(db: LocalDb): Promise<DeviceKeyRow> {
    const existing = await db.deviceKey.get('self');
    if (existing) return existing;
    return withLock('exhibit-device-key', async () => {
      const again = await db.deviceKey.get('self');
      if (again) return again;
      const row: DeviceKeyRow = {
        id: 'self',
        ...(await generateDeviceKey()),
        label: browserLabel(),
        createdAt: new Date().toISOString(),
      };
      await db.deviceKey.add(row);
      return row;
    });
  }
}

function withoutSent(row: CustodyLogRow): DeviceEntry {
  const { sent: _sent, ...entry } = row;
  return entry;
}

function withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!navigator.locks) return work();
  return navigator.locks.request(name, work) as Promise<T>;
}

/** "Chrome on Android", as far as the browser says. */
function browserLabel(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const system = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : 'another system';
  return `${browser} on ${system}`;
}

export const custodyManager = new CustodyManager();
