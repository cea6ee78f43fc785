import { atLeast } from '../../web/lib/shared/access-policy.ts';
import type {
  CustodyCheck,
  CustodyEvent,
  CustodyReport,
} from '../../web/lib/shared/custody-report.ts';
import {
  deviceEntryPayload,
  sha256Hex,
  verifyText,
  type DeviceEntry,
} from '../../web/lib/shared/device-log.ts';
import type { AuditLog, AuditRecord } from '../audit/audit-log.ts';
import { Forbidden, NotFound } from '../errors.ts';
import type { Authenticated } from '../identity/auth-service.ts';
import type { CaseAccessService } from '../identity/case-access.ts';
import type { IdentityStore } from '../identity/identity-store.ts';
import type { DeviceCustody } from './device-custody.ts';

/** A report lists at most this many events; an item opened more often says it was cut. */
const MAX_EVENTS = 5000;

/**
 * The custody of one evidence item in one case, from the audit trail alone: the custody record
 * its first device signed, the upload, the server's verification, and every access since, each
 * entry checked again (its hash, its link, the signed checkpoint that seals it, the device's
 * signature) at the moment the report is made.
 */
export class CustodyReports {
  readonly #audit: AuditLog;
  readonly #devices: DeviceCustody;
  readonly #cases: CaseAccessService;
  readonly #identity: IdentityStore;
  readonly #now: () => Date;

  constructor(options: {
    audit: AuditLog;
    devices: DeviceCustody;
    cases: CaseAccessService;
    identity: IdentityStore;
    now?: () => Date;
  }) {
    this.#audit = options.audit;
    this.#devices = options.devices;
    this.#cases = options.cases;
    this.#identity = options.identity;
    this.#now = options.now ?? (() => new Date());
  }

