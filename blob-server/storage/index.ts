import type { BlobStore } from './blob-store.ts';
import { createFsStore } from './fs-store.ts';
import { createS3Store, s3Capabilities, type S3StoreConfig } from './s3-store.ts';
import { deferredStore } from './deferred-store.ts';

export type { BlobStore } from './blob-store.ts';

export type BlobStoreConfig = { kind: 'fs'; dir: string } | ({ kind: 's3' } & S3StoreConfig);

/**
 * Opens the configured backend. The filesystem store must be usable at once (a bad DATA_DIR is a
 * configuration error); an S3 store may come up later, so it is opened on first use and retried.
 */
export async function createBlobStore(config: BlobStoreConfig): Promise<BlobStore> {
  switch (config.kind) {
    case 'fs':
      return createFsStore(config.dir);
    case 's3':
      return deferredStore('s3', () => createS3Store(config), s3Capabilities(config));
  }
}
