import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Role } from '../../web/lib/shared/roles.ts';
import type { PublicUser, SessionResponse } from '../../web/lib/shared/auth-schemas.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { BadRequest, Conflict, Forbidden, SingleSignOnFailed, Unauthenticated } from '../errors.ts';
import type { IdentityStore, RefreshSession, User } from './identity-store.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords.ts';
import type { AccessClaims, TokenService } from './tokens.ts';

/** Where a request came from, for throttling and the audit record. */
export interface RequestContext {
  ip: string;
  userAgent?: string;
}

export interface Authenticated {
  user: User;
  claims: AccessClaims;
}

/** Sent when sessions end or an account changes, so open connections can be closed at once. */
export interface Revocation {
  userId: string;
  /** The sessions that ended; absent when every session of the user is affected. */
  sessionIds?: string[];
  reason: string;
}

/** Who an OpenID Connect provider says signed in, from a validated ID token. */
export interface SsoIdentity {
  issuer: string;
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
  /** Mapped from the provider's role or group claim. */
  role: Role;
}

const SETUP_META = 'setup-token';
const SETUP_TTL_MS = 24 * 60 * 60 * 1000;

export interface AuthServiceOptions {
  store: IdentityStore;
  tokens: TokenService;
  audit: AuditLog;
  throttle: LoginThrottle;
  /** How long a sign-in lasts without being used. */
  refreshTtlMs: number;
  now?: () => number;
}

/**
 * Accounts and sessions: first-run setup, password sign-in with throttling, refresh-token
 * rotation with reuse detection, sign-out, and the administrator's user management. Every
 * decision is made here, on the server; the PWA only shows what it is allowed.
 */
export class AuthService {
  readonly #store: IdentityStore;
  readonly #tokens: TokenService;
  readonly #audit: AuditLog;
  readonly #throttle: LoginThrottle;
  readonly #refreshTtlMs: number;
  readonly #now: () => number;
  /** Verified against when an email is unknown, so timing does not tell which accounts exist. */
  #decoyHash: Promise<string> | undefined;
  readonly #events = new EventEmitter<{ revoked: [Revocation] }>();

  /** Listens for ended sessions and changed accounts; returns a function that stops listening. */
  onRevoked(listener: (revocation: Revocation) => void): () => void {
    this.#events.on('revoked', listener);
    return () => this.#events.off('revoked', listener);
  }