  async report(auth: Authenticated, caseId: string, evidenceId: string): Promise<CustodyReport> {
    if (!atLeast(await this.#cases.levelFor(auth.user, caseId), 'view')) {
      throw new Forbidden('you have no access to this case');
    }
    const inCase = `case:${caseId}`;
    const own = (await this.#audit.about(`evidence:${evidenceId}`, MAX_EVENTS)).filter(
      (e) => e.target === inCase,
    );
    const digests = new Set<string>();
    for (const entry of own) {
      for (const field of ['sha256', 'clientSha256']) {
        const value = entry.details?.[field];
        if (typeof value === 'string') digests.add(value);
      }
    }
    if (own.length === 0) {
      throw new NotFound('the audit trail holds nothing about this evidence item in this case');
    }
    // Reads of the file are recorded by its digest: they count wherever the file is opened
    // from. Other cases' events about the same file stay out of this case's report.
    const bySeq = new Map(own.map((e) => [e.seq, e]));
    let truncated = own.length >= MAX_EVENTS;
    for (const digest of digests) {
      const about = await this.#audit.about(`sha256:${digest}`, MAX_EVENTS);
      truncated ||= about.length >= MAX_EVENTS;
      for (const entry of about) {
        const names = entry.details?.['evidenceId'];
        const otherItem = typeof names === 'string' && names !== evidenceId;
        if (entry.target === `sha256:${digest}` || (entry.target === inCase && !otherItem)) {
          bySeq.set(entry.seq, entry);
        }
      }
    }
    const entries = [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, MAX_EVENTS);
    const proofs = await this.#audit.prove(entries.map((e) => e.seq));
    const events = await Promise.all(
      entries.map(async (entry) => this.#event(entry, proofs.get(entry.seq)!)),
    );
    // In the order things happened: a device's entries by its own clock (they reach the server
    // later, when it is back online), the rest by the server's. Both times are in each event.
    events.sort(
      (a, b) =>
        Date.parse(a.deviceTime ?? a.serverTime) - Date.parse(b.deviceTime ?? b.serverTime) ||
        a.seq - b.seq,
    );
    const evidence = summarise(entries);
    return {
      caseId,
      evidenceId,
      generatedAt: this.#now().toISOString(),
      evidence,
      checks: checksOf(events, evidence),
      events,
      truncated: truncated || bySeq.size > MAX_EVENTS,
    };
  }

  readonly #names = new Map<string, { name?: string; email?: string }>();

  async #event(
    entry: AuditRecord,
    proof: CustodyEvent['proof'] & { seq: number },
  ): Promise<CustodyEvent> {
    const { deviceEntry, ...details } = entry.details ?? {};
    const device = deviceEntry ? await this.#deviceOf(deviceEntry as DeviceEntry) : undefined;
    const userId = entry.actor?.userId;
    const sha256 = entry.details?.['sha256'];
    return {
      seq: entry.seq,
      serverTime: entry.time,
      ...(device ? { deviceTime: (deviceEntry as DeviceEntry).time, device } : {}),
      action: entry.action,
      ...(userId ? { actor: { id: userId, ...(await this.#nameOf(userId, entry)) } } : {}),
      ...(entry.ip ? { ip: entry.ip } : {}),
      ...(entry.userAgent ? { userAgent: entry.userAgent } : {}),
      ...(typeof sha256 === 'string'
        ? { sha256 }
        : entry.target?.startsWith('sha256:')
          ? { sha256: entry.target.slice('sha256:'.length) }
          : {}),
      details: device ? { ...details, ...(deviceEntry as DeviceEntry).details } : details,
      hash: entry.hash,
      proof: {
        intact: proof.intact,
        ...(proof.sealedBy ? { sealedBy: proof.sealedBy } : {}),
        ...(proof.problem ? { problem: proof.problem } : {}),
      },
    };
  }

  async #deviceOf(entry: DeviceEntry): Promise<NonNullable<CustodyEvent['device']>> {
    const record = await this.#devices.get(entry.device);
    const key = record ? await this.#devices.publicKeyOf(entry.device) : undefined;
    const payload = deviceEntryPayload(entry);
    const valid =
      key !== undefined &&
      (await sha256Hex(payload)) === entry.hash &&
      (await verifyText(key, payload, entry.signature));
    return {
      id: entry.device,
      seq: entry.seq,
      hash: entry.hash,
      signature: key === undefined ? 'unknown-device' : valid ? 'valid' : 'invalid',
      ...(record ? { label: record.label } : {}),
      ...(record?.revokedAt ? { revokedAt: record.revokedAt } : {}),
    };
  }

  async #nameOf(userId: string, entry: AuditRecord): Promise<{ name?: string; email?: string }> {
    let known = this.#names.get(userId);
    if (!known) {
      const user = await this.#identity.getUser(userId);
      known = user ? { name: user.name, email: user.email } : {};
      this.#names.set(userId, known);
    }
    const email = known.email ?? entry.actor?.email;
    return { ...(known.name ? { name: known.name } : {}), ...(email ? { email } : {}) };
  }
}

function summarise(entries: readonly AuditRecord[]): CustodyReport['evidence'] {
  const out: CustodyReport['evidence'] = {};
  for (const entry of entries) {
    const d = entry.details ?? {};
    const record = (d['deviceEntry'] as DeviceEntry | undefined)?.details ?? {};
    if (entry.action === 'evidence.added' && d['source'] === 'device') {
      out.deviceSha256 ??= text(record['sha256']);
      out.name ??= text(record['name']);
      out.type ??= text(record['type']);
      if (typeof record['size'] === 'number') out.size ??= record['size'];
    }
    if (entry.action === 'evidence.stored') {
      out.serverSha256 = text(d['sha256']);
      out.verifiedAt = entry.time;
      out.name ??= text(d['filename']);
      if (typeof d['size'] === 'number') out.size ??= d['size'];
    }
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** "2026-11-26 00:26:35 UTC": what a printed report shows. */
function readable(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC') : 'an unknown time';
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function checksOf(
  events: readonly CustodyEvent[],
  evidence: CustodyReport['evidence'],
): CustodyCheck[] {
  const deviceEvents = events.filter((e) => e.device);
  const added = events.find((e) => e.action === 'evidence.added' && e.device);
  const stored = events.find((e) => e.action === 'evidence.stored');
  const started = events.find((e) => e.action === 'evidence.upload_started');
  const badSignatures = deviceEvents.filter((e) => e.device?.signature !== 'valid');
  const broken = events.filter((e) => !e.proof.intact);
  const unsealed = events.filter((e) => e.proof.intact && !e.proof.sealedBy);
  const badSeals = events.filter((e) => e.proof.sealedBy && !e.proof.sealedBy.signatureValid);
  const checks: CustodyCheck[] = [
    added
      ? {
          id: 'device-record',
          outcome: 'pass',
          detail: `A custody record was signed on device ${added.device?.label ?? added.device?.id.slice(0, 12)} at ${readable(added.deviceTime)} by its clock, ${
            started && Date.parse(added.deviceTime ?? '') > Date.parse(started.serverTime)
              ? `after the upload started at ${readable(started.serverTime)} by the server's clock (the clocks may differ)`
              : started
                ? `before the upload started at ${readable(started.serverTime)}`
                : 'before any upload'
          }.`,
        }
      : {
          id: 'device-record',
          outcome: 'absent',
          detail:
            'No device signed a custody record for this item (it came from a tool or device that does not keep one).',
        },
    deviceEvents.length === 0
      ? { id: 'device-signatures', outcome: 'absent', detail: 'No device-signed entries.' }
      : badSignatures.length === 0
        ? {
            id: 'device-signatures',
            outcome: 'pass',
            detail: `All ${deviceEvents.length} device-signed entries verify against their device's registered key.`,
          }
        : {
            id: 'device-signatures',
            outcome: 'fail',
            detail: `${badSignatures.length} device-signed entr${badSignatures.length === 1 ? 'y does' : 'ies do'} not verify (entry ${badSignatures.map((e) => e.seq).join(', ')}).`,
          },
    evidence.deviceSha256 && evidence.serverSha256
      ? evidence.deviceSha256 === evidence.serverSha256
        ? {
            id: 'hashes-agree',
            outcome: 'pass',
            detail: `The SHA-256 the device computed before upload equals the server's: ${evidence.serverSha256}.`,
          }
        : {
            id: 'hashes-agree',
            outcome: 'fail',
            detail: `The device computed ${evidence.deviceSha256} but the server stored ${evidence.serverSha256}.`,
          }
      : {
          id: 'hashes-agree',
          outcome: stored ? 'absent' : 'pending',
          detail: stored
            ? 'There is no device digest to compare with the server\u2019s.'
            : 'The server has not stored the file yet.',
        },
    stored
      ? {
          id: 'server-verified',
          outcome: 'pass',
          detail: `The server read the stored file back and its SHA-256 matched the sender's, at ${readable(stored.serverTime)}.`,
        }
      : events.some((e) => e.action === 'evidence.rejected')
        ? {
            id: 'server-verified',
            outcome: 'fail',
            detail:
              'The server refused the file: what it stored did not match the sender\u2019s digest.',
          }
        : { id: 'server-verified', outcome: 'pending', detail: 'Not stored on the server yet.' },
    broken.length === 0
      ? {
          id: 'chain-intact',
          outcome: 'pass',
          detail: `Each of the ${events.length} audit entries hashes to its recorded hash and links to the entry before it.`,
        }
      : {
          id: 'chain-intact',
          outcome: 'fail',
          detail: `The audit trail does not verify at ${broken.length} of these entries: ${broken[0]?.proof.problem ?? ''}`,
        },
    badSeals.length > 0
      ? {
          id: 'sealed',
          outcome: 'fail',
          detail: `${badSeals.length} entries are sealed by a checkpoint whose signature does not verify.`,
        }
      : unsealed.length > 0
        ? {
            id: 'sealed',
            outcome: 'pending',
            detail: `${unsealed.length} recent entr${unsealed.length === 1 ? 'y is' : 'ies are'} not yet sealed by a signed checkpoint (one is made every 10 minutes).`,
          }
        : {
            id: 'sealed',
            outcome: broken.length ? 'fail' : 'pass',
            detail:
              'Every entry is sealed by a checkpoint signed with the server\u2019s Ed25519 key.',
          },
  ];
  return checks;
}
