// Browser-safe: imported by the PWA and by the sync-server. No Node built-ins.
import * as Y from 'yjs';
import type * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';

/**
 * Message types on the sync socket beyond y-protocols' sync (0), awareness (1), auth (2) and
 * query-awareness (3).
 *
 * `messageSaved` carries the server's state vector after everything it holds for the document is
 * durably stored. A client compares it with its own state vector: when the server's covers it,
 * every change this device made has been acknowledged and will survive a server crash.
 */
export const messageSaved = 100;

/** Close codes the sync-server uses; 4400-4499 tell y-websocket not to reconnect. */
export const CloseCode = {
  malformedMessage: 4400,
  /** Not signed in, or the sign-in ended: refresh the session, then connect again. */
  unauthenticated: 4401,
  forbidden: 4403,
  /** Signed in with an administrator's temporary password: nothing syncs until it is changed. */
  passwordChangeRequired: 4428,
  invalidDocName: 4404,
  storageFailure: 4500,
  /** Access to the document changed; reconnect to be admitted again at the new level. */
  accessChanged: 4502,
  shuttingDown: 4501,
} as const;

/** True when `remote` holds every change recorded in `local`. */
export function stateVectorCovers(remote: Uint8Array, local: Uint8Array): boolean {
  const have = Y.decodeStateVector(remote);
  for (const [client, clock] of Y.decodeStateVector(local)) {
    if ((have.get(client) ?? 0) < clock) return false;
  }
  return true;
}

/** The part of y-websocket's provider that `onSaved` needs; keeps this module free of DOM types. */
interface ProviderWithHandlers {
  messageHandlers: Array<(...args: never[]) => void>;
}

/**
 * Teaches a y-websocket provider the `messageSaved` message: `listener` receives the server's
 * stored state vector each time the server reports one.
 */
export function onSaved(
  provider: ProviderWithHandlers,
  listener: (storedStateVector: Uint8Array) => void,
): void {
  const handler = (_encoder: encoding.Encoder, decoder: decoding.Decoder): void => {
    listener(decoding.readVarUint8Array(decoder));
  };
  provider.messageHandlers[messageSaved] = handler as (...args: never[]) => void;
}
