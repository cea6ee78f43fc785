import { createHash, randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { apiServer } from '../../tests/helpers/api-server.ts';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { rawRequest, type RawReply } from '../../tests/helpers/http.ts';
import type { FileRequestView, SubmissionView } from '../../web/lib/shared/file-requests.ts';

const CASE_ID = 'case-0123456789';
const OTHER_CASE = 'case-9876543210';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

interface Ctx {
  identity: Awaited<ReturnType<typeof testIdentity>>;
  api: Awaited<ReturnType<typeof apiServer>>;
  base: string;
  /** The investigator who manages the case. */
  ivy: string;
}

function api(
  ctx: Ctx,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<RawReply & { json: Record<string, unknown> }> {
  return rawRequest(`${ctx.base}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: Buffer.from(JSON.stringify(options.body)) } : {}),
    timeoutMs: 20_000,
  }).then((reply) => ({
    ...reply,
    json: reply.text.startsWith('{') ? (JSON.parse(reply.text) as Record<string, unknown>) : {},
  }));
}

async function publish(
  ctx: Ctx,
  input: Record<string, unknown> = {},
  caseId = CASE_ID,
): Promise<FileRequestView> {
  const reply = await api(ctx, 'POST', `/api/cases/${caseId}/file-requests`, {
    token: ctx.ivy,
    body: {
      title: 'Witnesses of the fire on Mill Lane',
      instructions: 'Send videos and photos taken between 21:00 and 23:00.',
      contact: 'optional',
      consentText: 'I agree that the police may use these files.',
      expiresAt: inAWeek(),
      maxFiles: 5,
      maxBytes: 10_000_000,
      ...input,
    },
  });
  assert.is(reply.status, 201, reply.text);
  return reply.json as unknown as FileRequestView;
}

async function submit(
  ctx: Ctx,
  code: string,
  body: Record<string, unknown> = {
    name: 'Wendy Witness',
    email: 'wendy@example.net',
    consent: true,
  },
  headers: Record<string, string> = {},
): Promise<{ token: string; submission: SubmissionView }> {
  const reply = await api(ctx, 'POST', `/api/public/requests/${code}/submissions`, {
    body,
    headers,
  });
  assert.is(reply.status, 201, reply.text);
  return reply.json as unknown as { token: string; submission: SubmissionView };
}

const tus = (token: string, extra: Record<string, string> = {}) => ({
  'Tus-Resumable': '1.0.0',
  authorization: `Bearer ${token}`,
  ...extra,
});

/** Creates an upload for `file` and sends it whole; resolves with the last answer. */
async function upload(
  ctx: Ctx,
  token: string,
  file: Buffer,
  metadata = `filename ${b64('phone-video.mp4')},filetype ${b64('video/mp4')}`,
): Promise<RawReply> {
  const created = await rawRequest(`${ctx.base}/api/public/uploads`, {
    method: 'POST',
    headers: tus(token, { 'Upload-Length': String(file.length), 'Upload-Metadata': metadata }),
  });
  if (created.status !== 201) return created;
  return rawRequest(`${ctx.base}${String(created.headers.location)}`, {
    method: 'PATCH',
    headers: tus(token, {
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': '0',
      'Exhibit-Sha256': sha256(file),
    }),
    body: file,
  });
}

const test = suite<Ctx>('file requests', {} as Ctx);

test.before.each(async (ctx) => {
  ctx.identity = await testIdentity();
  const { identity } = ctx.identity;
  ctx.api = await apiServer(identity, {
    trustProxy: true,
    fileRequests: {
      requests: identity.fileRequests,
      limits: { unknownCodesPerAddress: 3, submissionsPerAddress: 5 },
    },
  });
  ctx.base = ctx.api.base;
  ctx.ivy = await ctx.identity.tokenFor('investigator', 'ivy@example.org');
  const ivy = await identity.service.authenticate(ctx.ivy);
  await identity.cases.admit(ivy.user, CASE_ID);
  await identity.cases.admit(ivy.user, OTHER_CASE);
});

test.after.each(async (ctx) => {
  await ctx.api.close();
  await ctx.identity.close();
});

test('a manager publishes a request; members list it, others may not', async (ctx) => {
  const request = await publish(ctx);
  assert.match(request.code, /^[0-9A-Z]{12}$/);
  assert.is(request.status, 'open');
  const ana = await ctx.identity.tokenFor('analyst', 'ana@example.org');
  await api(ctx, 'PUT', `/api/cases/${CASE_ID}/members`, {
    token: ctx.ivy,
    body: { email: 'ana@example.org', level: 'contribute' },
  });
  const listed = await api(ctx, 'GET', `/api/cases/${CASE_ID}/file-requests`, { token: ana });
  assert.is(listed.status, 200);
  assert.is((listed.json['requests'] as FileRequestView[])[0]?.code, request.code);
  // Publishing to the public is the managers' call.
  const byAnalyst = await api(ctx, 'POST', `/api/cases/${CASE_ID}/file-requests`, {
    token: ana,
    body: { title: 'x', expiresAt: inAWeek(), maxBytes: 1 },
  });
  assert.is(byAnalyst.status, 403);
  const outsider = await ctx.identity.tokenFor('investigator', 'out@example.org');
  const refused = await api(ctx, 'GET', `/api/cases/${CASE_ID}/file-requests`, { token: outsider });
  assert.is(refused.status, 403);
});

test('refuses bad requests with what was wrong', async (ctx) => {
  const past = await api(ctx, 'POST', `/api/cases/${CASE_ID}/file-requests`, {
    token: ctx.ivy,
    body: { title: 'x', expiresAt: new Date(Date.now() - 1000).toISOString(), maxBytes: 10 },
  });
  assert.is(past.status, 400);
  assert.match(String(past.json['message']), /future/);
  const noTitle = await api(ctx, 'POST', `/api/cases/${CASE_ID}/file-requests`, {
    token: ctx.ivy,
    body: { title: ' ', expiresAt: inAWeek(), maxBytes: 10 },
  });
  assert.is(noTitle.status, 400);
  assert.match(String(noTitle.json['message']), /title/);
  const tooMany = await api(ctx, 'POST', `/api/cases/${CASE_ID}/file-requests`, {
    token: ctx.ivy,
    body: { title: 'x', expiresAt: inAWeek(), maxBytes: 10, maxFiles: 100_000 },
  });
  assert.is(tooMany.status, 400);
});

test('the public page learns the public title and text, nothing of the case', async (ctx) => {
  const request = await publish(ctx);
  const shown = await api(ctx, 'GET', `/api/public/requests/${request.code}`);
  assert.is(shown.status, 200);
  assert.equal(Object.keys(shown.json).sort(), [
    'bytesLeft',
    'consentText',
    'contact',
    'expiresAt',
    'filesLeft',
    'instructions',
    'maxFileBytes',
    'title',
  ]);
  assert.not.match(shown.text, CASE_ID);
  assert.is(shown.json['filesLeft'], 5);
  assert.is(shown.headers['cache-control'], 'no-store');
  // Lower-case codes (typed from a poster) work too.
  assert.is(
    (await api(ctx, 'GET', `/api/public/requests/${request.code.toLowerCase()}`)).status,
    200,
  );
});

test('a sender sends a file: it lands in the case, on the receipt and in the audit trail', async (ctx) => {
  const request = await publish(ctx);
  const { token, submission } = await submit(
    ctx,
    request.code,
    {
      name: 'Wendy Witness',
      email: 'wendy@example.net',
      note: 'Filmed from my balcony',
      consent: true,
    },
    { 'user-agent': 'Mozilla/5.0 (Linux; Android 14) Mobile', 'x-forwarded-for': '198.51.100.7' },
  );
  assert.match(submission.reference, /^EXH-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  const file = randomBytes(300_000);
  // The case the sender names is ignored: a submission goes into its request's case only.
  const sent = await upload(
    ctx,
    token,
    file,
    `filename ${b64('balcony.mp4')},filetype ${b64('video/mp4')},case ${b64(OTHER_CASE)}`,
  );
  assert.is(sent.status, 204, sent.text);
  assert.is(sent.headers['exhibit-sha256'], sha256(file));

  const receipt = await api(ctx, 'GET', '/api/public/submission', { token });
  const files = receipt.json['files'] as { name: string; sha256: string; state: string }[];
  assert.equal(
    files.map((f) => [f.name, f.state, f.sha256]),
    [['balcony.mp4', 'verified', sha256(file)]],
  );
  assert.is(receipt.json['reference'], submission.reference);

  const seen = await api(
    ctx,
    'GET',
    `/api/cases/${CASE_ID}/file-requests/${request.id}/submissions`,
    { token: ctx.ivy },
  );
  const [detail] = seen.json['submissions'] as {
    contact: { name: string };
    ip: string;
    userAgent: string;
    note: string;
  }[];
  assert.is(detail?.contact.name, 'Wendy Witness');
  assert.is(detail?.ip, '198.51.100.7');
  assert.match(detail?.userAgent ?? '', /Android/);
  const listed = await api(ctx, 'GET', `/api/cases/${CASE_ID}/file-requests`, { token: ctx.ivy });
  const [counted] = listed.json['requests'] as FileRequestView[];
  assert.is(counted?.filesReceived, 1);
  assert.is(counted?.bytesReceived, file.length);

  const audit = ctx.identity.identity.audit;
  const received = (await audit.about(`case:${CASE_ID}`)).find(
    (e) => e.action === 'request.file_received',
  );
  assert.is(received?.details?.['sha256'], sha256(file));
  assert.equal(received?.details?.['contact'], {
    name: 'Wendy Witness',
    email: 'wendy@example.net',
  });
  assert.is(received?.ip, '198.51.100.7');
  assert.equal(
    await audit
      .about(`case:${OTHER_CASE}`)
      .then((e) => e.filter((x) => x.action.startsWith('evidence'))),
    [],
  );
  // The case lists the file, so its members may open it; the sender cannot.
  const download = await rawRequest(`${ctx.base}/api/blobs/${sha256(file)}`, {
    method: 'GET',
    headers: { authorization: `Bearer ${ctx.ivy}` },
  });
  assert.is(download.status, 200);
});

test('the link and the sender’s token open nothing but their own uploads', async (ctx) => {
  const request = await publish(ctx);
  const { token } = await submit(ctx, request.code);
  const file = randomBytes(1000);
  await upload(ctx, token, file);
  for (const [method, path] of [
    ['GET', `/api/blobs/${sha256(file)}`],
    ['GET', `/api/cases/${CASE_ID}/file-requests`],
    ['GET', `/api/cases/${CASE_ID}/members`],
    ['GET', `/api/cases/${CASE_ID}/file-requests/${request.id}/submissions`],
    ['GET', '/api/auth/me'],
  ] as const) {
    const reply = await api(ctx, method, path, { token });
    assert.is(reply.status, 401, `${method} ${path} answered ${reply.status}`);
    const byCode = await api(ctx, method, path, { token: request.code });
    assert.is(byCode.status, 401, `${method} ${path} with the code answered ${byCode.status}`);
  }
  // Another sender's upload is theirs alone.
  const other = await submit(ctx, request.code);
  const created = await rawRequest(`${ctx.base}/api/public/uploads`, {
    method: 'POST',
    headers: tus(other.token, { 'Upload-Length': '10' }),
  });
  const stranger = await rawRequest(`${ctx.base}${String(created.headers.location)}`, {
    method: 'HEAD',
    headers: tus(token),
  });
  assert.is(stranger.status, 403);
  // The account tus endpoint does not take a sender's token.
  const account = await rawRequest(`${ctx.base}/api/uploads`, {
    method: 'POST',
    headers: tus(token, { 'Upload-Length': '10', 'Upload-Metadata': `case ${b64(CASE_ID)}` }),
  });
  assert.is(account.status, 401);
});

test('limits are the server’s: files, bytes, contact details, consent', async (ctx) => {
  const request = await publish(ctx, { maxFiles: 2, maxBytes: 5000, contact: 'required' });
  const anonymous = await api(ctx, 'POST', `/api/public/requests/${request.code}/submissions`, {
    body: { consent: true },
  });
  assert.is(anonymous.status, 400);
  assert.match(String(anonymous.json['message']), /name/);
  const noConsent = await api(ctx, 'POST', `/api/public/requests/${request.code}/submissions`, {
    body: { name: 'W', email: 'w@example.net' },
  });
  assert.is(noConsent.status, 400);
  assert.match(String(noConsent.json['message']), /consent/);
  const { token } = await submit(ctx, request.code);
  const tooBig = await upload(ctx, token, randomBytes(6000));
  assert.is(tooBig.status, 413);
  assert.match(tooBig.text, /larger than what the request still takes/);
  assert.is((await upload(ctx, token, randomBytes(2000))).status, 204);
  // A cancelled upload gives its room back.
  const created = await rawRequest(`${ctx.base}/api/public/uploads`, {
    method: 'POST',
    headers: tus(token, { 'Upload-Length': '2000' }),
  });
  assert.is(created.status, 201);
  const cancelled = await rawRequest(`${ctx.base}${String(created.headers.location)}`, {
    method: 'DELETE',
    headers: tus(token),
  });
  assert.is(cancelled.status, 204);
  assert.is((await upload(ctx, token, randomBytes(2000))).status, 204);
  const full = await upload(ctx, token, randomBytes(10));
  assert.is(full.status, 410);
  assert.match(full.text, /received all the files/);
  const shown = await api(ctx, 'GET', `/api/public/requests/${request.code}`);
  assert.is(shown.status, 410);
});

test('a paused, withdrawn or expired request says so and takes nothing', async (ctx) => {
  const request = await publish(ctx);
  const { token } = await submit(ctx, request.code);
  const created = await rawRequest(`${ctx.base}/api/public/uploads`, {
    method: 'POST',
    headers: tus(token, { 'Upload-Length': '100' }),
  });
  const paused = await api(ctx, 'PATCH', `/api/cases/${CASE_ID}/file-requests/${request.id}`, {
    token: ctx.ivy,
    body: { status: 'paused' },
  });
  assert.is(paused.json['status'], 'paused');
  const whilePaused = await api(ctx, 'GET', `/api/public/requests/${request.code}`);
  assert.is(whilePaused.status, 410);
  assert.match(String(whilePaused.json['message']), /paused/);
  await api(ctx, 'PATCH', `/api/cases/${CASE_ID}/file-requests/${request.id}`, {
    token: ctx.ivy,
    body: { status: 'open', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() },
  });
  assert.is((await api(ctx, 'GET', `/api/public/requests/${request.code}`)).status, 200);
  const revoked = await api(
    ctx,
    'POST',
    `/api/cases/${CASE_ID}/file-requests/${request.id}/revoke`,
    {
      token: ctx.ivy,
    },
  );
  assert.is(revoked.json['status'], 'revoked');
  const gone = await api(ctx, 'GET', `/api/public/requests/${request.code}`);
  assert.is(gone.status, 410);
  assert.match(String(gone.json['message']), /withdrawn/);
  const late = await api(ctx, 'POST', `/api/public/requests/${request.code}/submissions`, {
    body: { consent: true },
  });
  assert.is(late.status, 410);
  // An upload begun before cannot go on either.
  const cont = await rawRequest(`${ctx.base}${String(created.headers.location)}`, {
    method: 'PATCH',
    headers: tus(token, {
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': '0',
    }),
    body: randomBytes(100),
  });
  assert.is(cont.status, 410);
  assert.match(cont.text, /withdrawn/);
  const reopen = await api(ctx, 'PATCH', `/api/cases/${CASE_ID}/file-requests/${request.id}`, {
    token: ctx.ivy,
    body: { status: 'open' },
  });
  assert.is(reopen.status, 410);
});

test('unknown links are counted per address; other addresses are not affected', async (ctx) => {
  const request = await publish(ctx);
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  for (let i = 0; i < 3; i++) {
    const miss = await api(ctx, 'GET', `/api/public/requests/ZZZZZZZZZZZ${i}`, {
      headers: from('203.0.113.9'),
    });
    assert.is(miss.status, 404);
  }
  const blocked = await api(ctx, 'GET', `/api/public/requests/ZZZZZZZZZZZZ`, {
    headers: from('203.0.113.9'),
  });
  assert.is(blocked.status, 429);
  assert.ok(Number(blocked.headers['retry-after']) > 0);
  const fine = await api(ctx, 'GET', `/api/public/requests/${request.code}`, {
    headers: from('203.0.113.10'),
  });
  assert.is(fine.status, 200);
  for (let i = 0; i < 5; i++)
    await submit(ctx, request.code, { consent: true }, from('203.0.113.11'));
  const flood = await api(ctx, 'POST', `/api/public/requests/${request.code}/submissions`, {
    body: { consent: true },
    headers: from('203.0.113.11'),
  });
  assert.is(flood.status, 429);
  await submit(ctx, request.code, { consent: true }, from('203.0.113.12'));
});

test.run();
