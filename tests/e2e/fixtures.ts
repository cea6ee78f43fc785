import { test as base, expect, type Browser, type Page, type TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/net.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

/**
 * A real Exhibit server (the all-in-one entry, as `npm start` runs it) in a child process, so a
 * test can kill it with SIGKILL and start it again on the same port and data directory.
 */
export class ExhibitProcess {
  readonly port: number;
  readonly dataDir: string;
  readonly url: string;
  /** Extra environment for the server, e.g. its single sign-on provider. */
  readonly env: Readonly<Record<string, string>>;
  #child: ChildProcess | undefined;
  #log = '';

  constructor(port: number, dataDir: string, env: Record<string, string> = {}) {
    this.port = port;
    this.dataDir = dataDir;
    this.url = `http://127.0.0.1:${port}`;
    this.env = env;
  }

  get log(): string {
    return this.#log;
  }

  /** The one-time setup link the server printed at its first start. */
  setupLink(): string {
    for (const line of this.#log.split('\n')) {
      if (!line.includes('"setup.required"')) continue;
      const url = new URL((JSON.parse(line) as { url: string }).url);
      return `${this.url}${url.pathname}${url.search}`;
    }
    throw new Error(`the server printed no setup link:\n${this.#log}`);
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'blob-server/bin/exhibit.ts'], {
      env: {
        ...process.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        DATA_DIR: this.dataDir,
        WEB_ROOT: 'build',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    child.stdout?.on('data', (c: Buffer) => (this.#log += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.#log += c.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Exhibit exited on start:\n${this.#log}`);
      try {
        const res = await fetch(`${this.url}/api/health`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`Exhibit did not start in 20 s:\n${this.#log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the process the way a crash or power cut would: no chance to flush anything. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

export const test = base.extend<{
  exhibit: ExhibitProcess;
  onlyLocalRequests: void;
  closeOtherContexts: void;
}>({
  // Tests open more browsers (a colleague, a second device); close them with the test, or they
  // keep reconnecting to a server that is gone and slow down every test after.
  closeOtherContexts: [
    async ({ browser, context }, use) => {
      await use();
      await Promise.all(
        browser
          .contexts()
          .filter((c) => c !== context)
          .map((c) => c.close()),
      );
    },
    { auto: true },
  ],
  // The app must work behind an air gap: every request any page makes goes to our own server,
  // and nothing the app needs is blocked by its own Content-Security-Policy.
  onlyLocalRequests: [
    async ({ context }, use) => {
      const outside: string[] = [];
      context.on('request', (request) => {
        const { protocol, hostname } = new URL(request.url());
        const local = hostname === '127.0.0.1' || hostname === 'localhost';
        if (!local && protocol !== 'data:' && protocol !== 'blob:') outside.push(request.url());
      });
      const blocked: string[] = [];
      context.on('console', (message) => {
        if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
          blocked.push(message.text());
        }
      });
      await use();
      expect(outside, 'requests to outside hosts').toEqual([]);
      expect(blocked, 'content blocked by the CSP').toEqual([]);
    },
    { auto: true },
  ],
  // eslint-disable-next-line no-empty-pattern
  exhibit: async ({}, use, testInfo) => serveExhibit({}, use, testInfo),
  baseURL: async ({ exhibit }, use) => use(exhibit.url),
});

export { expect };

/**
 * Runs an Exhibit server for one test with extra environment (`PUBLIC_URL` is its own address
 * unless given), for specs that override the `exhibit` fixture: mail, single sign-on.
 */
export async function serveExhibit(
  env: Record<string, string>,
  use: (server: ExhibitProcess) => Promise<void>,
  testInfo: TestInfo,
  port?: number,
): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-data-'));
  const at = port ?? (await freePort());
  const server = new ExhibitProcess(at, dataDir, { PUBLIC_URL: `http://127.0.0.1:${at}`, ...env });
  await server.start();
  await use(server);
  await server.kill('SIGTERM');
  if (testInfo.status !== testInfo.expectedStatus) {
    await testInfo.attach('server-log', { body: server.log, contentType: 'text/plain' });
  }
  await rm(dataDir, { recursive: true, force: true });
}

/** Tests whose server mails its notifications to a real SMTP server of their own (`smtp`). */
export const testWithMail = test.extend<{ smtp: TestSmtpServer }>({
  // eslint-disable-next-line no-empty-pattern
  smtp: async ({}, use) => {
    const smtp = await startSmtpServer();
    await use(smtp);
    await smtp.close();
  },
  exhibit: async ({ smtp }, use, testInfo) =>
    serveExhibit({ SMTP_URL: smtp.url, MAIL_FROM: 'Exhibit <exhibit@example.org>' }, use, testInfo),
});

/** Waits until the service worker controls the page, so the app shell is available offline. */
export async function waitForOfflineReady(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (
      registration.active?.state === 'activated' && navigator.serviceWorker.controller !== null
    );
  });
}

export async function createCase(
  page: Page,
  input: { title: string; description?: string; tags?: string },
): Promise<string> {
  await page.getByRole('button', { name: 'New case' }).click();
  await page.getByLabel('Title').fill(input.title);
  if (input.description) await page.getByLabel('Description').fill(input.description);
  if (input.tags) await page.getByLabel(/^Tags/).fill(input.tags);
  await page.getByRole('button', { name: 'Create case' }).click();
  await page.waitForURL(/\/cases\/[0-9a-f]+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(input.title);
  return page.url().split('/').pop() as string;
}

/** Shares the open case with someone, as its manager does on the case page. */
export async function addMember(page: Page, who: Pick<Person, 'name' | 'email'>): Promise<void> {
  const members = page.getByRole('region', { name: 'Members' });
  await members.getByLabel('Email').fill(who.email);
  await members.getByRole('button', { name: 'Add member' }).click();
  await expect(members).toContainText(who.name);
}

export const ADMIN = {
  name: 'Ada Admin',
  email: 'ada@example.org',
  password: 'correct horse battery staple',
};

/** Creates the first administrator through the printed setup link, as an operator would. */
export async function setUpAdministrator(page: Page, exhibit: ExhibitProcess): Promise<void> {
  await page.goto(exhibit.setupLink());
  await page.getByLabel('Name').fill(ADMIN.name);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
  await page.getByLabel('Password again').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByRole('heading', { name: 'Cases' })).toBeVisible();
}

export async function signIn(
  page: Page,
  url: string,
  who: Pick<Person, 'email' | 'password'> = ADMIN,
): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Cases' })).toBeVisible();
}

/** Someone else, signed in at the same time in a browser of their own (no shared cookies). */
export async function signInElsewhere(
  browser: Browser,
  url: string,
  who: Pick<Person, 'email' | 'password'>,
): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, url, who);
  return page;
}

export interface Person {
  name: string;
  email: string;
  password: string;
}

/** Colleagues for tests about who sees what: an investigator and an analyst. */
export const IVY: Person = {
  name: 'Ivy Investigator',
  email: 'ivy@example.org',
  password: 'ivy passphrase 2026',
};
export const ANA: Person = {
  name: 'Ana Analyst',
  email: 'ana@example.org',
  password: 'ana passphrase 2026',
};

/** Calls the API the way a script does: no browser, so no cookies change in any test page. */
async function callApi<T>(
  exhibit: ExhibitProcess,
  path: string,
  body: unknown,
  token?: string,
): Promise<T> {
  const response = await fetch(`${exhibit.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-exhibit-client': 'script',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function accessTokenOf(exhibit: ExhibitProcess, who: Person): Promise<string> {
  const session = await callApi<{ accessToken: string }>(exhibit, '/api/auth/login', {
    email: who.email,
    password: who.password,
  });
  return session.accessToken;
}

/**
 * Creates an account through the API as the administrator. The server makes the person replace
 * the administrator's temporary password at their first sign-in; unless `temporary` is asked
 * for, that is done here too, so `who.password` signs straight in to the cases page.
 */
export async function createAccount(
  exhibit: ExhibitProcess,
  who: Person,
  role: string,
  options: { temporary?: boolean } = {},
): Promise<void> {
  const temporary = options.temporary ? who.password : `temporary ${who.password}`;
  await callApi(
    exhibit,
    '/api/admin/users',
    { email: who.email, name: who.name, role, password: temporary },
    await accessTokenOf(exhibit, ADMIN),
  );
  if (options.temporary) return;
  await callApi(
    exhibit,
    '/api/auth/password',
    { currentPassword: temporary, newPassword: who.password },
    await accessTokenOf(exhibit, { ...who, password: temporary }),
  );
}

/** Slows this page's uploads the way a mobile connection would, so they can be interrupted. */
export async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

/** The administrator sets up, and Ivy, an investigator, opens a case she then manages. */
export async function investigatorWithCase(
  page: Page,
  browser: Browser,
  exhibit: ExhibitProcess,
  title = 'Arson, Mill Lane warehouse',
): Promise<{ ivy: Page; caseId: string }> {
  await setUpAdministrator(page, exhibit);
  await createAccount(exhibit, IVY, 'investigator');
  const ivy = await signInElsewhere(browser, exhibit.url, IVY);
  const caseId = await createCase(ivy, { title });
  return { ivy, caseId };
}

/** axe-core's serious and critical violations of WCAG 2.1 A/AA on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(', ')}`,
    );
}
