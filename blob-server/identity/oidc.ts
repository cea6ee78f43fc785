import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import type { SessionResponse } from '../../web/lib/shared/auth-schemas.ts';
import { ROLES, type Role } from '../../web/lib/shared/roles.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { isLoopback, type OidcConfig } from '../config.ts';
import { SingleSignOnFailed } from '../errors.ts';
import type { AuthService, RequestContext } from './auth-service.ts';

/** How long someone may take at the provider's login page. */
export const FLOW_TTL_MS = 10 * 60 * 1000;
/** Sign-ins started and not finished that are remembered at once; the oldest go first. */
const MAX_PENDING_FLOWS = 10_000;
const DISCOVERY_TIMEOUT_SECONDS = 10;

interface PendingFlow {
  state: string;
  nonce: string;
  codeVerifier: string;
  expiresAt: number;
}

export interface SingleSignOnOptions {
  config: OidcConfig;
  auth: AuthService;
  audit: AuditLog;
  now?: () => number;
}

/**
 * Sign-in through an OpenID Connect provider (Entra ID, Okta, Keycloak…): the authorization
 * code flow with PKCE, state and nonce. What the browser must bring back is kept here, under a
 * random id the browser holds in a cookie, so nothing secret travels through the provider.
 */
export class SingleSignOn {
  readonly #config: OidcConfig;
  readonly #auth: AuthService;
  readonly #audit: AuditLog;
  readonly #now: () => number;
  readonly #flows = new Map<string, PendingFlow>();
  #discovered: Promise<client.Configuration> | undefined;

  constructor(options: SingleSignOnOptions) {
    this.#config = options.config;
    this.#auth = options.auth;
    this.#audit = options.audit;
    this.#now = options.now ?? Date.now;
  }

  get label(): string {
    return this.#config.label;
  }

  /**
   * The provider's metadata, fetched at first use rather than at startup so a provider that is
   * down does not keep Exhibit from starting; a failed fetch is tried again at the next sign-in.
   */
  #provider(): Promise<client.Configuration> {
    this.#discovered ??= discover(this.#config).catch((err: unknown) => {
      this.#discovered = undefined;
      throw err;
    });
    return this.#discovered;
  }

  /** Makes the provider URL to send the browser to, and the id of the flow it belongs to. */
  async start(ctx: RequestContext): Promise<{ flowId: string; url: URL }> {
    let provider: client.Configuration;
    try {
      provider = await this.#provider();
    } catch (err) {
      throw await this.#failed(
        'provider unreachable',
        err,
        ctx,
        'the single sign-on provider cannot be reached; try again later',
      );
    }
    const flow: PendingFlow = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      expiresAt: this.#now() + FLOW_TTL_MS,
    };
    const url = client.buildAuthorizationUrl(provider, {
      redirect_uri: this.#config.redirectUri,
      scope: 'openid email profile',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    const flowId = randomBytes(24).toString('base64url');
    this.#remember(flowId, flow);
    return { flowId, url };
  }

  /**
   * Completes a sign-in from the provider's redirect: checks state, exchanges the code (with the
   * PKCE verifier), validates the ID token and its nonce, and opens an Exhibit session.
   */
  async finish(
    flowId: string | undefined,
    query: string,
    ctx: RequestContext,
  ): Promise<SessionResponse> {
    const flow = flowId ? this.#flows.get(flowId) : undefined;
    if (flowId) this.#flows.delete(flowId);
    if (!flow || flow.expiresAt < this.#now()) {
      throw await this.#failed(
        flow ? 'flow expired' : 'no pending sign-in for this browser',
        undefined,
        ctx,
        'the sign-in took too long or was not started in this browser; try again',
      );
    }
    const callback = new URL(this.#config.redirectUri);
    callback.search = query;
    let claims: client.IDToken;
    try {
      const tokens = await client.authorizationCodeGrant(await this.#provider(), callback, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims();
      if (!idToken) throw new Error('the token response has no ID token');
      claims = idToken;
    } catch (err) {
      throw await this.#failed('the provider’s answer was refused', err, ctx);
    }
    return this.#auth.signInWithSso(
      {
        issuer: claims.iss,
        subject: claims.sub,
        email: typeof claims['email'] === 'string' ? claims['email'] : undefined,
        emailVerified: claims['email_verified'] === true,
        name: typeof claims['name'] === 'string' ? claims['name'] : undefined,
        role: roleFromClaims(claims, this.#config),
      },
      ctx,
    );
  }

  #remember(flowId: string, flow: PendingFlow): void {
    const now = this.#now();
    for (const [id, pending] of this.#flows) {
      if (pending.expiresAt < now || this.#flows.size >= MAX_PENDING_FLOWS) this.#flows.delete(id);
      else break;
    }
    this.#flows.set(flowId, flow);
  }

  async #failed(
    reason: string,
    err: unknown,
    ctx: RequestContext,
    message = messageFor(err),
  ): Promise<SingleSignOnFailed> {
    await this.#audit.record({
      action: 'auth.sso_failed',
      details: {
        reason,
        issuer: this.#config.issuer,
        ...(err === undefined ? {} : { error: describe(err) }),
      },
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    return new SingleSignOnFailed(message);
  }
}

async function discover(config: OidcConfig): Promise<client.Configuration> {
  const issuer = new URL(config.issuer);
  // openid-client refuses plain http; a provider on this machine (a test's) is the one exception,
  // and the configuration already refused http for any other host.
  const insecure = issuer.protocol === 'http:' && isLoopback(issuer.hostname);
  return client.discovery(
    issuer,
    config.clientId,
    undefined,
    config.clientSecret ? client.ClientSecretBasic(config.clientSecret) : client.None(),
    {
      timeout: DISCOVERY_TIMEOUT_SECONDS,
      ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
    },
  );
}

/**
 * The most powerful role any of the person's claim values maps to, else the default role. The
 * claim may be a string or a list of strings, and a dotted name reaches into nested claims
 * (Keycloak's `realm_access.roles`).
 */
export function roleFromClaims(
  claims: Record<string, unknown>,
  config: Pick<OidcConfig, 'roleClaim' | 'roleMap' | 'defaultRole'>,
): Role {
  const value = claimAt(claims, config.roleClaim);
  const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  let best: Role | undefined;
  for (const item of values) {
    const role = typeof item === 'string' ? config.roleMap.get(item) : undefined;
    if (role && (!best || ROLES.indexOf(role) < ROLES.indexOf(best))) best = role;
  }
  return best ?? config.defaultRole;
}

function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  let at: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** What the person is told about a refused answer; the detail goes to the audit record. */
function messageFor(err: unknown): string {
  if (err instanceof client.AuthorizationResponseError) {
    return err.error === 'access_denied'
      ? 'the provider did not allow the sign-in'
      : `the provider refused the sign-in (${err.error})`;
  }
  return 'the answer from the single sign-on provider was not valid; try again';
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${typeof code === 'string' ? `${code} ` : ''}${err.message}${cause}`.slice(0, 500);
}
