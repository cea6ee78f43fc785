import type { BlobStore } from './blob-store.ts';
import { createFsStore } from './fs-store.ts';
import { createS3Store, type S3StoreConfig } from './s3-store.ts';

export type { BlobStore } from './blob-store.ts';

export type BlobStoreConfig = { kind: 'fs'; dir: string } | ({ kind: 's3' } & S3StoreConfig);

/** Opens the configured backend; resolves once it is reachable and writable. */
export function createBlobStore(config: BlobStoreConfig): Promise<BlobStore> {
  switch (config.kind) {
    case 'fs':
      return createFsStore(config.dir);
    case 's3':
      return createS3Store(config);
  }
}
