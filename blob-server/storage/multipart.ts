import { BadRequest } from '../errors.ts';
import type { StoredPart } from './blob-store.ts';

/** Part numbers run from 1 to the backend's maximum, as in S3. */
export function assertValidPartNumber(partNumber: number, maxParts: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > maxParts) {
    throw new BadRequest(`part number ${partNumber} is outside 1..${maxParts}`);
  }
}

/** The rules S3 applies at completion, checked the same way on every backend. */
export function assertPartList(parts: StoredPart[], minPartSize: number): void {
  if (parts.length === 0) throw new BadRequest('a multipart write needs at least one part');
  parts.forEach((part, index) => {
    if (part.part !== index + 1) {
      throw new BadRequest(
        `parts must be listed 1, 2, 3…; found ${part.part} at position ${index + 1}`,
      );
    }
    if (index < parts.length - 1 && part.size < minPartSize) {
      throw new BadRequest(
        `part ${part.part} is ${part.size} bytes; every part but the last must be at least ${minPartSize}`,
      );
    }
  });
}