  #revoked(revocation: Revocation): void {
    this.#events.emit('revoked', revocation);
  }

  constructor(options: AuthServiceOptions) {
    this.#store = options.store;
    this.#tokens = options.tokens;
    this.#audit = options.audit;
    this.#throttle = options.throttle;
    this.#refreshTtlMs = options.refreshTtlMs;
    this.#now = options.now ?? Date.now;
  }

  // --- first run -------------------------------------------------------------------------

  async setupNeeded(): Promise<boolean> {
    return (await this.#store.countActiveAdministrators()) === 0;
  }

  /**
   * When no administrator exists, makes a one-time setup token (valid 24 hours) and returns it
   * for the operator's console; it is stored only as a hash.
   */
  async issueSetupToken(): Promise<string | undefined> {
    if (!(await this.setupNeeded())) return undefined;
    const token = randomBytes(24).toString('base64url');
    await this.#store.setMeta(SETUP_META, {
      hash: sha256(token),
      expiresAt: this.#now() + SETUP_TTL_MS,
    });
    return token;
  }

  async setup(
    input: { token: string; email: string; name: string; password: string },
    ctx: RequestContext,
  ): Promise<SessionResponse> {
    if (!(await this.setupNeeded())) {
      throw new Conflict('Exhibit is already set up; sign in instead');
    }
    const stored = await this.#store.getMeta<{ hash: string; expiresAt: number }>(SETUP_META);
    if (!stored || !safeEqual(stored.hash, sha256(input.token)) || stored.expiresAt < this.#now()) {
      await this.#audit.record({ action: 'setup.refused', ip: ctx.ip, userAgent: ctx.userAgent });
      throw new Forbidden(
        'the setup link is not valid or has expired; restart the server for a new one',
      );
    }
    const problem = passwordProblem(input.password);
    if (problem) throw new BadRequest(problem);
    const user = await this.#store.createUser({
      email: input.email,
      name: input.name,
      role: 'administrator',
      passwordHash: await hashPassword(input.password),
      mustChangePassword: false,
      disabled: false,
    });
    await this.#store.setMeta(SETUP_META, undefined);
    await this.#audit.record({
      action: 'setup.administrator_created',
      actor: { userId: user.id, email: user.email },
      target: `user:${user.id}`,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    return this.#startSession(user, ctx);
  }

  // --- sign-in ---------------------------------------------------------------------------

  async login(email: string, password: string, ctx: RequestContext): Promise<SessionResponse> {
    this.#throttle.check(email, ctx.ip);
    const user = await this.#store.findUserByEmail(email);
    const hash = user?.passwordHash ?? (await this.#decoy());
    const valid = await verifyPassword(password, hash);
    if (!user || !user.passwordHash || !valid || user.disabled) {
      this.#throttle.failed(email, ctx.ip);
      await this.#audit.record({
        action: 'auth.login_failed',
        actor: { email, ...(user ? { userId: user.id } : {}) },
        details: {
          reason: !user ? 'unknown email' : user.disabled ? 'disabled' : 'wrong password',
        },
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
      // One message for every case, so it cannot be used to find out which accounts exist.
      throw new Unauthenticated('the email or password is not right');
    }
    this.#throttle.succeeded(email, ctx.ip);
    if (needsRehash(user.passwordHash)) {
      // Stored with weaker parameters than today's: the password is at hand, so upgrade it now.
      const passwordHash = await hashPassword(password);
      await this.#store.updateUser(user.id, () => ({ passwordHash }));
    }
    await this.#audit.record({
      action: 'auth.login',
      actor: { userId: user.id, email: user.email },
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    return this.#startSession(user, ctx);
  }

  /**
   * Signs in someone the OpenID Connect provider vouched for. The account is the one bound to
   * the provider's subject, else the one with the same email if the provider verified it, else
   * a new one. The role follows the provider's claims at every sign-in, so someone taken out of
   * a group there loses its role here the next time they sign in.
   */
  async signInWithSso(person: SsoIdentity, ctx: RequestContext): Promise<SessionResponse> {
    const email = person.email?.trim().toLowerCase();
    const refuse = async (reason: string, message: string, user?: User) => {
      await this.#audit.record({
        action: 'auth.sso_failed',
        actor: { ...(email ? { email } : {}), ...(user ? { userId: user.id } : {}) },
        details: { reason, issuer: person.issuer, subject: person.subject },
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
      return new SingleSignOnFailed(message);
    };
    const sso = { issuer: person.issuer, subject: person.subject };
    // A scan, not an index: an organisation's accounts number in the hundreds, and sign-ins are rare.
    let user = (await this.#store.listUsers()).find(
      (u) => u.sso?.issuer === sso.issuer && u.sso.subject === sso.subject,
    );
    if (!user) {
      // An unverified address could be anyone's; binding it to an account would hand that over.
      if (!email || !person.emailVerified) {
        throw await refuse(
          'no verified email',
          'the provider did not confirm an email address for this account',
        );
      }
      const existing = await this.#store.findUserByEmail(email);
      if (existing?.disabled) {
        throw await refuse('disabled', 'this account is disabled; ask an administrator', existing);
      }
      if (existing?.sso) {
        throw await refuse(
          'email bound to another single sign-on identity',
          'this email already belongs to another single sign-on account',
          existing,
        );
      }
      if (existing) {
        user = await this.#store.updateUser(existing.id, () => ({ sso }));
        await this.#audit.record({
          action: 'user.sso_linked',
          actor: { userId: user.id, email: user.email },
          target: `user:${user.id}`,
          details: sso,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
        });
      } else {
        user = await this.#store.createUser({
          email,
          name: person.name?.trim() || email,
          role: person.role,
          mustChangePassword: false,
          disabled: false,
          sso,
        });
        await this.#audit.record({
          action: 'user.created',
          actor: { userId: user.id, email: user.email },
          target: `user:${user.id}`,
          details: { email: user.email, role: user.role, via: 'single sign-on', ...sso },
          ip: ctx.ip,
          userAgent: ctx.userAgent,
        });
      }
    }
    if (user.disabled) {
      throw await refuse('disabled', 'this account is disabled; ask an administrator', user);
    }
    if (user.role !== person.role) {
      const before = user.role;
      user = await this.#store.updateUser(user.id, () => ({ role: person.role }));
      // Other sessions carry the old role (the sync socket caches it); end them as an
      // administrator's role change would.
      await this.#store.revokeSessionsOfUser(user.id, 'role changed');
      this.#revoked({ userId: user.id, reason: 'role changed' });
      await this.#audit.record({
        action: 'user.role_changed',
        actor: { userId: user.id, email: user.email },
        target: `user:${user.id}`,
        details: { before, after: user.role, via: 'single sign-on', issuer: person.issuer },
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
    }
    await this.#audit.record({
      action: 'auth.login',
      actor: { userId: user.id, email: user.email },
      details: { method: 'single sign-on', issuer: person.issuer },
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    return this.#startSession(user, ctx);
  }

  #decoy(): Promise<string> {
    this.#decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
    return this.#decoyHash;
  }

  async #startSession(user: User, ctx: RequestContext): Promise<SessionResponse> {
    const secret = randomBytes(32).toString('base64url');
    const now = new Date(this.#now()).toISOString();
    const session: RefreshSession = {
      id: randomUUID(),
      userId: user.id,
      secretHash: sha256(secret),
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(this.#now() + this.#refreshTtlMs).toISOString(),
      ...(ctx.userAgent ? { userAgent: ctx.userAgent.slice(0, 300) } : {}),
    };
    await this.#store.putSession(session);
    return this.#response(user, session.id, `${session.id}.${secret}`);
  }

  async #response(user: User, sid: string, refreshToken: string): Promise<SessionResponse> {
    const accessToken = await this.#tokens.sign({ sub: user.id, role: user.role, sid });
    const { exp } = await this.#tokens.verify(accessToken);
    return { accessToken, expiresAt: exp, user: publicUser(user), refreshToken };
  }

  /**
   * Trades a refresh token for a new access token and a new refresh token. The old one stops
   * working; if it is ever presented again, someone copied it, and the whole session ends.
   */
  async refresh(refreshToken: string | undefined, ctx: RequestContext): Promise<SessionResponse> {
    const parsed = parseRefreshToken(refreshToken);
    const secretHash = sha256(parsed.secret);
    const newSecret = randomBytes(32).toString('base64url');
    let outcome: 'rotated' | 'reused' | 'invalid' = 'invalid';
    const session = await this.#store.updateSession(parsed.sessionId, (current) => {
      const live = !current.revokedAt && Date.parse(current.expiresAt) > this.#now();
      if (live && safeEqual(current.secretHash, secretHash)) {
        outcome = 'rotated';
        return {
          ...current,
          previousSecretHash: current.secretHash,
          secretHash: sha256(newSecret),
          lastUsedAt: new Date(this.#now()).toISOString(),
          expiresAt: new Date(this.#now() + this.#refreshTtlMs).toISOString(),
        };
      }
      if (
        !current.revokedAt &&
        current.previousSecretHash &&
        safeEqual(current.previousSecretHash, secretHash)
      ) {
        outcome = 'reused';
        return {
          ...current,
          revokedAt: new Date(this.#now()).toISOString(),
          revokedReason: 'a refresh token was used twice',
        };
      }
      return current;
    });
    if (!session || outcome === 'invalid') {
      throw new Unauthenticated('the sign-in has ended or is not valid; sign in again');
    }
    if (outcome === 'reused') {
      this.#revoked({
        userId: session.userId,
        sessionIds: [session.id],
        reason: 'refresh token reused',
      });
      await this.#audit.record({
        action: 'auth.refresh_reused',
        actor: { userId: session.userId },
        target: `session:${session.id}`,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
      throw new Unauthenticated(
        'this sign-in was ended because its refresh token was used twice; sign in again',
      );
    }
    const user = await this.#store.getUser(session.userId);
    if (!user || user.disabled) {
      throw new Unauthenticated('the account is no longer active; sign in again');
    }
    return this.#response(user, session.id, `${session.id}.${newSecret}`);
  }

  /** Ends a session; an unknown or already-ended one is not an error. */
  async logout(sessionId: string | undefined, ctx: RequestContext, actor?: User): Promise<void> {
    if (!sessionId) return;
    const ended = await this.#store.updateSession(sessionId, (s) =>
      s.revokedAt
        ? s
        : { ...s, revokedAt: new Date(this.#now()).toISOString(), revokedReason: 'signed out' },
    );
    if (ended) {
      this.#revoked({ userId: ended.userId, sessionIds: [ended.id], reason: 'signed out' });
      await this.#audit.record({
        action: 'auth.logout',
        actor: { userId: ended.userId, ...(actor ? { email: actor.email } : {}) },
        target: `session:${ended.id}`,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
    }
  }

  /** Checks an access token and that its session and user are still active. */
  async authenticate(token: string | undefined): Promise<Authenticated> {
    const claims = await this.#tokens.verify(token);
    const [session, user] = await Promise.all([
      this.#store.getSession(claims.sid),
      this.#store.getUser(claims.sub),
    ]);
    if (!session || session.revokedAt || session.userId !== claims.sub) {
      throw new Unauthenticated('this sign-in has ended; sign in again');
    }
    if (!user || user.disabled) throw new Unauthenticated('the account is no longer active');
    // The role in the token may be stale for up to its lifetime; the stored one decides.
    return { user, claims: { ...claims, role: user.role } };
  }

  // --- passwords ---------------------------------------------------------------------------

  async changePassword(
    auth: Authenticated,
    current: string,
    next: string,
    ctx: RequestContext,
  ): Promise<PublicUser> {
    if (!auth.user.passwordHash || !(await verifyPassword(current, auth.user.passwordHash))) {
      throw new Forbidden('the current password is not right');
    }
    const problem = passwordProblem(next);
    if (problem) throw new BadRequest(problem);
    const passwordHash = await hashPassword(next);
    const user = await this.#store.updateUser(auth.user.id, () => ({
      passwordHash,
      mustChangePassword: false,
    }));
    const ended = await this.#store.revokeSessionsOfUser(
      user.id,
      'password changed',
      auth.claims.sid,
    );
    this.#revoked({ userId: user.id, sessionIds: ended, reason: 'password changed' });
    await this.#audit.record({
      action: 'auth.password_changed',
      actor: { userId: user.id, email: user.email },
      target: `user:${user.id}`,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    return publicUser(user);
  }

  // --- administration ---------------------------------------------------------------------

  async listUsers(admin: Authenticated): Promise<PublicUser[]> {
    requireAdministrator(admin);
    return (await this.#store.listUsers()).map(publicUser);
  }

  async createUser(
    admin: Authenticated,
    input: { email: string; name: string; role: Role; password: string },
    ctx: RequestContext,
  ): Promise<PublicUser> {
    requireAdministrator(admin);
    const problem = passwordProblem(input.password);
    if (problem) throw new BadRequest(problem);
    const user = await this.#store.createUser({
      email: input.email,
      name: input.name,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      mustChangePassword: true,
      disabled: false,
    });
    await this.#audit.record({
      action: 'user.created',
      actor: { userId: admin.user.id, email: admin.user.email },
      target: `user:${user.id}`,
      details: { email: user.email, role: user.role },
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    return publicUser(user);
  }

  async updateUser(
    admin: Authenticated,
    id: string,
    change: { name?: string; role?: Role; disabled?: boolean },
    ctx: RequestContext,
  ): Promise<PublicUser> {
    requireAdministrator(admin);
    let before: User | undefined;
    const user = await this.#store.updateUser(
      id,
      () => change,
      (current, others) => {
        before = current;
        const losesAdmin =
          current.role === 'administrator' &&
          !current.disabled &&
          ((change.role !== undefined && change.role !== 'administrator') ||
            change.disabled === true);
        const otherAdmins = others.filter((u) => u.role === 'administrator' && !u.disabled);
        if (losesAdmin && otherAdmins.length === 0) {
          throw new Conflict('this is the last active administrator; make someone else one first');
        }
      },
    );
    if (change.disabled === true || (change.role !== undefined && change.role !== before?.role)) {
      const reason = change.disabled ? 'account disabled' : 'role changed';
      await this.#store.revokeSessionsOfUser(id, reason);
      this.#revoked({ userId: id, reason });
    }
    await this.#audit.record({
      action: 'user.updated',
      actor: { userId: admin.user.id, email: admin.user.email },
      target: `user:${id}`,
      details: { before: before && pick(before, change), after: change },
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    return publicUser(user);
  }

  async resetPassword(
    admin: Authenticated,
    id: string,
    password: string,
    ctx: RequestContext,
  ): Promise<PublicUser> {
    requireAdministrator(admin);
    const problem = passwordProblem(password);
    if (problem) throw new BadRequest(problem);
    const passwordHash = await hashPassword(password);
    const user = await this.#store.updateUser(id, () => ({
      passwordHash,
      mustChangePassword: true,
    }));
    await this.#store.revokeSessionsOfUser(id, 'password reset by an administrator');
    this.#revoked({ userId: id, reason: 'password reset by an administrator' });
    await this.#audit.record({
      action: 'user.password_reset',
      actor: { userId: admin.user.id, email: admin.user.email },
      target: `user:${id}`,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    return publicUser(user);
  }
}

export function publicUser(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    disabled: user.disabled,
    mustChangePassword: user.mustChangePassword,
    createdAt: user.createdAt,
  };
}

function requireAdministrator(auth: Authenticated): void {
  if (auth.user.role !== 'administrator') {
    throw new Forbidden('only an administrator may manage users');
  }
}

function parseRefreshToken(token: string | undefined): { sessionId: string; secret: string } {
  const match = token ? /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token) : null;
  if (!match) throw new Unauthenticated('the refresh token is missing or malformed; sign in again');
  return { sessionId: match[1] as string, secret: match[2] as string };
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function pick(user: User, change: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(change))
    out[key] = (user as unknown as Record<string, unknown>)[key];
  return out;
}
