// Browser-safe: the department shape and request schema, shared by the PWA and the blob-server.
import { z } from 'zod';

/** A part of the organisation a case belongs to, kept by administrators. */
export interface Department {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export const departmentRequest = z.object({
  name: z
    .string({ error: 'a department needs a name' })
    .trim()
    .min(1, 'a department needs a name')
    .max(80, 'the name can be at most 80 characters'),
});
export type DepartmentRequest = z.infer<typeof departmentRequest>;
