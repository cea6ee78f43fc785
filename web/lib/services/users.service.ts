import { sessionManager } from '$lib/managers/session-manager.svelte';
import type { PublicUser } from '$lib/shared/auth-schemas';
import type { Role } from '$lib/shared/roles';
import { authorizedFetch } from '$lib/utils/authorized-fetch';

/**
 * Accounts, as an administrator manages them and as each person changes their own password.
 * The server decides who may do what; these only ask and pass on its answer or its reason.
 */

export interface NewUser {
  name: string;
  email: string;
  role: Role;
  /** Temporary: the person must choose their own at their first sign-in. */
  password: string;
}

export async function listUsers(signal?: AbortSignal): Promise<PublicUser[]> {
  const { users } = await authorizedFetch<{ users: PublicUser[] }>('/api/admin/users', {
    ...(signal ? { signal } : {}),
  });
  return users;
}

export function addUser(input: NewUser): Promise<PublicUser> {
  return authorizedFetch<PublicUser>('/api/admin/users', { method: 'POST', body: input });
}

export function changeRole(user: PublicUser, role: Role): Promise<PublicUser> {
  return updateUser(user, { role });
}

export function disableUser(user: PublicUser): Promise<PublicUser> {
  return updateUser(user, { disabled: true });
}

export function enableUser(user: PublicUser): Promise<PublicUser> {
  return updateUser(user, { disabled: false });
}

/** Sets a temporary password and signs the person out everywhere until they choose their own. */
export async function resetPassword(
  user: PublicUser,
  temporaryPassword: string,
): Promise<PublicUser> {
  const updated = await authorizedFetch<PublicUser>(`${userPath(user)}/password`, {
    method: 'POST',
    body: { password: temporaryPassword },
  });
  await endedOwnSession(updated);
  return updated;
}

/** Changes the signed-in person's password; their other devices are signed out. */
export async function changeOwnPassword(
  currentPassword: string,
  newPassword: string,
): Promise<PublicUser> {
  const user = await authorizedFetch<PublicUser>('/api/auth/password', {
    method: 'POST',
    body: { currentPassword, newPassword },
  });
  sessionManager.passwordChanged(user);
  return user;
}

async function updateUser(
  user: PublicUser,
  change: { role?: Role; disabled?: boolean },
): Promise<PublicUser> {
  const updated = await authorizedFetch<PublicUser>(userPath(user), {
    method: 'PATCH',
    body: change,
  });
  const sessionsEnded =
    change.disabled === true || (change.role !== undefined && change.role !== user.role);
  if (sessionsEnded) await endedOwnSession(updated);
  return updated;
}

/**
 * The server ends every session of an account whose role, status or password an administrator
 * changes. When that account is the administrator's own, find out now, so the app goes to the
 * sign-in screen at once instead of at some later click.
 */
async function endedOwnSession(user: PublicUser): Promise<void> {
  if (user.id === sessionManager.user?.id) await sessionManager.renew();
}

function userPath(user: PublicUser): string {
  return `/api/admin/users/${encodeURIComponent(user.id)}`;
}
