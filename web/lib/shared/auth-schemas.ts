// Browser-safe: imported by the PWA (form checks) and the blob-server (request validation).
import { z } from 'zod';
import { ROLES } from './roles.ts';

const email = z
  .string({ error: 'an email address is required' })
  .trim()
  .toLowerCase()
  .max(254, 'the email address is too long')
  .pipe(z.email({ error: 'that is not an email address' }));

/**
 * The shortest password the server accepts (NIST SP 800-63B: length, no composition rules), for
 * forms to explain and check before sending; the server's `passwordProblem` decides.
 */
export const MIN_PASSWORD_LENGTH = 12;

const password = z.string({ error: 'a password is required' }).max(256, 'the password is too long');
const name = z
  .string({ error: 'a name is required' })
  .trim()
  .min(1, 'a name is required')
  .max(120, 'the name is too long');

export const loginRequest = z.object({ email, password });
export type LoginRequest = z.infer<typeof loginRequest>;

export const setupRequest = z.object({
  token: z.string({ error: 'the setup token is missing' }).min(1).max(200),
  email,
  name,
  password,
});

export const changePasswordRequest = z.object({
  currentPassword: password,
  newPassword: password,
});

export const refreshRequest = z.object({ refreshToken: z.string().max(512).optional() });

export const createUserRequest = z.object({
  email,
  name,
  role: z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` }),
  password,
});

export const updateUserRequest = z
  .object({
    name: name.optional(),
    role: z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` }).optional(),
    disabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const resetPasswordRequest = z.object({ password });

/** A user as the API shows it: never the password hash. */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: (typeof ROLES)[number];
  disabled: boolean;
  mustChangePassword: boolean;
  createdAt: string;
}

export interface SessionResponse {
  accessToken: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  user: PublicUser;
  /** Only for clients that cannot keep cookies (scripts); browsers get an httpOnly cookie. */
  refreshToken?: string;
}

export const setMemberRequest = z.object({
  email,
  level: z.enum(['view', 'contribute', 'manage'], {
    error: 'level must be view, contribute or manage',
  }),
  expiresAt: z.iso
    .datetime({
      offset: true,
      error: 'expiresAt must be a date and time, e.g. 2027-01-31T17:00:00Z',
    })
    .optional(),
});

/** A case member as the API shows it. */
export interface CaseMember {
  userId: string;
  name: string;
  email: string;
  role: (typeof ROLES)[number];
  level: 'view' | 'contribute' | 'manage';
  expiresAt?: string;
  addedAt: string;
}
