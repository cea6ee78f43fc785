import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncServer, type SyncServer } from './server.ts';
import { openDocStore, type DocStore } from './doc-store.ts';
import type { Logger } from './logger.ts';
import { CloseCode } from '../web/lib/shared/sync-protocol.ts';
import {
  getCaseIndex,
  initCase,
  readCaseIndex,
  readMeta,
  readTags,
} from '../web/lib/shared/case-doc.ts';
import { TestPeer, rawSocket, waitFor } from '../tests/helpers/sync-client.ts';
import { tableSyncAuth } from '../tests/helpers/sync-auth.ts';

interface Ctx {
  auth: ReturnType<typeof tableSyncAuth>;
  /** An investigator's token, used by `peer` unless a test says otherwise. */
  token: string;
  dir: string;
  server: SyncServer;
  url: string;
  logs: Array<{ level: string; event: string }>;
  peers: TestPeer[];
}

function recordingLogger(logs: Ctx['logs']): Logger {
  return {
    info: (event) => logs.push({ level: 'info', event }),
    warn: (event) => logs.push({ level: 'warn', event }),
    error: (event) => logs.push({ level: 'error', event }),
  };
}

async function start(ctx: Ctx, store?: DocStore): Promise<void> {
  ctx.auth ??= tableSyncAuth();
  ctx.token ??= ctx.auth.issue('investigator').token;
  ctx.server = await createSyncServer({
    auth: ctx.auth,
    dataDir: ctx.dir,
    maxMessageBytes: 64 * 1024,
    log: recordingLogger(ctx.logs),
    ...(store ? { store } : {}),
  });
  ctx.url = `ws://127.0.0.1:${ctx.server.port}/sync`;
}

function peer(ctx: Ctx, name: string, token = ctx.token): TestPeer {
  const p = new TestPeer(ctx.url, name, token);
  ctx.peers.push(p);
  return p;
}

async function setup(ctx: Ctx): Promise<void> {
  ctx.auth = tableSyncAuth();
  ctx.token = ctx.auth.issue('investigator').token;
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-sync-'));
  ctx.logs = [];
  ctx.peers = [];
  await start(ctx);
}

async function teardown(ctx: Ctx): Promise<void> {
  for (const p of ctx.peers) p.destroy();
  await ctx.server.close();
  await rm(ctx.dir, { recursive: true, force: true });
}

const CASE = 'case.0123456789abcdef';

/** A DocStore that delegates to LevelDB but lets a test slow down or break single methods. */
function wrapStore(inner: DocStore, overrides: Partial<DocStore>): DocStore {
  return {
    load: (n) => inner.load(n),
    append: (n, u) => inner.append(n, u),
    compact: (n) => inner.compact(n),
    lastSeq: (n) => inner.lastSeq(n),
    getMarker: (n, k) => inner.getMarker(n, k),
    setMarker: (n, k, v) => inner.setMarker(n, k, v),
    names: () => inner.names(),
    close: () => inner.close(),
    ...overrides,
  };
}

const sync = suite<Ctx>('sync-server: syncing', {} as Ctx);
sync.before.each(setup);
sync.after.each(teardown);

sync('a change made by one peer reaches another peer of the same document', async (ctx) => {
  const a = peer(ctx, CASE);
  const b = peer(ctx, CASE);
  await Promise.all([a.synced(), b.synced()]);
  initCase(a.doc, { id: 'x', title: 'Burglary', description: 'd', tags: ['night'], now: 'now' });
  await waitFor(() => readMeta(b.doc).title === 'Burglary', 'the title on peer b');
  assert.equal(readTags(b.doc), ['night']);
});

sync(
  'the server reports a change as saved only once it is stored, and it survives a restart',
  async (ctx) => {
    const a = peer(ctx, CASE);
    await a.synced();
    a.doc.getText('t').insert(0, 'kept');
    await a.savedOnServer();
    a.destroy();
    ctx.peers = [];
    await ctx.server.close();
    await start(ctx);
    const b = peer(ctx, CASE);
    await b.synced();
    assert.is(b.doc.getText('t').toString(), 'kept');
  },
);

