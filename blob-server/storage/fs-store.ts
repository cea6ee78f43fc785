import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import {
  copyFile,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  type FileHandle,
} from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  BadRequest,
  BlobNotFound,
  ExhibitError,
  MultipartNotFound,
  StorageUnavailable,
} from '../errors.ts';
import type {
  BlobInfo,
  BlobReadResult,
  BlobStore,
  ByteRange,
  PutOptions,
  StoredPart,
} from './blob-store.ts';
import { assertPartList, assertValidPartNumber } from './multipart.ts';
import { clampRange } from './byte-range.ts';
import { assertValidKey, assertValidPrefix } from './keys.ts';

/**
 * Layout under the root:
 *
 *   objects/<segment>/…/<segment>/~data        the bytes of the object with that key
 *   objects/<segment>/…/<segment>/~meta.json   its content type
 *   .tmp/                                      writes in progress, renamed into place when done
 *   .multipart/<upload id>/upload.json         a multipart write: its key and content type
 *   .multipart/<upload id>/<part>.<etag>       one part as sent; a part sent again gets a new etag
 *
 * Each key gets a directory rather than a file so that 'a' and 'a/b' can both exist, as they can
 * in S3. '~' cannot occur in a key segment, so the two fixed names never collide with a child key,
 * and segments keep their full 255 characters as directory names.
 */
const OBJECTS_DIR = 'objects';
const TMP_DIR = '.tmp';
const MULTIPART_DIR = '.multipart';
const UPLOAD_FILE = 'upload.json';
const MiB = 1024 * 1024;
const DATA_FILE = '~data';
const META_FILE = '~meta.json';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const STALE_TEMP_MS = 60 * 60 * 1000;
/** A concurrent delete may prune the directory a put has just created; retrying is enough. */
const COMMIT_ATTEMPTS = 3;

export async function createFsStore(rootDir: string): Promise<BlobStore> {
  const root = resolve(rootDir);
  const dirs = {
    objects: join(root, OBJECTS_DIR),
    tmp: join(root, TMP_DIR),
    multipart: join(root, MULTIPART_DIR),
  };
  try {
    await mkdir(dirs.objects, { recursive: true });
    await mkdir(dirs.tmp, { recursive: true });
    await mkdir(dirs.multipart, { recursive: true });
    await probeWritable(dirs.tmp);
  } catch (err) {
    throw new StorageUnavailable(
      `Blob storage directory ${root} cannot be created or written: ${messageOf(err)}`,
      { cause: err },
    );
  }
  await removeStaleTempFiles(dirs.tmp);
  return new FsStore(root, dirs.objects, dirs.tmp, dirs.multipart);
}

class FsStore implements BlobStore {
  readonly kind = 'fs';
  // A disk has no minimum part; the same sizes as S3 keep callers' behaviour identical.
  readonly minPartSize = 5 * MiB;
  readonly maxParts = 10_000;
  readonly protection = 'none';

  constructor(
    private readonly root: string,
    private readonly objectsDir: string,
    private readonly tmpDir: string,
    private readonly multipartDir: string,
  ) {}

