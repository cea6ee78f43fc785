import type { z } from 'zod';
import { BadRequest } from '../errors.ts';

/** Parses a request body with its schema; a refusal names every field that was wrong. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
  throw new BadRequest(`the request is not valid: ${problems.join('; ')}`);
}

/** A path parameter that must match `pattern`; refused as naming `what` otherwise. */
export function paramOf(value: unknown, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new BadRequest(`the address must name ${what}`);
  }
  return value;
}
