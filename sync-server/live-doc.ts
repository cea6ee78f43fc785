import type { WebSocket } from 'ws';
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { messageSaved, CloseCode } from '../web/lib/shared/sync-protocol.ts';
import type { DocStore } from './doc-store.ts';
import type { Logger } from './logger.ts';

const messageSync = 0;
const messageAwareness = 1;
const messageQueryAwareness = 3;

export interface Peer {
  readonly socket: WebSocket;
  /** Updates from a read-only peer are dropped (and logged), never applied. Set once admitted. */
  readOnly: boolean;
  /** Awareness client ids this peer announced, removed when it leaves. */
  readonly awarenessIds: Set<number>;
  /** Told when a write from this read-only peer is dropped, so it can be recorded. */
  onDroppedWrite?: () => void;
  /**
   * Told which top-level parts of the document a write from this peer changed, while the
   * transaction is still being finished (its old values are readable, not yet collected).
   */
  onWrite?: (parts: string[], transaction: Y.Transaction) => void;
}

export class MalformedMessage extends Error {
  override readonly name = 'MalformedMessage';
}

/**
 * One document held in memory while peers are connected: applies their updates, stores each one
 * before telling anyone it is saved, and relays updates and presence to the other peers.
 */
export class LiveDoc {
  readonly name: string;
  readonly doc = new Y.Doc({ gc: true });
  readonly awareness: awarenessProtocol.Awareness;
  readonly peers = new Set<Peer>();
  #pendingWrites = 0;
  #writes: Promise<void> = Promise.resolve();
  #failed = false;
  readonly #store: DocStore;
  readonly #log: Logger;
  readonly #onStored: (live: LiveDoc) => void;
  readonly #onFailure: (live: LiveDoc) => void;