  async startMultipart(key: string, options?: { contentType?: string }): Promise<string> {
    assertValidKey(key);
    const uploadId = randomUUID();
    const dir = join(this.multipartDir, uploadId);
    try {
      await mkdir(dir);
      const upload = { key, contentType: options?.contentType ?? DEFAULT_CONTENT_TYPE };
      await writeFileDurably(join(dir, UPLOAD_FILE), JSON.stringify(upload));
      await syncDir(this.multipartDir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw this.failure(err, `start storing ${key}`);
    }
    return uploadId;
  }

  async putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    bytes: Buffer,
  ): Promise<StoredPart> {
    assertValidPartNumber(partNumber, this.maxParts);
    const dir = await this.openMultipart(key, uploadId);
    const etag = randomUUID();
    const tmp = this.tempPath();
    try {
      await writeFileDurably(tmp, bytes);
      await rename(tmp, join(dir, `${partNumber}.${etag}`));
      await syncDir(dir);
    } catch (err) {
      await rm(tmp, { force: true });
      throw this.failure(err, `store part ${partNumber} of ${key}`);
    }
    // Older copies of this part can never be completed any more.
    for (const name of await readdir(dir)) {
      if (name.startsWith(`${partNumber}.`) && name !== `${partNumber}.${etag}`) {
        await rm(join(dir, name), { force: true });
      }
    }
    return { part: partNumber, etag, size: bytes.length };
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: StoredPart[],
  ): Promise<{ size: number }> {
    const dir = await this.openMultipart(key, uploadId);
    assertPartList(parts, this.minPartSize);
    const upload = await readUpload(dir);
    const tmpData = this.tempPath();
    const tmpMeta = `${tmpData}.meta`;
    try {
      const handle = await openForWriting(tmpData);
      let size = 0;
      try {
        for (const part of parts) {
          const path = join(dir, `${part.part}.${part.etag}`);
          const source = await open(path, 'r').catch((err: unknown) => {
            if (isMissing(err)) {
              throw new BadRequest(
                `part ${part.part} with etag ${part.etag} of ${key} was never stored or was replaced`,
              );
            }
            throw err;
          });
          try {
            for await (const chunk of source.createReadStream({ autoClose: false })) {
              await writeAll(handle, chunk as Buffer, tmpData);
              size += (chunk as Buffer).length;
            }
          } finally {
            await source.close();
          }
        }
        await sync(handle, tmpData);
      } finally {
        await handle.close();
      }
      await writeFileDurably(tmpMeta, JSON.stringify({ contentType: upload.contentType }));
      await this.commit(key, tmpData, tmpMeta);
      await rm(dir, { recursive: true, force: true });
      return { size };
    } catch (err) {
      await rm(tmpData, { force: true });
      await rm(tmpMeta, { force: true });
      throw this.failure(err, `finish storing ${key}`);
    }
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    assertValidKey(key);
    if (!UPLOAD_ID.test(uploadId)) return;
    await rm(join(this.multipartDir, uploadId), { recursive: true, force: true });
  }

  private async openMultipart(key: string, uploadId: string): Promise<string> {
    assertValidKey(key);
    const missing = new MultipartNotFound(
      `no unfinished upload ${JSON.stringify(uploadId)} of ${JSON.stringify(key)}: it was completed, aborted or never started`,
    );
    if (!UPLOAD_ID.test(uploadId)) throw missing;
    const dir = join(this.multipartDir, uploadId);
    try {
      const upload = await readUpload(dir);
      if (upload.key !== key) throw missing;
    } catch (err) {
      if (isMissing(err)) throw missing;
      throw err;
    }
    return dir;
  }

  async put(key: string, body: Readable, options?: PutOptions): Promise<{ size: number }> {
    assertValidKey(key);
    const tmpData = this.tempPath();
    const tmpMeta = `${tmpData}.meta`;
    try {
      const size = await writeStreamDurably(tmpData, body);
      const meta = { contentType: options?.contentType ?? DEFAULT_CONTENT_TYPE };
      await writeFileDurably(tmpMeta, JSON.stringify(meta));
      await this.commit(key, tmpData, tmpMeta);
      return { size };
    } catch (err) {
      body.destroy();
      await rm(tmpData, { force: true });
      await rm(tmpMeta, { force: true });
      throw err;
    }
  }

  /**
   * A disk cannot promise write-once storage: anyone with write access to DATA_DIR can change
   * files. Evidence is still never changed by Exhibit, and its SHA-256 shows any change.
   */
  async protect(key: string): Promise<{ versionId?: string }> {
    assertValidKey(key);
    return {};
  }

  /** Files cannot be held; anyone who can write to DATA_DIR could lift it anyway. */
  async setLegalHold(key: string): Promise<void> {
    if (!(await this.stat(key))) throw new BlobNotFound(`no object ${key}`);
  }

