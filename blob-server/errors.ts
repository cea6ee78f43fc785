/**
 * Named errors for everything the blob/API server refuses or fails at. Each carries the HTTP
 * status it maps to (in one place: `httpStatusOf`) and a message meant for the caller.
 */
export class ExhibitError extends Error {
  readonly status: number = 500;
  /** Stable machine-readable code, sent as `error` in JSON responses. */
  readonly code: string = 'internal_error';
}

export class BadRequest extends ExhibitError {
  override readonly status = 400;
  override readonly code = 'bad_request';
}

export class InvalidKey extends ExhibitError {
  override readonly status = 400;
  override readonly code = 'invalid_key';
}

export class BlobNotFound extends ExhibitError {
  override readonly status = 404;
  override readonly code = 'not_found';
}

export class RouteNotFound extends ExhibitError {
  override readonly status = 404;
  override readonly code = 'no_such_route';
}

export class NotFound extends ExhibitError {
  override readonly status = 404;
  override readonly code = 'not_found';
}

export class Unauthenticated extends ExhibitError {
  override readonly status = 401;
  override readonly code = 'unauthenticated';
}

/** Single sign-on did not complete; the message is shown on the sign-in page. */
export class SingleSignOnFailed extends ExhibitError {
  override readonly status = 401;
  override readonly code = 'sso_failed';
}

export class Forbidden extends ExhibitError {
  override readonly status = 403;
  override readonly code = 'forbidden';
}

export class Conflict extends ExhibitError {
  override readonly status = 409;
  override readonly code = 'conflict';
}

export class TooManyAttempts extends ExhibitError {
  override readonly status = 429;
  override readonly code = 'too_many_attempts';
  constructor(
    message: string,
    /** Seconds until another attempt may succeed; sent as Retry-After. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class PayloadTooLarge extends ExhibitError {
  override readonly status = 413;
  override readonly code = 'payload_too_large';
}

export class RangeNotSatisfiable extends ExhibitError {
  override readonly status = 416;
  override readonly code = 'range_not_satisfiable';
}

export class ChecksumMismatch extends ExhibitError {
  override readonly status = 422;
  override readonly code = 'checksum_mismatch';
}

/** tus: a chunk whose Upload-Checksum does not match its bytes (RFC draft status 460). */
export class ChunkChecksumMismatch extends ExhibitError {
  override readonly status = 460;
  override readonly code = 'checksum_mismatch';
}

/** tus: a PATCH whose Upload-Offset is not where the upload stands. */
export class UploadOffsetMismatch extends ExhibitError {
  override readonly status = 409;
  override readonly code = 'offset_mismatch';
}

/** Another request is writing to the same upload right now. */
export class UploadLocked extends ExhibitError {
  override readonly status = 423;
  override readonly code = 'upload_locked';
}

/** The upload expired, was cancelled, or failed verification and was discarded. */
export class UploadGone extends ExhibitError {
  override readonly status = 410;
  override readonly code = 'upload_gone';
}

/** The case is under legal hold: no evidence in it may be deleted or purged. */
export class LegalHoldActive extends ExhibitError {
  override readonly status = 423;
  override readonly code = 'legal_hold';
}

/** The evidence's retention has not run out; the message says until when it must be kept. */
export class RetentionNotElapsed extends ExhibitError {
  override readonly status = 409;
  override readonly code = 'retention_not_elapsed';
  constructor(
    message: string,
    /** ISO time until which it must be kept; null when indefinitely. */
    readonly retainUntil: string | null,
  ) {
    super(message);
  }
}

export class PreconditionFailed extends ExhibitError {
  override readonly status = 412;
  override readonly code = 'precondition_failed';
}

export class UnsupportedMediaType extends ExhibitError {
  override readonly status = 415;
  override readonly code = 'unsupported_media_type';
}

/** The client closed the connection before its request was complete (nginx's 499). */
export class ClientClosedRequest extends ExhibitError {
  override readonly status = 499;
  override readonly code = 'client_closed_request';
}

/** A multipart write the backend no longer knows: completed, aborted or expired. */
export class MultipartNotFound extends ExhibitError {
  override readonly status = 404;
  override readonly code = 'multipart_not_found';
}

/** A device sent log entries past where the server's copy of its log stands. */
export class DeviceLogGap extends ExhibitError {
  override readonly status = 409;
  override readonly code = 'device_log_gap';
  /** The entry the server expects next. */
  readonly expected: number;
  constructor(expected: number, got: number) {
    super(`this device's log continues at entry ${expected}; entry ${got} came first`);
    this.expected = expected;
  }
}

/** The storage backend cannot be reached or refused the operation. */
export class StorageUnavailable extends ExhibitError {
  override readonly status = 503;
  override readonly code = 'storage_unavailable';
}

export function httpStatusOf(err: unknown): number {
  if (err instanceof ExhibitError) return err.status;
  if (isBodyParserError(err)) return err.status;
  return 500;
}

function isBodyParserError(err: unknown): err is { status: number; type: string } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { status?: unknown }).status === 'number' &&
    typeof (err as { type?: unknown }).type === 'string'
  );
}
