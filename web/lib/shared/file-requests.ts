// Browser-safe: the shape of public file requests, for the API server, the investigator's screens
// and the public upload page.
import { z } from 'zod';

/**
 * A public file request: a short link (and QR code) through which anyone can send files into one
 * case, without an account, within the limits its investigator set.
 */
export const CONTACT_MODES = ['none', 'optional', 'required'] as const;
export type ContactMode = (typeof CONTACT_MODES)[number];

export const REQUEST_STATUSES = ['open', 'paused', 'revoked'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Short link codes: 12 characters of Crockford's base32 (60 bits), easy to read off a poster. */
export const REQUEST_CODE = /^[0-9A-HJKMNP-TV-Z]{12}$/;
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Most files and bytes one request may be set to take. */
export const MAX_REQUEST_FILES = 1000;
export const MAX_REQUEST_BYTES = 5 * 1024 ** 4;

const publicText = (max: number) => z.string().trim().max(max);

/** What a sender agrees to when the investigator wrote no consent text of their own. */
export const DEFAULT_CONSENT_TEXT =
  'I took these files or may share them, and I agree that the police may use them in this investigation.';

export const fileRequestInput = z.object({
  title: publicText(140).min(1, 'a request needs a public title'),
  instructions: publicText(4000).default(''),
  contact: z.enum(CONTACT_MODES).default('optional'),
  consentText: publicText(2000).default(''),
  expiresAt: z.iso.datetime({ offset: true, error: 'expiresAt must be an ISO date and time' }),
  maxFiles: z.number().int().min(1).max(MAX_REQUEST_FILES).default(20),
  maxBytes: z.number().int().min(1).max(MAX_REQUEST_BYTES),
});
export type FileRequestInput = z.infer<typeof fileRequestInput>;

export const fileRequestChange = z
  .object({
    status: z.enum(['open', 'paused']).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    title: fileRequestInput.shape.title.optional(),
    instructions: publicText(4000).optional(),
    consentText: publicText(2000).optional(),
    contact: z.enum(CONTACT_MODES).optional(),
    maxFiles: fileRequestInput.shape.maxFiles.unwrap().optional(),
    maxBytes: fileRequestInput.shape.maxBytes.optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), 'say what to change');
export type FileRequestChange = z.infer<typeof fileRequestChange>;

/** What the investigators of the case see of a request. */
export interface FileRequestView {
  id: string;
  caseId: string;
  code: string;
  title: string;
  instructions: string;
  contact: ContactMode;
  consentText: string;
  expiresAt: string;
  maxFiles: number;
  maxBytes: number;
  status: RequestStatus;
  createdBy: { id: string; name?: string };
  createdAt: string;
  updatedAt: string;
  submissions: number;
  /** Files received and verified, and files announced (counted against the limit). */
  filesReceived: number;
  filesReserved: number;
  bytesReceived: number;
  bytesReserved: number;
}

/** What the public page learns: nothing about the case beyond the public title and text. */
export interface PublicFileRequest {
  title: string;
  instructions: string;
  contact: ContactMode;
  consentText: string;
  expiresAt: string;
  /** The most one file may be; what is left of the request's limits. */
  maxFileBytes: number;
  filesLeft: number;
  bytesLeft: number;
}

export const submissionInput = z.object({
  name: z.string().trim().max(200).optional(),
  email: z
    .string()
    .trim()
    .max(320)
    .refine((v) => v === '' || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), 'that is not an email address')
    .optional(),
  phone: z
    .string()
    .trim()
    .max(40)
    .refine((v) => v === '' || /^[+()0-9 .-]{5,40}$/.test(v), 'that is not a phone number')
    .optional(),
  note: z.string().trim().max(4000).optional(),
  consent: z.literal(true, { error: 'the consent must be given to send files' }),
});
export type SubmissionInput = z.infer<typeof submissionInput>;

export interface SubmittedFile {
  upload: string;
  name: string;
  type: string;
  size: number;
  state: 'receiving' | 'verified' | 'failed' | 'cancelled';
  sha256?: string;
  receivedAt?: string;
  error?: string;
}

/** The sender's receipt, and what investigators see of a submission. */
export interface SubmissionView {
  id: string;
  reference: string;
  requestTitle: string;
  createdAt: string;
  contact: { name?: string; email?: string; phone?: string };
  note?: string;
  files: SubmittedFile[];
}

/** What investigators also see: where it came from. */
export interface SubmissionDetail extends SubmissionView {
  ip: string;
  userAgent?: string;
  consentAt: string;
}

/** "EXH-7K3M-9Q2P": what a sender quotes when they call about their submission. */
export const SUBMISSION_REFERENCE = /^EXH-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;
