import type { Logger } from '../../sync-server/logger.ts';
import type { AuthService } from './auth-service.ts';

/**
 * On a server with no administrator yet, prints a one-time link for creating the first one.
 * There is no default password: whoever can read the server's console sets the first account.
 */
export async function announceSetup(
  auth: AuthService,
  publicUrl: string,
  log: Logger,
): Promise<void> {
  const token = await auth.issueSetupToken();
  if (!token) return;
  const url = new URL('/setup', publicUrl);
  url.searchParams.set('token', token);
  log.warn('setup.required', { url: url.toString(), validHours: 24 });
  process.stderr.write(
    `\n  Exhibit has no administrator yet. Create the first one within 24 hours at:\n\n    ${url.toString()}\n\n`,
  );
}
