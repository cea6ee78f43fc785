import type { Readable } from 'node:stream';
import type { BlobStore, ByteRange, PutOptions, ReadOptions, StoredPart } from './blob-store.ts';

/**
 * A store whose backend may not be reachable yet, such as MinIO still booting after a power cut.
 * Each use tries to open it until one attempt succeeds; until then every call rejects with the
 * opening error (StorageUnavailable) and `health` reports it, while the rest of Exhibit
 * (the app, case sync) keeps serving.
 */
export function deferredStore(
  kind: BlobStore['kind'],
  open: () => Promise<BlobStore>,
  limits: Pick<BlobStore, 'minPartSize' | 'maxParts' | 'protection'>,
): BlobStore {
  let opened: BlobStore | undefined;
  let opening: Promise<BlobStore> | undefined;
  const ready = (): Promise<BlobStore> => {
    if (opened) return Promise.resolve(opened);
    opening ??= open().then(
      (store) => (opened = store),
      (err: unknown) => {
        opening = undefined;
        throw err;
      },
    );
    return opening;
  };

  return {
    kind,
    ...limits,
    startMultipart: async (key: string, options?: { contentType?: string }) =>
      (await ready()).startMultipart(key, options),
    putPart: async (key: string, uploadId: string, partNumber: number, bytes: Buffer) =>
      (await ready()).putPart(key, uploadId, partNumber, bytes),
    completeMultipart: async (key: string, uploadId: string, parts: StoredPart[]) =>
      (await ready()).completeMultipart(key, uploadId, parts),
    abortMultipart: async (key: string, uploadId: string) =>
      (await ready()).abortMultipart(key, uploadId),
    put: async (key: string, body: Readable, options?: PutOptions) => {
      const store = await ready().catch((err: unknown) => {
        // Nobody will read the body now; let the request end instead of stalling.
        body.resume();
        throw err;
      });
      return store.put(key, body, options);
    },
    get: async (key: string, range?: ByteRange, options?: ReadOptions) =>
      (await ready()).get(key, range, options),
    stat: async (key: string, options?: ReadOptions) => (await ready()).stat(key, options),
    protect: async (key: string, until: Date) => (await ready()).protect(key, until),
    setLegalHold: async (key: string, hold: boolean, options?: ReadOptions) =>
      (await ready()).setLegalHold(key, hold, options),
    copy: async (from: string, to: string) => (await ready()).copy(from, to),
    delete: async (key: string) => (await ready()).delete(key),
    async *list(prefix: string) {
      yield* (await ready()).list(prefix);
    },
    health: async () => {
      try {
        return await (await ready()).health();
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
    close: async () => {
      await opened?.close();
    },
  };
}
