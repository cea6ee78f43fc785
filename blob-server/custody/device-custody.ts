import type { Level } from 'level';
import { atLeast, type CaseLevel } from '../../web/lib/shared/access-policy.ts';
import {
  deviceEntryProblem,
  deviceIdOf,
  GENESIS_HASH,
  importDeviceKey,
  registrationPayload,
  verifyText,
  type DeviceEntry,
  type DevicePublicKey,
  type DeviceView,
  type RegisterDeviceRequest,
} from '../../web/lib/shared/device-log.ts';
import type { AuditEvent, AuditLog } from '../audit/audit-log.ts';
import { BadRequest, Conflict, DeviceLogGap, Forbidden, NotFound } from '../errors.ts';
import type { Authenticated, RequestContext } from '../identity/auth-service.ts';
import type { CaseAccessService } from '../identity/case-access.ts';

/** A device as the server keeps it: its public key, and where its log stands. */
export interface DeviceRecord {
  id: string;
  userId: string;
  publicKey: DevicePublicKey;
  label: string;
  /** When the key was made, on the device's clock. */
  createdAt: string;
  registeredAt: string;
  revokedAt?: string;
  /** The sequence number of the next entry the server will accept from it. */
  next: number;
  /** The hash of the last entry accepted. */
  head: string;
  lastSeenAt?: string;
}

/** More than anyone signs in on; a cap, so a script cannot fill the store with keys. */
const MAX_DEVICES_PER_USER = 100;
const SEP = '\u0000';

/** What the caller's device entries ask of a case. */
const LEVEL_FOR: Record<DeviceEntry['action'], CaseLevel> = {
  'evidence.added': 'contribute',
  'evidence.viewed': 'view',
  'evidence.exported': 'view',
  'case.changed': 'contribute',
  'annotation.changed': 'contribute',
};

/**
 * Devices and their custody logs. A browser registers the public half of its own key for the
 * signed-in user (proving it holds the private half); from then on its signed, hash-chained log
 * entries are merged into the server's audit trail strictly in order, each checked against the
 * registered key, with the device's time kept beside the server's.
 */
