import * as Y from 'yjs';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { CloseCode } from '../web/lib/shared/sync-protocol.ts';
import { decodeDocName, isServerOwned, type DocName } from '../web/lib/shared/doc-names.ts';
import { caseEventsOf } from '../web/lib/shared/case-doc.ts';
import type { SyncAuth, SyncIdentity } from './auth.ts';
import { openDocStore, type DocStore } from './doc-store.ts';
import { DocRegistry } from './doc-registry.ts';
import { CaseIndex } from './case-index.ts';
import { MalformedMessage, type LiveDoc, type Peer } from './live-doc.ts';
import { createLogger, type Logger } from './logger.ts';

export const SYNC_PATH_PREFIX = '/sync/';
/** The origin of changes the server makes itself. */
const SERVER_ORIGIN = Symbol('server');
const KEEPALIVE_MS = 30_000;
/** A y-websocket client sends two or three messages on connect; far more is not a client. */
const MAX_QUEUED_BEFORE_ADMISSION = 32;

export interface SyncServerOptions {
  /** Sync state lives in `<dataDir>/sync` (LevelDB). */
  dataDir: string;
  /** Largest accepted WebSocket message; bigger ones close the connection (code 1009). */
  maxMessageBytes: number;
  /** Attach to this HTTP server's upgrades instead of listening on a port of our own. */
  server?: http.Server;
  port?: number;
  host?: string;
  log?: Logger;
  /** Replaces LevelDB, for tests that need a store that fails or is slow. */
  store?: DocStore;
  /** Who may connect and what they may do; every connection is checked. */
  auth: SyncAuth;
}

export interface SyncHealth {
  ok: boolean;
  documentsLoaded: number;
  connections: number;
}

export interface SyncServer {
  /** The port listened on, when the server has its own. */
  readonly port: number | undefined;
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  health(): SyncHealth;
  /**
   * Changes a document on the server's own authority (e.g. marking evidence verified), as one
   * transaction that every connected peer receives; resolves once the change is stored.
   */
  change(name: string, edit: (doc: Y.Doc) => void): Promise<void>;
  close(): Promise<void>;
}

export async function createSyncServer(options: SyncServerOptions): Promise<SyncServer> {
  const log = options.log ?? createLogger('sync-server');
  const store = options.store ?? (await openDocStore(join(options.dataDir, 'sync')));
  const indexHolder: { index?: CaseIndex } = {};
  const registry = new DocRegistry({
    store,
    log,
    onStored: (live) => indexHolder.index?.noteStored(live),
  });
  const index = new CaseIndex({ registry, store, log, auth: options.auth });
  indexHolder.index = index;
  await index.start();

  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes });
  const connections = new Set<Connection>();
  wss.on('connection', (socket: WebSocket, req: http.IncomingMessage) =>
    servePeer({ socket, req, registry, log, auth: options.auth, connections }),
  );
  const stopRevocations = options.auth.onRevoked((revocation) => {
    for (const connection of connections) {
      const { identity } = connection;
      if (identity.userId !== revocation.userId) continue;
      if (revocation.sessionIds && !revocation.sessionIds.includes(identity.sessionId)) continue;
      connection.socket.close(
        CloseCode.unauthenticated,
        closeReason(`access ended: ${revocation.reason}`),
      );
    }
  });
  // A changed membership: the member reconnects and is admitted again at the new level, and
  // their own case list gains or loses the case.
  const stopAccessChanges = options.auth.onCaseAccessChanged(({ caseId, userId }) => {
    for (const connection of connections) {
      if (connection.identity.userId !== userId || connection.caseId !== caseId) continue;
      connection.socket.close(CloseCode.accessChanged, 'your access to this case changed');
    }
    index.accessChanged(caseId, userId);
  });
  const keepalive = startKeepalive(wss);

  const handleUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(SYNC_PATH_PREFIX)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    // A page on another site must not open a socket riding on our user's cookie.
    const origin = req.headers.origin;
    if (origin && !sameHost(origin, req.headers.host)) {
      log.warn('sync.cross_origin_refused', { origin });
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };

  let own: http.Server | undefined;
  if (options.server) {
    options.server.on('upgrade', handleUpgrade);
  } else {
    own = http.createServer((req, res) => {
      const body = req.url === '/health' ? JSON.stringify(health()) : '{"error":"no_such_route"}';
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(body);
    });
    own.on('upgrade', handleUpgrade);
    await listen(own, options.port ?? 0, options.host);
  }

  function health(): SyncHealth {
    return { ok: true, documentsLoaded: registry.loadedCount, connections: wss.clients.size };
  }

  return {
    get port() {
      const address = own?.address();
      return typeof address === 'object' && address ? address.port : undefined;
    },
    handleUpgrade,
    health,
    async change(name, edit) {
      const live = await registry.acquire(name);
      try {
        Y.transact(live.doc, () => edit(live.doc), SERVER_ORIGIN);
        await live.settled();
        if (live.failed) throw new Error(`the change to ${name} could not be stored`);
      } finally {
        registry.release(name, live);
      }
    },
    async close() {
      clearInterval(keepalive);
      stopRevocations();
      stopAccessChanges();
      stopAccessChanges();
      options.server?.off('upgrade', handleUpgrade);
      for (const client of wss.clients)
        client.close(CloseCode.shuttingDown, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await index.stop();
      await registry.drain();
      if (own) {
        own.closeAllConnections();
        await new Promise<void>((resolve) => own.close(() => resolve()));
      }
      if (!options.store) await store.close();
    },
  };
}

/**
 * One WebSocket peer. Messages that arrive while the document is still loading are queued, so
 * nobody is answered from an empty document before the stored one is in memory.
 */