  constructor(options: {
    name: string;
    updates: Uint8Array[];
    store: DocStore;
    log: Logger;
    onStored: (live: LiveDoc) => void;
    onFailure: (live: LiveDoc) => void;
  }) {
    this.name = options.name;
    this.#store = options.store;
    this.#log = options.log;
    this.#onStored = options.onStored;
    this.#onFailure = options.onFailure;
    Y.transact(this.doc, () => {
      for (const update of options.updates) Y.applyUpdate(this.doc, update);
    });
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    this.awareness.setLocalState(null);
    this.doc.on('update', (update: Uint8Array, origin: unknown) => this.#onUpdate(update, origin));
    this.doc.on('afterTransaction', (transaction) => this.#noteWrite(transaction));
    this.awareness.on('update', this.#onAwarenessUpdate);
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Resolves once every update received so far is stored (or has failed to be). */
  settled(): Promise<void> {
    return this.#writes;
  }

  #onUpdate(update: Uint8Array, origin: unknown): void {
    this.#pendingWrites++;
    this.#writes = this.#writes
      .then(() => (this.#failed ? undefined : this.#store.append(this.name, update)))
      .then(
        () => {
          this.#pendingWrites--;
          if (this.#pendingWrites === 0 && !this.#failed) {
            this.#broadcastSaved();
            this.#onStored(this);
          }
        },
        (err: unknown) => {
          this.#pendingWrites--;
          this.#fail(err);
        },
      );
    const message = encodeSync((encoder) => syncProtocol.writeUpdate(encoder, update));
    for (const peer of this.peers) if (peer !== origin) send(peer.socket, message);
  }

  /** Tells the writing peer which named parts (`meta`, `evidence`, …) its update changed. */
  #noteWrite(transaction: Y.Transaction): void {
    const peer = transaction.origin as Peer | null;
    if (!peer?.onWrite || !this.peers.has(peer) || transaction.changed.size === 0) return;
    const names = new Map<unknown, string>();
    for (const [name, type] of this.doc.share) names.set(type, name);
    const parts = new Set<string>();
    for (const changed of transaction.changed.keys()) {
      let type: { _item: Y.Item | null } = changed;
      while (type._item) type = type._item.parent as { _item: Y.Item | null };
      const name = names.get(type);
      if (name) parts.add(name);
    }
    if (parts.size > 0) peer.onWrite([...parts].sort(), transaction);
  }

  /**
   * A write that did not reach storage leaves the in-memory document ahead of what is stored.
   * Drop every peer so that they reconnect to a freshly loaded copy and send again what the
   * server lacks; they keep their changes on their devices until a `saved` covers them.
   */
  #fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#log.error('sync.store_failed', { doc: this.name, error: String(err) });
    for (const peer of this.peers) {
      peer.socket.close(
        CloseCode.storageFailure,
        'the server could not store the change; retrying',
      );
    }
    this.#onFailure(this);
  }

  readonly #onAwarenessUpdate = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const changed = [...change.added, ...change.updated, ...change.removed];
    const peer = origin as Peer | undefined;
    if (peer && this.peers.has(peer)) {
      for (const id of change.added) peer.awarenessIds.add(id);
      for (const id of change.removed) peer.awarenessIds.delete(id);
    }
    const message = encodeAwareness(this.awareness, changed);
    for (const p of this.peers) send(p.socket, message);
  };

  /** Greets a new peer: our state vector (sync step 1), who else is here, and what is saved. */
  addPeer(peer: Peer): void {
    this.peers.add(peer);
    send(
      peer.socket,
      encodeSync((encoder) => syncProtocol.writeSyncStep1(encoder, this.doc)),
    );
    const states = this.awareness.getStates();
    if (states.size > 0) send(peer.socket, encodeAwareness(this.awareness, [...states.keys()]));
    if (this.#pendingWrites === 0) send(peer.socket, this.#savedMessage());
  }

  removePeer(peer: Peer): void {
    if (!this.peers.delete(peer)) return;
    if (peer.awarenessIds.size > 0) {
      awarenessProtocol.removeAwarenessStates(this.awareness, [...peer.awarenessIds], null);
    }
  }

  /** Handles one binary message from a peer; throws MalformedMessage when it cannot be read. */
  receive(peer: Peer, data: Uint8Array): void {
    try {
      const decoder = decoding.createDecoder(data);
      const type = decoding.readVarUint(decoder);
      switch (type) {
        case messageSync:
          this.#receiveSync(peer, decoder);
          break;
        case messageAwareness:
          awarenessProtocol.applyAwarenessUpdate(
            this.awareness,
            decoding.readVarUint8Array(decoder),
            peer,
          );
          break;
        case messageQueryAwareness:
          send(
            peer.socket,
            encodeAwareness(this.awareness, [...this.awareness.getStates().keys()]),
          );
          break;
        default:
          throw new MalformedMessage(`unknown message type ${type}`);
      }
    } catch (err) {
      if (err instanceof MalformedMessage) throw err;
      throw new MalformedMessage(`could not decode the message: ${(err as Error).message}`);
    }
  }

  #receiveSync(peer: Peer, decoder: decoding.Decoder): void {
    const subtype = decoding.peekVarUint(decoder);
    if (subtype !== syncProtocol.messageYjsSyncStep1 && peer.readOnly) {
      decoding.readVarUint(decoder);
      // Every client answers our sync step 1 with its own diff, usually empty: not a write.
      if (!isEmptyUpdate(decoding.readVarUint8Array(decoder))) {
        this.#log.warn('sync.write_dropped', { doc: this.name, reason: 'read-only connection' });
        peer.onDroppedWrite?.();
      }
      return;
    }
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, messageSync);
    syncProtocol.readSyncMessage(decoder, encoder, this.doc, peer, (err) => {
      // y-protocols would log and carry on; a peer sending updates we cannot read must hear so.
      throw new MalformedMessage(`the update could not be applied: ${err.message}`);
    });
    if (encoding.length(encoder) > 1) send(peer.socket, encoding.toUint8Array(encoder));
  }

  #savedMessage(): Uint8Array {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, messageSaved);
    encoding.writeVarUint8Array(encoder, Y.encodeStateVector(this.doc));
    return encoding.toUint8Array(encoder);
  }

  #broadcastSaved(): void {
    const message = this.#savedMessage();
    for (const peer of this.peers) send(peer.socket, message);
  }

  destroy(): void {
    this.awareness.destroy();
    this.doc.destroy();
  }
}

function isEmptyUpdate(update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update);
  return structs.length === 0 && ds.clients.size === 0;
}

function encodeSync(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, messageSync);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

function encodeAwareness(awareness: awarenessProtocol.Awareness, clients: number[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, messageAwareness);
  encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(awareness, clients));
  return encoding.toUint8Array(encoder);
}

function send(socket: WebSocket, message: Uint8Array): void {
  if (socket.readyState !== socket.OPEN) return;
  socket.send(message, (err) => {
    if (err) socket.terminate();
  });
}
