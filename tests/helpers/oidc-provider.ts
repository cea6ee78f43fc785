import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

/** A person at the test provider; the provider's login page accepts their `login` with any password. */
export interface ProviderUser {
  email: string;
  email_verified: boolean;
  name: string;
  /** Groups or roles, sent in the `roles` claim of the ID token. */
  roles: string[];
}

export interface TestOidcProvider {
  /** The issuer identifier, e.g. http://127.0.0.1:41234 */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Keyed by login name (the subject). Change a user's claims here between sign-ins. */
  readonly users: Map<string, ProviderUser>;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider (`oidc-provider`, the certified implementation) on a free
 * loopback port, with one confidential client and a minimal login page (consent is given
 * without asking, as for a first-party app), so a browser or a test can sign in as any of `users`.
 */
export async function startOidcProvider(options: {
  redirectUri: string;
  users: Record<string, ProviderUser>;
  clientId?: string;
  clientSecret?: string;
  /** A fixed port, for a test that starts the provider after Exhibit tried to reach it. */
  port?: number;
}): Promise<TestOidcProvider> {
  const users = new Map(Object.entries(options.users));
  const clientId = options.clientId ?? 'exhibit';
  const clientSecret = options.clientSecret ?? 'exhibit-test-client-secret';
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, sub) {
      if (!users.has(sub)) return undefined;
      return {
        accountId: sub,
        // Read at each sign-in, so a test can change someone's groups between two of them.
        async claims() {
          const user = users.get(sub);
          return { sub, ...user };
        },
      };
    },
    claims: {
      openid: ['sub', 'roles'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Put the scope's claims in the ID token itself, as Entra ID and Keycloak do for these.
    conformIdTokenClaims: false,
    // Its own login page below: the built-in development pages load fonts from the internet.
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true, methods: ['S256'] },
    cookies: { keys: ['exhibit-test-provider-cookie-key'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
  };
  const provider = quietly(() => new Provider(issuer, configuration));
  const oidc = provider.callback();
  server.on('request', (req, res) => {
    if (!req.url?.startsWith('/interaction/')) {
      // Koa's handler answers the request itself, errors included.
      void oidc(req, res);
      return;
    }
    interact(provider, users, req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    });
  });
  return {
    issuer,
    clientId,
    clientSecret,
    users,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * Signs in at the provider the way a browser would, with plain fetch and a cookie jar per host:
 * starts at `startUrl` (Exhibit's /api/auth/oidc/start), fills in the login and consent pages
 * and stops at the first redirect that leaves the provider (Exhibit's callback). Returns that
 * URL and the cookies Exhibit set at the start.
 */
export async function signInAtProvider(
  provider: TestOidcProvider,
  startUrl: string,
  login: string,
): Promise<{ callbackUrl: string; exhibitCookies: string }> {
  const jar = new Map<string, Map<string, string>>();
  const cookieHeader = (url: string) =>
    [...(jar.get(new URL(url).host) ?? new Map<string, string>())]
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  const request = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: cookieHeader(url) },
    });
    const cookies = jar.get(new URL(url).host) ?? new Map<string, string>();
    jar.set(new URL(url).host, cookies);
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, at);
      const value = (pair ?? '').slice(at + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    return response;
  };
  const exhibitHost = new URL(startUrl).host;
  let url = startUrl;
  let response = await request(url);
  for (let step = 0; step < 20; step++) {
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location') ?? '', url).href;
      if (!url.startsWith(provider.issuer)) {
        return { callbackUrl: url, exhibitCookies: cookieHeader(`http://${exhibitHost}/`) };
      }
      response = await request(url);
      continue;
    }
    const page = await response.text();
    const action = /action="([^"]+)"/.exec(page)?.[1];
    if (!response.ok || !action) {
      throw new Error(`the provider answered ${response.status} at ${url}:\n${page.slice(0, 500)}`);
    }
    const prompt = /name="prompt" value="([^"]+)"/.exec(page)?.[1];
    const form = new URLSearchParams(
      prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt: prompt ?? '' },
    );
    url = new URL(action, url).href;
    response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  }
  throw new Error('signing in at the provider took more than 20 steps');
}

/**
 * The provider's interactions: a login form (any password works for a known login), and consent
 * granted at once for everything the client asked for.
 */
async function interact(
  provider: Provider,
  users: Map<string, ProviderUser>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const interaction = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = interaction;
  if (req.method === 'POST' && req.url?.endsWith('/login')) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const login = new URLSearchParams(Buffer.concat(chunks).toString()).get('login') ?? '';
    if (!users.has(login)) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(loginPage(uid, 'Unknown login.'));
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: login } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (prompt.name === 'login') {
    res.writeHead(200, { 'content-type': 'text/html' }).end(loginPage(uid));
    return;
  }
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({
        accountId: session?.accountId ?? '',
        clientId: String(params['client_id']),
      });
  if (!grant) throw new Error('the interaction names a grant that does not exist');
  const details = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  await provider.interactionFinished(
    req,
    res,
    { consent: { grantId: await grant.save() } },
    { mergeWithLastSubmission: true },
  );
}

function loginPage(uid: string, problem = ''): string {
  return `<!doctype html><title>Test provider</title>
<h1>Test identity provider</h1>${problem ? `<p role="alert">${problem}</p>` : ''}
<form autocomplete="off" action="/interaction/${encodeURIComponent(uid)}/login" method="post">
  <input type="hidden" name="prompt" value="login"/>
  <label>Login <input required type="text" name="login" autofocus></label>
  <label>Password <input required type="password" name="password"></label>
  <button type="submit">Sign-in</button>
</form>`;
}

/**
 * Runs `make` without the provider's warnings about its quick-start defaults (in-memory storage,
 * development keys and login pages), which are exactly what a test provider wants.
 */
function quietly<T>(make: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).includes('oidc-provider WARNING: a quick start')) return;
    warn(...args);
  };
  try {
    return make();
  } finally {
    console.warn = warn;
  }
}