sync('changes made offline are merged when the peer connects', async (ctx) => {
  const offline = new Y.Doc();
  offline.getText('t').insert(0, 'offline ');
  const online = peer(ctx, CASE);
  await online.synced();
  online.doc.getText('t').insert(0, 'online ');
  await online.savedOnServer();
  const late = new TestPeer(ctx.url, CASE, ctx.token, offline);
  ctx.peers.push(late);
  await late.savedOnServer();
  await waitFor(() => online.doc.getText('t').length === 'offline online '.length, 'merge');
  assert.is(late.doc.getText('t').toString(), online.doc.getText('t').toString());
});

sync(
  'the document is dropped from memory when its last peer leaves, and loads again',
  async (ctx) => {
    const a = peer(ctx, CASE);
    await a.synced();
    a.doc.getText('t').insert(0, 'x');
    await a.savedOnServer();
    assert.is(ctx.server.health().documentsLoaded, 2, 'the case index and the case');
    a.provider.disconnect();
    await waitFor(() => ctx.server.health().documentsLoaded === 1, 'the case to unload');
    const b = peer(ctx, CASE);
    await b.synced();
    assert.is(b.doc.getText('t').toString(), 'x');
  },
);

sync.run();

const loading = suite<Ctx>('sync-server: loading', {} as Ctx);
loading.before.each(async (ctx) => {
  ctx.auth = tableSyncAuth();
  ctx.token = ctx.auth.issue('investigator').token;
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-sync-'));
  ctx.logs = [];
  ctx.peers = [];
});
loading.after.each(teardown);

loading('never answers a first sync before the stored document is loaded', async (ctx) => {
  const seed = await openDocStore(join(ctx.dir, 'sync'));
  const source = new Y.Doc();
  source.getText('t').insert(0, 'stored before');
  await seed.append(CASE, Y.encodeStateAsUpdate(source));
  await seed.close();

  const inner = await openDocStore(join(ctx.dir, 'sync'));
  const slow = wrapStore(inner, {
    load: async (name) => {
      await new Promise((r) => setTimeout(r, 400));
      return inner.load(name);
    },
  });
  await start(ctx, slow);

  // A raw client sends sync step 1 the instant the socket opens and reads the first answer.
  const raw = await rawSocket(`${ctx.url}/${CASE}?access_token=${ctx.token}`);
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  syncProtocol.writeSyncStep1(encoder, new Y.Doc());
  raw.socket.send(encoding.toUint8Array(encoder));
  await waitFor(() => raw.messages.length >= 2, 'the server to answer', 3000);
  const client = new Y.Doc();
  for (const message of raw.messages) {
    const decoder = decoding.createDecoder(message);
    if (decoding.readVarUint(decoder) !== 0) continue;
    syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), client, null);
  }
  assert.is(client.getText('t').toString(), 'stored before');
  raw.socket.close();
  await ctx.server.close();
  await inner.close();
  ctx.server = { close: async () => undefined } as SyncServer;
});

loading(
  'a failed write is never reported saved; the peer reconnects and the change is stored',
  async (ctx) => {
    const inner = await openDocStore(join(ctx.dir, 'sync'));
    let failNext = false;
    const flaky = wrapStore(inner, {
      append: async (name, update) => {
        if (failNext && name === CASE) {
          failNext = false;
          throw new Error('disk full');
        }
        return inner.append(name, update);
      },
    });
    await start(ctx, flaky);
    const a = peer(ctx, CASE);
    await a.synced();
    const closes: number[] = [];
    a.provider.on('connection-close', (event: CloseEvent | null) => {
      if (event) closes.push(event.code);
    });
    failNext = true;
    a.doc.getText('t').insert(0, 'must not be lost');
    await waitFor(() => closes.includes(CloseCode.storageFailure), 'the storage-failure close');
    assert.ok(ctx.logs.some((l) => l.event === 'sync.store_failed'));
    await a.savedOnServer(8000);
    await ctx.server.close();
    await inner.close();
    await start(ctx);
    const b = peer(ctx, CASE);
    await b.synced();
    assert.is(b.doc.getText('t').toString(), 'must not be lost');
  },
);

