import type { Department, DepartmentRequest } from '$lib/shared/departments';
import { authorizedFetch } from '$lib/utils/authorized-fetch';

/** Departments: administrators keep the list; anyone signed in reads it to file cases. */

const DEPARTMENTS = '/api/admin/departments';
/** The last list seen, so a case can be filed under a department offline. */
const CACHE_KEY = 'exhibit:departments';

export async function listDepartments(signal?: AbortSignal): Promise<Department[]> {
  const { departments } = await authorizedFetch<{ departments: Department[] }>(
    DEPARTMENTS,
    signal ? { signal } : {},
  );
  localStorage.setItem(CACHE_KEY, JSON.stringify(departments));
  return departments;
}

/** The list as this device last saw it; empty if never. */
export function departmentsSeenLast(): Department[] {
  try {
    const seen: unknown = JSON.parse(localStorage.getItem(CACHE_KEY) ?? '[]');
    return Array.isArray(seen) ? (seen as Department[]) : [];
  } catch {
    return [];
  }
}

export function createDepartment(input: DepartmentRequest): Promise<Department> {
  return authorizedFetch<Department>(DEPARTMENTS, { method: 'POST', body: input });
}

export function renameDepartment(id: string, input: DepartmentRequest): Promise<Department> {
  return authorizedFetch<Department>(`${DEPARTMENTS}/${encodeURIComponent(id)}`, {
    method: 'PUT',
    body: input,
  });
}

export async function deleteDepartment(id: string): Promise<void> {
  await authorizedFetch<unknown>(`${DEPARTMENTS}/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
