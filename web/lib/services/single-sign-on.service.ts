import { replaceState } from '$app/navigation';
import { resolve } from '$app/paths';

/**
 * Sign-in through the organisation's OpenID Connect provider. The server runs the whole flow;
 * the app only offers the button, leaves for the provider and, when the server sends the browser
 * back with `?signin_error=`, says why signing in did not work.
 */

export interface SingleSignOnInfo {
  enabled: boolean;
  label: string;
}

const OFF: SingleSignOnInfo = { enabled: false, label: '' };
const ERROR_PARAM = 'signin_error';

/** Whether this server offers single sign-on; off when it cannot be asked (offline). */
export async function fetchSingleSignOn(): Promise<SingleSignOnInfo> {
  try {
    const response = await fetch('/api/auth/oidc', { credentials: 'same-origin' });
    if (!response.ok) return OFF;
    const body = (await response.json()) as Partial<SingleSignOnInfo>;
    return body.enabled === true && typeof body.label === 'string'
      ? { enabled: true, label: body.label }
      : OFF;
  } catch {
    return OFF;
  }
}

/** Leaves the app for the provider's sign-in page; the server brings the browser back. */
export function signInWithSingleSignOn(): void {
  window.location.assign('/api/auth/oidc/start');
}

/**
 * Why the last single sign-on failed, as the server put it in the address of the start page it
 * sent the browser back to, and removes it from the address so a reload does not show it again.
 * Always worded as a failure, since anyone can write a link with this parameter.
 */
export function takeSingleSignOnError(url: URL): string | undefined {
  const message = url.searchParams.get(ERROR_PARAM);
  if (message === null || url.pathname !== '/') return undefined;
  replaceState(resolve('/'), {});
  const reason = message.trim().slice(0, 200).replace(/\.$/, '');
  return reason ? `Single sign-on failed: ${reason}.` : 'Single sign-on failed.';
}