loading('rebuilds index entries whose case was stored but not yet indexed', async (ctx) => {
  const seed = await openDocStore(join(ctx.dir, 'sync'));
  const source = new Y.Doc();
  initCase(source, { id: 'x', title: 'Stored only', description: '', tags: [], now: 't' });
  await seed.append(CASE, Y.encodeStateAsUpdate(source));
  await seed.close();
  await start(ctx);
  const index = peer(ctx, 'cases');
  await index.synced();
  const entries = readCaseIndex(index.doc);
  assert.is(entries.length, 1);
  assert.is(entries[0]?.title, 'Stored only');
  assert.is(entries[0]?.id, '0123456789abcdef');
});

loading.run();

const index = suite<Ctx>('sync-server: case index', {} as Ctx);
index.before.each(setup);
index.after.each(teardown);

index('lists a case as soon as its document is stored', async (ctx) => {
  const list = peer(ctx, 'cases');
  const c = peer(ctx, CASE);
  await Promise.all([list.synced(), c.synced()]);
  initCase(c.doc, { id: 'x', title: 'Arson', description: '', tags: ['fire'], now: 't' });
  await waitFor(() => readCaseIndex(list.doc).length === 1, 'the index entry', 2000);
  assert.equal(readCaseIndex(list.doc)[0]?.tags, ['fire']);
});

index('drops writes from clients to the server-owned index', async (ctx) => {
  const list = peer(ctx, 'cases');
  await list.synced();
  getCaseIndex(list.doc).set('forged', {
    id: 'forged',
    title: 'forged',
    status: 'open',
    tags: [],
    createdAt: '',
    updatedAt: '',
    evidenceCount: 0,
  });
  await waitFor(() => ctx.logs.some((l) => l.event === 'sync.write_dropped'), 'the drop');
  const other = peer(ctx, 'cases');
  await other.synced();
  assert.is(readCaseIndex(other.doc).length, 0);
});

index.run();

const bad = suite<Ctx>('sync-server: bad input', {} as Ctx);
bad.before.each(setup);
bad.after.each(teardown);

bad('closes a connection to a malformed document name with a reason', async (ctx) => {
  for (const name of ['nonsense', 'case.short', 'case.%2F..%2Fetc', 'case.' + 'a'.repeat(65)]) {
    const raw = await rawSocket(`${ctx.url}/${name}?access_token=${ctx.token}`);
    const closed = await raw.closed;
    assert.is(closed.code, CloseCode.invalidDocName, name);
    assert.ok(closed.reason.length > 10, `a reason for ${name}`);
  }
});

bad(
  'closes only the connection that sent a malformed message; others keep syncing',
  async (ctx) => {
    const good = peer(ctx, CASE);
    await good.synced();
    const raw = await rawSocket(`${ctx.url}/${CASE}?access_token=${ctx.token}`);
    raw.socket.send(new Uint8Array([0, 2, 200, 1, 2, 3]));
    const closed = await raw.closed;
    assert.is(closed.code, CloseCode.malformedMessage);
    assert.match(closed.reason, 'malformed');

    const raw2 = await rawSocket(`${ctx.url}/${CASE}?access_token=${ctx.token}`);
    raw2.socket.send(new Uint8Array([77]));
    assert.is((await raw2.closed).code, CloseCode.malformedMessage);

    const raw3 = await rawSocket(`${ctx.url}/${CASE}?access_token=${ctx.token}`);
    raw3.socket.send('hello');
    assert.is((await raw3.closed).code, CloseCode.malformedMessage);

    good.doc.getText('t').insert(0, 'still fine');
    await good.savedOnServer();
    const other = peer(ctx, CASE);
    await other.synced();
    assert.is(other.doc.getText('t').toString(), 'still fine');
  },
);

bad('closes a connection that sends a message over the size limit', async (ctx) => {
  const raw = await rawSocket(`${ctx.url}/${CASE}?access_token=${ctx.token}`);
  raw.socket.send(new Uint8Array(128 * 1024));
  assert.is((await raw.closed).code, 1009);
  const ok = peer(ctx, CASE);
  await ok.synced();
});

bad('answers other paths with 404 and keeps serving', async (ctx) => {
  const res = await fetch(`http://127.0.0.1:${ctx.server.port}/nowhere`);
  assert.is(res.status, 404);
  const health = await fetch(`http://127.0.0.1:${ctx.server.port}/health`);
  assert.is(health.status, 200);
  assert.is(((await health.json()) as { ok: boolean }).ok, true);
});

