import type { User } from '../../blob-server/identity/identity-store.ts';

/** An account record for tests that pass a plain `{ getUser }` instead of the identity store. */
export function testUser(id: string, extra: Partial<User> = {}): User {
  return {
    id,
    email: `${id}@example.org`,
    name: id.toUpperCase(),
    role: 'investigator',
    mustChangePassword: false,
    disabled: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}
