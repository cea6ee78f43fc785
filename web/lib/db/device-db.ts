import Dexie, { type EntityTable } from 'dexie';
import type { PublicUser } from '$lib/shared/auth-schemas';

/** The last signed-in user, so the app opens offline as them with what the device holds. */
export interface StoredSession {
  key: 'current';
  user: PublicUser;
  signedInAt: string;
}

/** Device-wide settings, shared by everyone who signs in on this browser. */
class DeviceDb extends Dexie {
  session!: EntityTable<StoredSession, 'key'>;

  constructor() {
    super('exhibit-device');
    this.version(1).stores({ session: 'key' });
  }
}

export const deviceDb = new DeviceDb();