bad.run();

const limits = suite<Ctx>('sync-server: case index limits', {} as Ctx);
limits.before.each(setup);
limits.after.each(teardown);

limits('keeps index entries bounded whatever a client writes into a case', async (ctx) => {
  const list = peer(ctx, 'cases');
  const c = peer(ctx, CASE);
  await Promise.all([list.synced(), c.synced()]);
  const tags = Array.from({ length: 200 }, (_, i) => `tag-${i}-${'x'.repeat(80)}`);
  initCase(c.doc, { id: 'x', title: 'T'.repeat(10_000), description: '', tags, now: 't' });
  await waitFor(() => readCaseIndex(list.doc).length === 1, 'the index entry', 2000);
  const entry = readCaseIndex(list.doc)[0];
  assert.is(entry?.title.length, 200);
  assert.is(entry?.tags.length, 50);
  assert.ok(entry?.tags.every((t) => t.length <= 64));
});

limits.run();

const access = suite<Ctx>('sync-server: who may connect', {} as Ctx);
access.before.each(setup);
access.after.each(teardown);

access('closes a connection without a valid token with 4401 and a reason', async (ctx) => {
  for (const query of ['', '?access_token=forged']) {
    const raw = await rawSocket(`${ctx.url}/${CASE}${query}`);
    const closed = await raw.closed;
    assert.is(closed.code, CloseCode.unauthenticated, query);
    assert.match(closed.reason, 'token');
  }
});

access('refuses guests with 4403, and lets analysts annotate cases', async (ctx) => {
  const guest = ctx.auth.issue('guest').token;
  const raw = await rawSocket(`${ctx.url}/${CASE}?access_token=${guest}`);
  assert.is((await raw.closed).code, CloseCode.forbidden);
  const analyst = peer(ctx, CASE, ctx.auth.issue('analyst').token);
  await analyst.synced();
  analyst.doc.getText('t').insert(0, 'note');
  await analyst.savedOnServer();
});

access('closes open connections as soon as the session is revoked', async (ctx) => {
  const { token, identity } = ctx.auth.issue('investigator');
  const p = peer(ctx, CASE, token);
  await p.synced();
  const closes: Array<{ code: number; reason: string }> = [];
  p.provider.on('connection-close', (event: CloseEvent | null) => {
    if (event) closes.push({ code: event.code, reason: event.reason });
  });
  ctx.auth.revoke({ userId: identity.userId, reason: 'signed out' });
  await waitFor(() => closes.length > 0, 'the close');
  assert.is(closes[0]?.code, CloseCode.unauthenticated);
  assert.match(closes[0]?.reason ?? '', 'signed out');
  const other = peer(ctx, CASE);
  await other.synced();
});

access('refuses a WebSocket opened from another site', async (ctx) => {
  const { default: WebSocket } = await import('ws');
  const socket = new WebSocket(`${ctx.url}/${CASE}?access_token=${ctx.token}`, {
    headers: { origin: 'https://evil.example' },
  });
  const status = await new Promise<number>((resolve) => {
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('error', () => resolve(-1));
  });
  assert.is(status, 403);
});

access.run();

const flood = suite<Ctx>('sync-server: before admission', {} as Ctx);
flood.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-sync-'));
  ctx.logs = [];
  ctx.peers = [];
  const table = tableSyncAuth();
  ctx.token = table.issue('investigator').token;
  // Deciding access takes a while (a remote API server, say): the window a flood would use.
  ctx.auth = {
    ...table,
    authenticate: async (req) => {
      await new Promise((r) => setTimeout(r, 300));
      return table.authenticate(req);
    },
  };
  await start(ctx);
});
flood.after.each(teardown);

flood('closes a connection that floods messages before it is admitted', async (ctx) => {
  const raw = await rawSocket(`${ctx.url}/${CASE}?access_token=${ctx.token}`);
  for (let i = 0; i < 40; i++) raw.socket.send(new Uint8Array([0, 0, 0]));
  const closed = await raw.closed;
  assert.is(closed.code, 1008);
  assert.match(closed.reason, 'before the connection was admitted');
  const ok = peer(ctx, CASE);
  await ok.synced();
});

flood.run();