export class DeviceCustody {
  readonly #devices;
  readonly #byUser;
  readonly #db: Level<string, unknown>;
  readonly #audit: AuditLog;
  readonly #cases: CaseAccessService;
  readonly #now: () => Date;
  readonly #keys = new Map<string, CryptoKey>();
  /** One merge at a time per device, so two tabs sending the same entries cannot both append. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(options: {
    db: Level<string, unknown>;
    audit: AuditLog;
    cases: CaseAccessService;
    now?: () => Date;
  }) {
    this.#db = options.db;
    this.#devices = options.db.sublevel<string, DeviceRecord>('devices', {
      valueEncoding: 'json',
    });
    this.#byUser = options.db.sublevel<string, string>('devices-by-user', {
      valueEncoding: 'utf8',
    });
    this.#audit = options.audit;
    this.#cases = options.cases;
    this.#now = options.now ?? (() => new Date());
  }

  async register(
    auth: Authenticated,
    input: RegisterDeviceRequest,
    ctx: RequestContext,
  ): Promise<DeviceView> {
    const id = await deviceIdOf(input.publicKey);
    const key = await importDeviceKey(input.publicKey).catch(() => {
      throw new BadRequest('the public key is not a valid P-256 point');
    });
    const proven = await verifyText(
      key,
      registrationPayload({ user: auth.user.id, device: id, createdAt: input.createdAt }),
      input.proof,
    );
    if (!proven) {
      throw new BadRequest('the registration is not signed by the key it registers');
    }
    return this.#serial(id, async () => {
      const existing = await this.#devices.get(id);
      if (existing) {
        if (existing.userId !== auth.user.id) {
          throw new Conflict('this device key is registered to another account');
        }
        if (existing.revokedAt) {
          throw new Forbidden(
            'this device was revoked; it must make a new key before it can record custody again',
          );
        }
        return viewOf(existing);
      }
      const mine = await this.#byUser
        .keys({ gt: `${auth.user.id}${SEP}`, lt: `${auth.user.id}${SEP}\uffff` })
        .all();
      if (mine.length >= MAX_DEVICES_PER_USER) {
        throw new Conflict(
          `this account already has ${MAX_DEVICES_PER_USER} devices; revoke old ones first`,
        );
      }
      const record: DeviceRecord = {
        id,
        userId: auth.user.id,
        publicKey: input.publicKey,
        label: input.label,
        createdAt: input.createdAt,
        registeredAt: this.#now().toISOString(),
        next: 0,
        head: GENESIS_HASH,
      };
      await this.#db.batch([
        { type: 'put', sublevel: this.#devices, key: id, value: record },
        { type: 'put', sublevel: this.#byUser, key: `${auth.user.id}${SEP}${id}`, value: '' },
      ]);
      this.#keys.set(id, key);
      await this.#audit.record({
        action: 'device.registered',
        actor: { userId: auth.user.id, email: auth.user.email },
        target: `device:${id}`,
        details: { label: input.label, createdAt: input.createdAt, publicKey: input.publicKey },
        ip: ctx.ip,
        ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
      });
      return viewOf(record);
    });
  }

  async list(auth: Authenticated): Promise<DeviceView[]> {
    const ids = await this.#byUser
      .keys({ gt: `${auth.user.id}${SEP}`, lt: `${auth.user.id}${SEP}\uffff` })
      .all();
    const records = await this.#devices.getMany(ids.map((k) => k.slice(k.indexOf(SEP) + 1)));
    return records
      .filter((r): r is DeviceRecord => r !== undefined)
      .map(viewOf)
      .sort((a, b) => b.registeredAt.localeCompare(a.registeredAt));
  }

  /** A device's owner or an administrator ends it: nothing more is accepted from its key. */
  async revoke(auth: Authenticated, id: string, ctx: RequestContext): Promise<DeviceView> {
    return this.#serial(id, async () => {
      const record = await this.#devices.get(id);
      if (!record || (record.userId !== auth.user.id && auth.user.role !== 'administrator')) {
        throw new NotFound('there is no such device on your account');
      }
      if (record.revokedAt) return viewOf(record);
      const revoked = { ...record, revokedAt: this.#now().toISOString() };
      await this.#devices.put(id, revoked);
      await this.#audit.record({
        action: 'device.revoked',
        actor: { userId: auth.user.id, email: auth.user.email },
        target: `device:${id}`,
        details: { owner: record.userId, label: record.label, entries: record.next },
        ip: ctx.ip,
        ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
      });
      return viewOf(revoked);
    });
  }

  /** The registered key of a device, for checking its entries again later (custody reports). */
  async publicKeyOf(id: string): Promise<CryptoKey | undefined> {
    const cached = this.#keys.get(id);
    if (cached) return cached;
    const record = await this.#devices.get(id);
    if (!record) return undefined;
    const key = await importDeviceKey(record.publicKey);
    this.#keys.set(id, key);
    return key;
  }

  async get(id: string): Promise<DeviceRecord | undefined> {
    return this.#devices.get(id);
  }

  /**
   * Appends a device's entries to the audit trail, oldest first. Entries the server already has
   * (a batch sent again after a lost answer) are skipped; a gap is refused with the number the
   * server expects; the first entry that does not verify stops the batch with the reason, and
   * those before it stay accepted.
   */
  async merge(
    auth: Authenticated,
    id: string,
    entries: readonly DeviceEntry[],
    ctx: RequestContext,
  ): Promise<{ accepted: number; next: number }> {
    return this.#serial(id, async () => {
      let record = await this.#devices.get(id);
      if (!record || record.userId !== auth.user.id) {
        throw new NotFound('this device is not registered to your account');
      }
      if (record.revokedAt) {
        throw new Forbidden('this device was revoked; the server accepts nothing more from it');
      }
      const key = await this.publicKeyOf(id);
      if (!key) throw new NotFound('this device is not registered to your account');
      let accepted = 0;
      for (const entry of entries) {
        if (entry.seq < record.next) continue;
        if (entry.seq > record.next) throw new DeviceLogGap(record.next, entry.seq);
        const problem = await deviceEntryProblem(
          entry,
          { seq: record.next, prev: record.head, device: id, user: auth.user.id },
          key,
        );
        if (problem) {
          throw new BadRequest(
            `${problem}; ${accepted} entr${accepted === 1 ? 'y was' : 'ies were'} accepted before it`,
          );
        }
        await this.#audit.record(await this.#auditEventOf(auth, entry, ctx));
        record = {
          ...record,
          next: entry.seq + 1,
          head: entry.hash,
          lastSeenAt: this.#now().toISOString(),
        };
        await this.#devices.put(id, record);
        accepted++;
      }
      return { accepted, next: record.next };
    });
  }

  /**
   * The audit entry for a device entry: the whole signed entry goes in, so it can be checked
   * against the device's key again at any time. It is filed under its case and evidence only if
   * the person may work on that case; otherwise it is kept, but under the device alone.
   */
  async #auditEventOf(
    auth: Authenticated,
    entry: DeviceEntry,
    ctx: RequestContext,
  ): Promise<AuditEvent> {
    const allowed =
      entry.case === undefined ||
      atLeast(await this.#cases.levelFor(auth.user, entry.case), LEVEL_FOR[entry.action]);
    const sha256 =
      typeof entry.details['sha256'] === 'string' ? entry.details['sha256'] : undefined;
    return {
      action: entry.action,
      actor: { userId: auth.user.id, email: auth.user.email },
      target: allowed && entry.case ? `case:${entry.case}` : `device:${entry.device}`,
      details: {
        source: 'device',
        ...(allowed && entry.evidence ? { evidenceId: entry.evidence } : {}),
        ...(allowed && sha256 ? { sha256 } : {}),
        ...(allowed ? {} : { access: 'the user had no access to this case when it arrived' }),
        deviceEntry: entry,
      },
      ip: ctx.ip,
      ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
    };
  }

  #serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(id) ?? Promise.resolve();
    const next = before.then(work, work);
    const settled = next.catch(() => undefined);
    this.#locks.set(id, settled);
    void settled.then(() => {
      if (this.#locks.get(id) === settled) this.#locks.delete(id);
    });
    return next;
  }
}

function viewOf(record: DeviceRecord): DeviceView {
  return {
    id: record.id,
    label: record.label,
    registeredAt: record.registeredAt,
    createdAt: record.createdAt,
    entries: record.next,
    ...(record.revokedAt ? { revokedAt: record.revokedAt } : {}),
    ...(record.lastSeenAt ? { lastSeenAt: record.lastSeenAt } : {}),
  };
}
