import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlobServer, type BlobServer } from '../../blob-server/server.ts';
import { createFsStore } from '../../blob-server/storage/fs-store.ts';
import type { BlobStore } from '../../blob-server/storage/blob-store.ts';
import { identitySyncAuth } from '../../blob-server/identity/sync-auth.ts';
import { createSyncServer, type SyncServer } from '../../sync-server/server.ts';
import type { Logger } from '../../sync-server/logger.ts';
import { addEvidence, initCase, readCaseIndex, readMeta } from '../../web/lib/shared/case-doc.ts';
import type { Role } from '../../web/lib/shared/roles.ts';
import { CloseCode } from '../../web/lib/shared/sync-protocol.ts';
import { testIdentity } from '../helpers/identity.ts';
import { TestPeer, waitFor } from '../helpers/sync-client.ts';

/**
 * Every role × every action × a case of their own and a case of someone else's, against the
 * real servers (one process, as `npm start` runs them), over HTTP and over the sync socket.
 * "Own" means: the investigator opened it; the analyst is a contributor and the guest a viewer
 * on it. Administrators and supervisors see every case.
 */
type Action =
  'read doc' | 'write doc' | 'list' | 'upload' | 'download' | 'manage members' | 'admin';
const ACTIONS: Action[] = [
  'read doc',
  'write doc',
  'list',
  'upload',
  'download',
  'manage members',
  'admin',
];

const Y = true;
const N = false;
/** Expected: [own case, other case] for each action, in ACTIONS order. */
// prettier-ignore
const EXPECTED: Record<Role, Array<[boolean, boolean]>> = {
  //              read doc  write doc  list     upload   download  manage   admin
  administrator: [[Y, Y],   [Y, Y],    [Y, Y],  [Y, Y],  [Y, Y],   [Y, Y],  [Y, Y]],
  supervisor:    [[Y, Y],   [Y, Y],    [Y, Y],  [Y, Y],  [Y, Y],   [Y, Y],  [N, N]],
  investigator:  [[Y, N],   [Y, N],    [Y, N],  [Y, N],  [Y, N],   [Y, N],  [N, N]],
  analyst:       [[Y, N],   [Y, N],    [Y, N],  [Y, N],  [Y, N],   [N, N],  [N, N]],
  guest:         [[Y, N],   [N, N],    [Y, N],  [N, N],  [Y, N],   [N, N],  [N, N]],
};

const quiet: Logger = { info() {}, warn() {}, error() {} };
// Each y-websocket client in Node adds a process 'exit' listener; this test opens many.
process.setMaxListeners(200);
const ctxIp = { ip: '127.0.0.1' };

interface World {
  dir: string;
  store: BlobStore;
  identity: Awaited<ReturnType<typeof testIdentity>>;
  blob: BlobServer;
  sync: SyncServer;
  base: string;
  ws: string;
  peers: TestPeer[];
}

async function world(): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'exhibit-matrix-'));
  const store = await createFsStore(join(dir, 'blobs'));
  const identity = await testIdentity();
  const blob = await createBlobServer({
    store,
    maxUploadBytes: 1024 * 1024,
    log: quiet,
    auth: {
      service: identity.identity.service,
      cases: identity.identity.cases,
      refreshTtlMs: 3600_000,
    },
  });
  const sync = await createSyncServer({
    dataDir: dir,
    server: blob.httpServer,
    maxMessageBytes: 1024 * 1024,
    log: quiet,
    auth: identitySyncAuth(identity.identity.service, identity.identity.cases),
  });
  return {
    dir,
    store,
    identity,
    blob,
    sync,
    base: `http://127.0.0.1:${blob.port}`,
    ws: `ws://127.0.0.1:${blob.port}/sync`,
    peers: [],
  };
}

function peer(w: World, name: string, token: string): TestPeer {
  const p = new TestPeer(w.ws, name, token);
  w.peers.push(p);
  return p;
}

