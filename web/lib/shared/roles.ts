// Browser-safe: imported by the PWA and by both servers. No Node built-ins.

/**
 * Organisation roles, most powerful first. What each may do is decided on the server
 * (blob-server/identity/); the PWA only uses them to hide what would be refused anyway.
 */
export const ROLES = ['administrator', 'supervisor', 'investigator', 'analyst', 'guest'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  administrator: 'Administrator',
  supervisor: 'Supervisor',
  investigator: 'Investigator',
  analyst: 'Analyst (read and annotate)',
  guest: 'External guest',
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
