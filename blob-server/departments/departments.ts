import { randomUUID } from 'node:crypto';
import type { Level } from 'level';
import type { Department, DepartmentRequest } from '../../web/lib/shared/departments.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { Conflict, Forbidden, NotFound } from '../errors.ts';
import type { Authenticated, RequestContext } from '../identity/auth-service.ts';

/**
 * The departments cases belong to, kept by administrators in the identity database. A case
 * records the department's id and name when it is chosen, so renaming or removing a department
 * here leaves existing cases readable (and offline devices keep working).
 */
export class Departments {
  readonly #items;
  readonly #audit: AuditLog | undefined;
  readonly #now: () => Date;
  /** One change at a time, so the name check and the write it allows cannot interleave. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { db: Level<string, unknown>; audit?: AuditLog; now?: () => Date }) {
    this.#items = options.db.sublevel<string, Department>('departments', {
      valueEncoding: 'json',
    });
    this.#audit = options.audit;
    this.#now = options.now ?? (() => new Date());
  }

  async list(): Promise<Department[]> {
    const all = await this.#items.values().all();
    return all.sort((a, b) => a.name.localeCompare(b.name));
  }

  create(auth: Authenticated, input: DepartmentRequest, ctx: RequestContext): Promise<Department> {
    return this.#save(auth, randomUUID(), input, ctx, 'create');
  }

  change(
    auth: Authenticated,
    id: string,
    input: DepartmentRequest,
    ctx: RequestContext,
  ): Promise<Department> {
    return this.#save(auth, id, input, ctx, 'change');
  }

  remove(auth: Authenticated, id: string, ctx: RequestContext): Promise<void> {
    requireAdministrator(auth);
    return this.#serial(async () => {
      const before = await this.#items.get(id);
      if (!before) throw new NotFound('there is no such department');
      await this.#items.del(id);
      await this.#record(auth, ctx, 'department.deleted', id, { name: before.name });
    });
  }

  #save(
    auth: Authenticated,
    id: string,
    input: DepartmentRequest,
    ctx: RequestContext,
    mode: 'create' | 'change',
  ): Promise<Department> {
    requireAdministrator(auth);
    return this.#serial(async () => {
      const before = await this.#items.get(id);
      if (mode === 'change' && !before) throw new NotFound('there is no such department');
      const clash = (await this.list()).find(
        (d) => d.id !== id && d.name.toLowerCase() === input.name.toLowerCase(),
      );
      if (clash) throw new Conflict(`there is already a department named "${clash.name}"`);
      const now = this.#now().toISOString();
      const department = {
        id,
        name: input.name,
        createdAt: before?.createdAt ?? now,
        updatedAt: now,
      };
      await this.#items.put(id, department);
      await this.#record(auth, ctx, before ? 'department.changed' : 'department.created', id, {
        name: department.name,
        ...(before ? { previousName: before.name } : {}),
      });
      return department;
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #record(
    auth: Authenticated,
    ctx: RequestContext,
    action: string,
    id: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.#audit?.record({
      action,
      actor: { userId: auth.user.id, email: auth.user.email },
      target: `department:${id}`,
      details,
      ip: ctx.ip,
      ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}),
    });
  }
}

function requireAdministrator(auth: Authenticated): void {
  if (auth.user.role !== 'administrator') {
    throw new Forbidden('only administrators may manage departments');
  }
}
