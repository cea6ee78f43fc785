import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIdentity, type Identity } from '../../blob-server/identity/index.ts';
import type { Role } from '../../web/lib/shared/roles.ts';

export const TEST_PASSWORD = 'correct horse battery staple';

/**
 * A real identity service (LevelDB, signing key, audit log) in a temp dir, with a first
 * administrator signed in, for tests of routes that need a caller.
 */
export async function testIdentity(): Promise<{
  identity: Identity;
  /** Its DATA_DIR, for tests that look at (or tamper with) the stores directly. */
  dir: string;
  adminToken: string;
  /** Creates a user with this role and returns a fresh access token for them. */
  tokenFor(role: Role, email?: string): Promise<string>;
  close(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'exhibit-identity-'));
  const identity = await openIdentity({
    dataDir: dir,
    accessTokenTtlSeconds: 3600,
    sessionTtlMs: 24 * 3600 * 1000,
  });
  const ctx = { ip: '127.0.0.1' };
  const token = await identity.service.issueSetupToken();
  const admin = await identity.service.setup(
    { token: token ?? '', email: 'admin@example.org', name: 'Admin', password: TEST_PASSWORD },
    ctx,
  );
  const adminAuth = await identity.service.authenticate(admin.accessToken);
  let n = 0;
  return {
    identity,
    dir,
    adminToken: admin.accessToken,
    async tokenFor(role, email = `${role}-${++n}@example.org`) {
      // As in real life: the administrator's temporary password, then the person's own.
      const temporary = `temporary ${TEST_PASSWORD}`;
      await identity.service.createUser(
        adminAuth,
        { email, name: role, role, password: temporary },
        ctx,
      );
      const first = await identity.service.login(email, temporary, ctx);
      const auth = await identity.service.authenticate(first.accessToken);
      await identity.service.changePassword(auth, temporary, TEST_PASSWORD, ctx);
      return (await identity.service.login(email, TEST_PASSWORD, ctx)).accessToken;
    },
    async close() {
      await identity.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Sets up the first administrator in a DATA_DIR before a server process is started on it, and
 * returns their access token (valid for an hour), which that server then honours.
 */
export async function administratorIn(dataDir: string): Promise<string> {
  const identity = await openIdentity({
    dataDir,
    accessTokenTtlSeconds: 3600,
    sessionTtlMs: 3600_000,
  });
  try {
    const setup = await identity.service.issueSetupToken();
    const admin = await identity.service.setup(
      { token: setup ?? '', email: 'admin@example.org', name: 'Admin', password: TEST_PASSWORD },
      { ip: '127.0.0.1' },
    );
    return admin.accessToken;
  } finally {
    await identity.close();
  }
}