  async get(key: string, range?: ByteRange): Promise<BlobReadResult> {
    assertValidKey(key);
    const handle = await this.openData(key);
    try {
      const { size } = await handle.stat();
      const served = clampRange(range, size);
      const contentType = await this.readContentType(key);
      if (served.end < served.start) {
        await handle.close();
        return { body: Readable.from([]), size, contentType, ...served };
      }
      const body = handle.createReadStream({ start: served.start, end: served.end });
      return { body, size, contentType, ...served };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(key: string): Promise<BlobInfo | null> {
    assertValidKey(key);
    try {
      const { size } = await stat(join(this.keyDir(key), DATA_FILE));
      return { size, contentType: await this.readContentType(key) };
    } catch (err) {
      if (isMissing(err)) return null;
      throw this.failure(err, `read ${key}`);
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    assertValidKey(fromKey);
    assertValidKey(toKey);
    const tmpData = this.tempPath();
    const tmpMeta = `${tmpData}.meta`;
    try {
      await this.copyIntoTemp(fromKey, tmpData, tmpMeta);
      await this.commit(toKey, tmpData, tmpMeta);
    } catch (err) {
      await rm(tmpData, { force: true });
      await rm(tmpMeta, { force: true });
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    const dir = this.keyDir(key);
    try {
      // The data file goes first: once it is gone the object is gone, whatever happens next.
      await rm(join(dir, DATA_FILE), { force: true });
      await rm(join(dir, META_FILE), { force: true });
    } catch (err) {
      if (!isMissing(err)) throw this.failure(err, `delete ${key}`);
    }
    await this.pruneEmptyDirs(key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    assertValidPrefix(prefix);
    const cut = prefix.lastIndexOf('/');
    const parentKey = prefix.slice(0, Math.max(cut, 0));
    const dir = parentKey === '' ? this.objectsDir : this.keyDir(parentKey);
    yield* this.keysBelow(dir, cut === -1 ? '' : `${parentKey}/`, prefix.slice(cut + 1));
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    try {
      await probeWritable(this.tmpDir);
      await stat(this.objectsDir);
      return { ok: true, detail: `filesystem store at ${this.root} is writable` };
    } catch (err) {
      return { ok: false, detail: `filesystem store at ${this.root}: ${messageOf(err)}` };
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls; readers own the handles they were given.
  }

  /**
   * Keys strictly below `dir`, in lexicographic order. A child directory 'c' stands for the key
   * '<keyPrefix>c' and for everything under '<keyPrefix>c/'. Sorting 'c' and 'c/' as separate
   * entries gives the exact key order ('a' < 'a-x' < 'a-x/…' < 'a/…') without collecting keys.
   */
  private async *keysBelow(dir: string, keyPrefix: string, partial: string): AsyncIterable<string> {
    const children = (await this.childSegments(dir)).filter((name) => name.startsWith(partial));
    const entries = children
      .flatMap((name) => [
        { order: name, name, isSubtree: false },
        { order: `${name}/`, name, isSubtree: true },
      ])
      .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    for (const entry of entries) {
      const childDir = join(dir, entry.name);
      if (entry.isSubtree) {
        yield* this.keysBelow(childDir, `${keyPrefix}${entry.name}/`, '');
      } else if (await this.exists(join(childDir, DATA_FILE))) {
        yield `${keyPrefix}${entry.name}`;
      }
    }
  }

  /**
   * Renames finished temp files into place. The data rename is the moment the object changes; a
   * reader racing an overwrite may see the new content type with the old bytes for that instant,
   * but never partial bytes.
   */
  private async commit(key: string, tmpData: string, tmpMeta: string): Promise<void> {
    const dir = this.keyDir(key);
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dir, { recursive: true });
        await rename(tmpMeta, join(dir, META_FILE));
        await rename(tmpData, join(dir, DATA_FILE));
        await syncDir(dir);
        return;
      } catch (err) {
        if (isMissing(err) && attempt < COMMIT_ATTEMPTS) continue;
        throw this.failure(err, `store ${key}`);
      }
    }
  }

  private async copyIntoTemp(fromKey: string, tmpData: string, tmpMeta: string): Promise<void> {
    const fromDir = this.keyDir(fromKey);
    try {
      // FICLONE makes the copy a cheap reflink where the filesystem supports it.
      await copyFile(join(fromDir, DATA_FILE), tmpData, constants.COPYFILE_FICLONE);
    } catch (err) {
      if (isMissing(err)) throw notFound(fromKey);
      throw this.failure(err, `copy ${fromKey}`);
    }
    await syncFile(tmpData);
    const meta = { contentType: await this.readContentType(fromKey) };
    await writeFileDurably(tmpMeta, JSON.stringify(meta));
  }

  private async openData(key: string): Promise<FileHandle> {
    try {
      return await open(join(this.keyDir(key), DATA_FILE), 'r');
    } catch (err) {
      if (isMissing(err)) throw notFound(key);
      throw this.failure(err, `read ${key}`);
    }
  }

  private async readContentType(key: string): Promise<string> {
    try {
      const meta: unknown = JSON.parse(await readFile(join(this.keyDir(key), META_FILE), 'utf8'));
      const contentType = (meta as { contentType?: unknown } | null)?.contentType;
      return typeof contentType === 'string' ? contentType : DEFAULT_CONTENT_TYPE;
    } catch {
      // Only a damaged tree lacks it (puts rename it in before the data); the bytes still
      // matter more than their label.
      return DEFAULT_CONTENT_TYPE;
    }
  }

  /** Removes directories left empty by a delete, so deleted trees do not slow down listing. */
  private async pruneEmptyDirs(key: string): Promise<void> {
    const segments = key.split('/');
    for (let depth = segments.length; depth > 0; depth--) {
      try {
        await rmdir(join(this.objectsDir, ...segments.slice(0, depth)));
      } catch {
        return; // not empty (other keys live here), already gone, or in use by a put
      }
    }
  }

  private async childSegments(dir: string): Promise<string[]> {
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch (err) {
      if (isMissing(err)) return [];
      throw this.failure(err, 'list keys');
    }
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw this.failure(err, 'list keys');
    }
  }

  private keyDir(key: string): string {
    return join(this.objectsDir, ...key.split('/'));
  }

  private tempPath(): string {
    return join(this.tmpDir, `${randomUUID()}.part`);
  }

  private failure(err: unknown, action: string): Error {
    if (err instanceof ExhibitError) return err;
    return new StorageUnavailable(
      `Filesystem store at ${this.root} could not ${action}: ${messageOf(err)}`,
      { cause: err },
    );
  }
}

/**
 * Copies the stream into a new file and flushes it to disk. Errors of the source stream reach
 * the caller unchanged (they are the caller's); errors writing the file become StorageUnavailable.
 */
async function writeStreamDurably(path: string, body: Readable): Promise<number> {
  const handle = await openForWriting(path);
  try {
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      await writeAll(handle, bytes, path);
      size += bytes.length;
    }
    await sync(handle, path);
    return size;
  } finally {
    await handle.close();
  }
}

const UPLOAD_ID = /^[0-9a-f-]{36}$/;

async function readUpload(dir: string): Promise<{ key: string; contentType: string }> {
  return JSON.parse(await readFile(join(dir, UPLOAD_FILE), 'utf8')) as {
    key: string;
    contentType: string;
  };
}

async function writeFileDurably(path: string, contents: string | Buffer): Promise<void> {
  const handle = await openForWriting(path);
  try {
    await writeAll(handle, typeof contents === 'string' ? Buffer.from(contents) : contents, path);
    await sync(handle, path);
  } finally {
    await handle.close();
  }
}

async function openForWriting(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'wx');
  } catch (err) {
    throw new StorageUnavailable(`Cannot create ${path}: ${messageOf(err)}`, { cause: err });
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer, path: string): Promise<void> {
  try {
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, offset);
      offset += bytesWritten;
    }
  } catch (err) {
    throw new StorageUnavailable(`Cannot write ${path}: ${messageOf(err)}`, { cause: err });
  }
}

