import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { apiCall } from '../../tests/helpers/http.ts';
import { apiServer } from '../../tests/helpers/api-server.ts';
import type { Department } from '../../web/lib/shared/departments.ts';

interface Ctx {
  identity: Awaited<ReturnType<typeof testIdentity>>;
  api: Awaited<ReturnType<typeof apiServer>>;
  base: string;
}

const api = suite<Ctx>('departments API', {} as Ctx);

api.before.each(async (ctx) => {
  ctx.identity = await testIdentity();
  const { identity } = ctx.identity;
  ctx.api = await apiServer(identity, { departments: identity.departments });
  ctx.base = ctx.api.base;
});

api.after.each(async (ctx) => {
  await ctx.api.close();
  await ctx.identity.close();
});

const PATH = '/api/admin/departments';

api('administrators add, rename and remove departments; each step is audited', async (ctx) => {
  const admin = ctx.identity.adminToken;
  const made = await apiCall(ctx.base, 'POST', PATH, admin, { name: ' Major Crimes ' });
  assert.is(made.status, 201, JSON.stringify(made.body));
  const { id } = made.body as unknown as Department;
  assert.is((made.body as unknown as Department).name, 'Major Crimes');
  const renamed = await apiCall(ctx.base, 'PUT', `${PATH}/${id}`, admin, { name: 'CID' });
  assert.is(renamed.status, 200);
  await apiCall(ctx.base, 'POST', PATH, admin, { name: 'Fraud' });
  const list = await apiCall(ctx.base, 'GET', PATH, admin);
  assert.equal(
    (list.body['departments'] as Department[]).map((d) => d.name),
    ['CID', 'Fraud'],
  );
  assert.is((await apiCall(ctx.base, 'DELETE', `${PATH}/${id}`, admin)).status, 204);
  const actions = (await ctx.identity.identity.audit.about(`department:${id}`)).map(
    (e) => e.action,
  );
  assert.equal(actions, ['department.created', 'department.changed', 'department.deleted']);
});

api('everyone signed in reads the list; only administrators change it', async (ctx) => {
  const ivy = await ctx.identity.tokenFor('supervisor', 'sue@example.org');
  assert.is((await apiCall(ctx.base, 'GET', PATH, ivy)).status, 200);
  const refused = await apiCall(ctx.base, 'POST', PATH, ivy, { name: 'Mine' });
  assert.is(refused.status, 403);
  assert.match(JSON.stringify(refused.body), 'only administrators may manage departments');
  assert.is((await fetch(`${ctx.base}${PATH}`)).status, 401);
});

api('refuses a blank or duplicate name and an unknown department, saying why', async (ctx) => {
  const admin = ctx.identity.adminToken;
  const blank = await apiCall(ctx.base, 'POST', PATH, admin, { name: '  ' });
  assert.is(blank.status, 400);
  assert.match(JSON.stringify(blank.body), 'a department needs a name');
  await apiCall(ctx.base, 'POST', PATH, admin, { name: 'Fraud' });
  const twice = await apiCall(ctx.base, 'POST', PATH, admin, { name: 'fraud' });
  assert.is(twice.status, 409);
  assert.match(JSON.stringify(twice.body), 'there is already a department named');
  const missing = await apiCall(ctx.base, 'PUT', `${PATH}/nope`, admin, { name: 'X' });
  assert.is(missing.status, 404);
});

api.run();
