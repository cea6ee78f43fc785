import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { onSaved, stateVectorCovers } from '../../web/lib/shared/sync-protocol.ts';
import { withTimeout } from './async.ts';

/** A y-websocket client as the PWA uses it, plus a promise for "the server stored everything". */
export class TestPeer {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  #stored: Uint8Array = new Uint8Array([0]);
  #waiters: Array<() => void> = [];

  constructor(serverUrl: string, name: string, token: string, doc = new Y.Doc()) {
    this.doc = doc;
    this.provider = new WebsocketProvider(serverUrl, name, doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
      params: { access_token: token },
    });
    onSaved(this.provider, (sv) => {
      this.#stored = sv;
      this.#check();
    });
    doc.on('update', () => this.#check());
  }

  get saved(): boolean {
    return stateVectorCovers(this.#stored, Y.encodeStateVector(this.doc));
  }

  #check(): void {
    if (!this.saved) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  synced(timeoutMs = 5000): Promise<void> {
    if (this.provider.synced) return Promise.resolve();
    return withTimeout(
      new Promise((resolve) => this.provider.once('sync', () => resolve())),
      timeoutMs,
      'sync',
    );
  }

  /** Resolves when the server reports a stored state that covers everything this peer has. */
  savedOnServer(timeoutMs = 5000): Promise<void> {
    if (this.saved && this.provider.wsconnected) return Promise.resolve();
    return withTimeout(new Promise((resolve) => this.#waiters.push(resolve)), timeoutMs, 'saved');
  }

  destroy(): void {
    this.provider.destroy();
    this.doc.destroy();
  }
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A bare WebSocket to send hand-made frames and see how the server closes. */
export async function rawSocket(url: string): Promise<{
  socket: WebSocket;
  messages: Uint8Array[];
  closed: Promise<{ code: number; reason: string }>;
}> {
  const socket = new WebSocket(url);
  const messages: Uint8Array[] = [];
  socket.on('message', (data: Buffer) => messages.push(new Uint8Array(data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, messages, closed };
}