async function sync(handle: FileHandle, path: string): Promise<void> {
  try {
    await handle.sync();
  } catch (err) {
    throw new StorageUnavailable(`Cannot flush ${path} to disk: ${messageOf(err)}`, { cause: err });
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await sync(handle, path);
  } finally {
    await handle.close();
  }
}

/** Makes the renames into `dir` durable, not just the file contents. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function probeWritable(tmpDir: string): Promise<void> {
  const probe = join(tmpDir, `probe-${randomUUID()}`);
  try {
    await writeFileDurably(probe, 'ok');
  } finally {
    await rm(probe, { force: true });
  }
}

/** Temp files of writes that were cut short by a crash; an hour is far beyond any live write. */
async function removeStaleTempFiles(tmpDir: string): Promise<void> {
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const name of await readdir(tmpDir)) {
    const path = join(tmpDir, name);
    try {
      if ((await stat(path)).mtimeMs < cutoff) await rm(path, { force: true, recursive: true });
    } catch {
      // Gone already, or a write finished it meanwhile: either way nothing to clean.
    }
  }
}

/** ENOTDIR too: a stray file where a key directory should be means the key is not there. */
function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function notFound(key: string): BlobNotFound {
  return new BlobNotFound(`No blob is stored under the key ${JSON.stringify(key)}`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