function http(w: World, method: string, path: string, token: string, body?: unknown) {
  const isJson = body !== undefined && !(body instanceof Buffer);
  return fetch(`${w.base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(isJson ? { 'content-type': 'application/json' } : {}),
    },
    body:
      body === undefined ? null : isJson ? JSON.stringify(body) : new Uint8Array(body as Buffer),
    signal: AbortSignal.timeout(10_000),
  });
}

/** Connects and reports whether the server admitted the peer (or refused it with 4403). */
async function admitted(p: TestPeer): Promise<boolean> {
  let refused = false;
  p.provider.on('connection-close', (e: CloseEvent | null) => {
    if (e?.code === CloseCode.forbidden) refused = true;
  });
  await waitFor(() => refused || p.provider.synced, 'admission or refusal');
  return !refused;
}

/** Opens a case as `owner` and stores one evidence file in it; returns the file's digest. */
async function makeCase(w: World, id: string, ownerToken: string): Promise<Buffer> {
  const bytes = Buffer.from(`evidence of ${id}`);
  const digest = createHash('sha256').update(bytes).digest('hex');
  const owner = peer(w, `case.${id}`, ownerToken);
  await owner.synced();
  initCase(owner.doc, { id, title: `Case ${id}`, description: '', tags: [], now: 't' });
  addEvidence(owner.doc, {
    id: 'e',
    name: 'f.bin',
    type: 'application/octet-stream',
    size: bytes.length,
    sha256: digest,
    addedAt: 't',
    state: 'verified',
  });
  await owner.savedOnServer();
  const put = await http(w, 'PUT', `/api/blobs/${digest}?case=${id}`, ownerToken, bytes);
  assert.ok(put.status === 201 || put.status === 200, `owner upload ${put.status}`);
  // The server records which case lists the file once the stored document is indexed.
  const { user } = await w.identity.identity.service.authenticate(ownerToken);
  const deadline = Date.now() + 5000;
  while (!(await w.identity.identity.cases.mayDownload(user, digest))) {
    if (Date.now() > deadline) throw new Error('the case evidence was never recorded');
    await new Promise((r) => setTimeout(r, 20));
  }
  return bytes;
}

async function check(
  w: World,
  action: Action,
  token: string,
  caseId: string,
  bytes: Buffer,
): Promise<boolean> {
  const digest = createHash('sha256').update(bytes).digest('hex');
  switch (action) {
    case 'read doc': {
      const p = peer(w, `case.${caseId}`, token);
      if (!(await admitted(p))) return false;
      await waitFor(() => readMeta(p.doc).title !== '', 'the case content');
      return true;
    }
    case 'write doc': {
      const p = peer(w, `case.${caseId}`, token);
      if (!(await admitted(p))) return false;
      const marker = `written ${Math.random()}`;
      p.doc.getText('notes').insert(0, marker);
      const check = peer(w, `case.${caseId}`, w.identity.adminToken);
      await check.synced();
      try {
        await waitFor(
          () => check.doc.getText('notes').toString().includes(marker),
          'the write',
          1000,
        );
        return true;
      } catch {
        return false;
      }
    }
    case 'list': {
      const p = peer(w, 'cases', token);
      try {
        await waitFor(() => readCaseIndex(p.doc).some((c) => c.id === caseId), 'the listing', 1000);
        return true;
      } catch {
        return false;
      }
    }
    case 'upload': {
      const fresh = Buffer.from(`new file ${Math.random()}`);
      const sha = createHash('sha256').update(fresh).digest('hex');
      const res = await http(w, 'PUT', `/api/blobs/${sha}?case=${caseId}`, token, fresh);
      if (res.status !== 403) assert.ok(res.status === 201, `upload answered ${res.status}`);
      return res.status === 201;
    }
    case 'download': {
      const res = await http(w, 'GET', `/api/blobs/${digest}`, token);
      if (res.status !== 403) assert.is(res.status, 200);
      return res.status === 200;
    }
    case 'manage members': {
      const res = await http(w, 'PUT', `/api/cases/${caseId}/members`, token, {
        email: 'bystander@example.org',
        level: 'view',
      });
      if (res.status !== 403) assert.is(res.status, 200);
      return res.status === 200;
    }
    case 'admin': {
      const res = await http(w, 'GET', '/api/admin/users', token);
      if (res.status !== 403) assert.is(res.status, 200);
      return res.status === 200;
    }
  }
}

const matrix = suite('authorization matrix');

for (const role of Object.keys(EXPECTED) as Role[]) {
  matrix(`${role}: allowed and refused exactly as the policy says`, async () => {
    const w = await world();
    try {
      const ownerToken = await w.identity.tokenFor('investigator', 'owner@example.org');
      await w.identity.tokenFor('analyst', 'bystander@example.org');
      const email = `${role}@example.org`;
      const token =
        role === 'administrator' ? w.identity.adminToken : await w.identity.tokenFor(role, email);
      const ownId = `own${role}0000`.slice(0, 16).padEnd(16, '0');
      const otherId = `oth${role}0000`.slice(0, 16).padEnd(16, '0');
      // The investigator opens their own case; for other roles the owner opens it and adds them.
      const ownBytes = await makeCase(w, ownId, role === 'investigator' ? token : ownerToken);
      const admin = await w.identity.identity.service.authenticate(w.identity.adminToken);
      if (role === 'analyst' || role === 'guest') {
        const level = role === 'analyst' ? 'contribute' : 'view';
        await w.identity.identity.cases.setMember(admin, ownId, { email, level }, ctxIp);
      }
      const otherBytes = await makeCase(w, otherId, ownerToken);

      const wrong: string[] = [];
      for (const [i, action] of ACTIONS.entries()) {
        const [ownExpected, otherExpected] = EXPECTED[role][i] as [boolean, boolean];
        const own = await check(w, action, token, ownId, ownBytes);
        const other = await check(w, action, token, otherId, otherBytes);
        if (own !== ownExpected)
          wrong.push(`${action} on own case: ${own ? 'allowed' : 'refused'}`);
        if (other !== otherExpected) {
          wrong.push(`${action} on other case: ${other ? 'allowed' : 'refused'}`);
        }
      }
      assert.equal(wrong, [], `${role}: ${wrong.join('; ')}`);
    } finally {
      for (const p of w.peers) p.destroy();
      await w.sync.close();
      await w.blob.close();
      await w.identity.close();
      await w.store.close();
      await rm(w.dir, { recursive: true, force: true });
    }
  });
}

matrix.run();
