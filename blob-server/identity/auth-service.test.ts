import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argon2id } from 'hash-wasm';
import { AuditLog } from '../audit/audit-log.ts';
import { AuthService } from './auth-service.ts';
import { IdentityStore } from './identity-store.ts';
import { LoginThrottle } from './login-throttle.ts';
import { needsRehash, verifyPassword } from './passwords.ts';
import { TokenService } from './tokens.ts';

const login = suite('AuthService.login');

login(
  'upgrades a password stored with weaker parameters on the next successful sign-in',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exhibit-rehash-'));
    const store = await IdentityStore.open(join(dir, 'identity'));
    const audit = await AuditLog.open(join(dir, 'audit'), { keyDir: join(dir, 'keys') });
    const tokens = await TokenService.open({
      keyDir: join(dir, 'keys'),
      issuer: 'exhibit',
      audience: 'exhibit',
      ttlSeconds: 600,
    });
    const auth = new AuthService({
      store,
      tokens,
      audit,
      throttle: new LoginThrottle(),
      refreshTtlMs: 3600_000,
    });
    const password = 'an older passphrase here';
    const weak = await argon2id({
      password,
      salt: randomBytes(16),
      memorySize: 4096,
      iterations: 1,
      parallelism: 1,
      hashLength: 32,
      outputType: 'encoded',
    });
    assert.ok(needsRehash(weak));
    const user = await store.createUser({
      email: 'old@example.org',
      name: 'Old',
      role: 'investigator',
      passwordHash: weak,
      mustChangePassword: false,
      disabled: false,
    });
    await auth.login('old@example.org', password, { ip: '127.0.0.1' });
    const stored = (await store.getUser(user.id))?.passwordHash ?? '';
    assert.not.ok(needsRehash(stored), stored);
    assert.ok(await verifyPassword(password, stored));
    await store.close();
    await audit.close();
    await rm(dir, { recursive: true, force: true });
  },
);

login.run();