function servePeer(ctx: {
  socket: WebSocket;
  req: http.IncomingMessage;
  registry: DocRegistry;
  log: Logger;
  auth: SyncAuth;
  connections: Set<Connection>;
}): void {
  const { socket, req, registry, log, auth, connections } = ctx;
  const raw = (req.url ?? '').split('?')[0]?.slice(SYNC_PATH_PREFIX.length) ?? '';
  let name: string;
  let docName: DocName;
  try {
    name = decodeURIComponent(raw);
    docName = decodeDocName(name);
  } catch (err) {
    log.warn('sync.rejected', { reason: (err as Error).message });
    socket.close(CloseCode.invalidDocName, closeReason((err as Error).message));
    return;
  }

  const peer: Peer = { socket, readOnly: true, awarenessIds: new Set() };
  const queue: Uint8Array[] = [];
  let live: LiveDoc | undefined;
  let closed = false;

  const handle = (doc: LiveDoc, data: Uint8Array): void => {
    if (doc.failed) return;
    try {
      doc.receive(peer, data);
    } catch (err) {
      if (err instanceof MalformedMessage) {
        log.warn('sync.malformed_message', { doc: name, error: err.message });
        socket.close(CloseCode.malformedMessage, closeReason(`malformed message: ${err.message}`));
      } else {
        log.error('sync.message_failed', { doc: name, error: String(err) });
        socket.close(1011, 'the server failed to handle the message');
      }
    }
  };

  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary) {
      socket.close(CloseCode.malformedMessage, 'text messages are not part of the sync protocol');
      return;
    }
    const bytes = toBytes(data);
    if (live) {
      handle(live, bytes);
    } else if (queue.length >= MAX_QUEUED_BEFORE_ADMISSION) {
      // Nobody unchecked may make the server hold much for them while access is being decided.
      socket.close(1008, 'too many messages before the connection was admitted');
    } else {
      queue.push(bytes);
    }
  });
  socket.on('error', (err) => log.warn('sync.socket_error', { doc: name, error: err.message }));
  /** The stored document this connection reads: for `cases`, the caller's own index. */
  let docKey = name;
  socket.on('close', () => {
    closed = true;
    if (connection) connections.delete(connection);
    if (live) {
      live.removePeer(peer);
      registry.release(docKey, live);
    }
  });

  let connection: Connection | undefined;
  const admit = async (): Promise<boolean> => {
    let identity: SyncIdentity;
    try {
      identity = await auth.authenticate(req);
    } catch (err) {
      log.warn('sync.unauthenticated', { doc: name, reason: (err as Error).message });
      const passwordPending =
        (err as { cause?: { code?: unknown } }).cause?.code === 'password-change-required';
      socket.close(
        passwordPending ? CloseCode.passwordChangeRequired : CloseCode.unauthenticated,
        closeReason((err as Error).message),
      );
      return false;
    }
    const access = await auth.access(identity, docName);
    if (access === 'none') {
      log.warn('sync.forbidden', { doc: name, user: identity.userId });
      socket.close(CloseCode.forbidden, 'you have no access to this document');
      return false;
    }
    // Server-owned documents take no client writes, whatever the role.
    peer.readOnly = access === 'read' || isServerOwned(docName);
    if (docName.kind === 'cases') docKey = auth.indexFor(identity);
    if (closed) return false;
    connection = { identity, socket, caseId: docName.kind === 'case' ? docName.id : undefined };
    let reported = false;
    peer.onDroppedWrite = () => {
      // One record per connection: a client retries its unsent update on every sync.
      if (reported) return;
      reported = true;
      auth.writeDropped(identity, name);
    };
    if (docName.kind === 'case' && auth.caseChanged) {
      const caseId = docName.id;
      peer.onWrite = (parts, transaction) =>
        auth.caseChanged?.(identity, caseId, parts, caseEventsOf(transaction.doc, transaction));
    }
    connections.add(connection);
    return true;
  };

  admit()
    .then(async (admitted) => {
      if (!admitted) return;
      const doc = await registry.acquire(docKey).catch((err: unknown) => {
        log.error('sync.load_failed', { doc: name, error: String(err) });
        socket.close(CloseCode.storageFailure, 'the document could not be loaded; retrying');
        return undefined;
      });
      if (!doc) return;
      if (closed) {
        registry.release(docKey, doc);
        return;
      }
      live = doc;
      doc.addPeer(peer);
      for (const data of queue.splice(0)) handle(doc, data);
    })
    .catch((err: unknown) => {
      log.error('sync.admit_failed', { doc: name, error: String(err) });
      socket.close(1011, 'the server could not check access; retrying');
    });
}

/** An admitted connection, kept so that a revocation can close it at once. */
interface Connection {
  identity: SyncIdentity;
  socket: WebSocket;
  /** The case whose document this is, if it is one. */
  caseId: string | undefined;
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** WebSocket close reasons are limited to 123 bytes. */
function closeReason(message: string): string {
  const bytes = Buffer.from(message);
  return bytes.length <= 123 ? message : `${bytes.subarray(0, 120).toString()}...`;
}

function startKeepalive(wss: WebSocketServer): NodeJS.Timeout {
  const alive = new WeakSet<WebSocket>();
  wss.on('connection', (socket: WebSocket) => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
  });
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, KEEPALIVE_MS);
  timer.unref();
  return timer;
}

export function listen(server: http.Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(
          new Error(`port ${port} is already in use (set PORT to a free port)`, { cause: err }),
        );
      } else if (err.code === 'EACCES') {
        reject(new Error(`no permission to listen on port ${port}`, { cause: err }));
      } else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
