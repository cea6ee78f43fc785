import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Level } from 'level';
import type { AuditLog } from '../audit/audit-log.ts';
import { ExhibitError, Forbidden, NotFound } from '../errors.ts';

/** The link no longer works (expired, revoked, used up); 410 tells the holder it once did. */
export class LinkGone extends ExhibitError {
  override readonly status = 410;
  override readonly code = 'link_gone';
}

export interface CapabilityLink {
  id: string;
  /** SHA-256 of the secret part; the secret itself is never stored. */
  secretHash: string;
  /** The one thing the link allows, e.g. 'file-request.upload'. */
  action: string;
  /** The one thing it allows it on, e.g. 'file-request:<id>'. */
  resource: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  /** How often it may be used; unlimited when absent. */
  maxUses?: number;
  uses: number;
}

/**
 * Links for people without accounts (public file requests, camera owners): a random token,
 * stored hashed, that allows one action on one resource until it expires, is revoked or is
 * used up. Every creation, use and revocation goes into the audit record.
 */
export class CapabilityLinks {
  readonly #links;
  readonly #audit: AuditLog;
  readonly #now: () => Date;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(db: Level<string, unknown>, audit: AuditLog, now: () => Date = () => new Date()) {
    this.#links = db.sublevel<string, CapabilityLink>('capability-links', {
      valueEncoding: 'json',
    });
    this.#audit = audit;
    this.#now = now;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Makes a link; the returned token is shown once and cannot be recovered. */
  async create(input: {
    action: string;
    resource: string;
    createdBy: string;
    expiresAt: Date;
    maxUses?: number;
  }): Promise<{ link: CapabilityLink; token: string }> {
    const secret = randomBytes(24).toString('base64url');
    const link: CapabilityLink = {
      id: randomUUID(),
      secretHash: sha256(secret),
      action: input.action,
      resource: input.resource,
      createdBy: input.createdBy,
      createdAt: this.#now().toISOString(),
      expiresAt: input.expiresAt.toISOString(),
      uses: 0,
      ...(input.maxUses !== undefined ? { maxUses: input.maxUses } : {}),
    };
    await this.#links.put(link.id, link);
    await this.#audit.record({
      action: 'link.created',
      actor: { userId: input.createdBy },
      target: input.resource,
      details: { link: link.id, action: link.action, expiresAt: link.expiresAt },
    });
    return { link, token: `${link.id}.${secret}` };
  }

  /**
   * Checks a token for one action on one resource and counts the use. Refuses, saying why,
   * a token that is malformed, unknown, for something else, expired, revoked or used up.
   */
  use(
    token: string | undefined,
    action: string,
    resource: string,
    ip?: string,
  ): Promise<CapabilityLink> {
    return this.#serial(async () => {
      const match = token ? /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{32})$/.exec(token) : null;
      if (!match) throw new Forbidden('this link is not valid');
      const link = await this.#links.get(match[1] as string);
      if (!link || !safeEqual(link.secretHash, sha256(match[2] as string))) {
        throw new Forbidden('this link is not valid');
      }
      if (link.action !== action || link.resource !== resource) {
        throw new Forbidden('this link does not allow that');
      }
      if (link.revokedAt) throw new LinkGone('this link has been withdrawn');
      if (Date.parse(link.expiresAt) <= this.#now().getTime()) {
        throw new LinkGone('this link has expired');
      }
      if (link.maxUses !== undefined && link.uses >= link.maxUses) {
        throw new LinkGone('this link has been used as often as it allows');
      }
      const used = { ...link, uses: link.uses + 1 };
      await this.#links.put(link.id, used);
      await this.#audit.record({
        action: 'link.used',
        target: link.resource,
        details: { link: link.id, action },
        ...(ip ? { ip } : {}),
      });
      return used;
    });
  }

  revoke(id: string, by: string): Promise<CapabilityLink> {
    return this.#serial(async () => {
      const link = await this.#links.get(id);
      if (!link) throw new NotFound(`there is no link ${id}`);
      if (link.revokedAt) return link;
      const revoked = { ...link, revokedAt: this.#now().toISOString() };
      await this.#links.put(id, revoked);
      await this.#audit.record({
        action: 'link.revoked',
        actor: { userId: by },
        target: link.resource,
        details: { link: id },
      });
      return revoked;
    });
  }

  async forResource(resource: string): Promise<CapabilityLink[]> {
    const all = await this.#links.values().all();
    return all.filter((l) => l.resource === resource);
  }
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
