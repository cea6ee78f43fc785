import { liveQuery } from 'dexie';
import { localDb, type OutboxFile } from '$lib/db/local-db';
import { syncManager } from '$lib/managers/sync-manager.svelte';
import { addEvidence, setEvidenceState } from '$lib/shared/case-doc';
import { encodeDocName, newId } from '$lib/shared/doc-names';
import { sha256OfFile } from '$lib/utils/sha256';

export interface UploadProgress {
  phase: 'hashing' | 'waiting' | 'uploading' | 'failed';
  done: number;
  total: number;
  error?: string;
}

const RETRY_DELAYS_MS = [1000, 3000, 10_000, 30_000];

/**
 * Evidence files on their way to the server. A file is hashed and recorded in its case at once,
 * its bytes are kept in IndexedDB, and it is sent when the server is reachable; the record turns
 * "verified" only when the server's SHA-256 of what it stored matches the one computed here.
 */
class UploadManager {
  #progress = $state<Record<string, UploadProgress>>({});
  #queue = $state<OutboxFile[]>([]);
  #running = false;
  #wake: (() => void) | undefined;
  #subscription: { unsubscribe(): void } | undefined;
  /** Gives a current access token, renewing the sign-in if needed; undefined when signed out. */
  #token: () => Promise<string | undefined> = async () => undefined;
  #listening = false;

  get progress(): Readonly<Record<string, UploadProgress>> {
    return this.#progress;
  }

  get queued(): readonly OutboxFile[] {
    return this.#queue;
  }

  /** Starts sending the signed-in user's queued files. */
  start(token: () => Promise<string | undefined>): void {
    if (typeof window === 'undefined') return;
    this.stop();
    this.#token = token;
    this.#subscription = liveQuery(() => localDb().outbox.orderBy('addedAt').toArray()).subscribe({
      next: (files) => {
        this.#queue = files;
        this.#wake?.();
      },
      error: (err: unknown) => console.error('cannot read the upload queue', err),
    });
    if (!this.#listening) {
      this.#listening = true;
      window.addEventListener('online', () => this.#wake?.());
    }
    void this.#run();
  }

  /** Stops on sign-out; queued files stay on the device for when this user signs in again. */
  stop(): void {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    this.#queue = [];
    this.#progress = {};
    this.#token = async () => undefined;
    this.#wake?.();
  }

  /** Hashes each file, records it in the case, and queues its bytes for upload. */
  async add(caseId: string, files: File[]): Promise<void> {
    const name = encodeDocName({ kind: 'case', id: caseId });
    const handle = syncManager.open(name);
    try {
      await handle.ready;
      for (const file of files) {
        const evidenceId = newId();
        this.#set(evidenceId, { phase: 'hashing', done: 0, total: file.size });
        const sha256 = await sha256OfFile(file, (done) =>
          this.#set(evidenceId, { phase: 'hashing', done, total: file.size }),
        );
        const addedAt = new Date().toISOString();
        const type = file.type || 'application/octet-stream';
        await localDb().outbox.put({
          evidenceId,
          caseId,
          sha256,
          name: file.name,
          type,
          size: file.size,
          blob: file,
          addedAt,
          attempts: 0,
        });
        addEvidence(handle.doc, {
          id: evidenceId,
          name: file.name,
          type,
          size: file.size,
          sha256,
          addedAt,
          state: 'queued',
        });
        this.#set(evidenceId, { phase: 'waiting', done: 0, total: file.size });
      }
    } finally {
      syncManager.release(handle);
    }
  }

  /** Sends a failed file again. */
  async retry(evidenceId: string): Promise<void> {
    await localDb().outbox.update(evidenceId, { attempts: 0, lastError: undefined });
    this.#set(evidenceId, { phase: 'waiting', done: 0, total: 0 });
    this.#wake?.();
  }

  #set(id: string, progress: UploadProgress): void {
    this.#progress = { ...this.#progress, [id]: progress };
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    for (;;) {
      const next = this.#queue.find((f) => f.lastError === undefined);
      if (!next || !navigator.onLine) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, 5000);
        });
        continue;
      }
      const token = await this.#token();
      if (!token) {
        // Offline on the last session, or signed out: wait until a sign-in is current again.
        await new Promise((resolve) => setTimeout(resolve, 5000));
        continue;
      }
      await this.#send(next, token);
    }
  }

  async #send(file: OutboxFile, token: string): Promise<void> {
    this.#set(file.evidenceId, { phase: 'uploading', done: 0, total: file.size });
    await this.#setState(file, 'uploading');
    const result = await putBlob(file, token, (done) =>
      this.#set(file.evidenceId, { phase: 'uploading', done, total: file.size }),
    );
    if (result.ok) {
      await this.#setState(file, 'verified');
      await localDb().outbox.delete(file.evidenceId);
      const { [file.evidenceId]: _, ...rest } = this.#progress;
      this.#progress = rest;
      return;
    }
    if (result.permanent) {
      await localDb().outbox.update(file.evidenceId, { lastError: result.message });
      await this.#setState(file, 'failed', result.message);
      this.#set(file.evidenceId, {
        phase: 'failed',
        done: 0,
        total: file.size,
        error: result.message,
      });
      return;
    }
    const attempts = file.attempts + 1;
    await localDb().outbox.update(file.evidenceId, { attempts });
    await this.#setState(file, 'queued');
    this.#set(file.evidenceId, {
      phase: 'waiting',
      done: 0,
      total: file.size,
      error: result.message,
    });
    const delay = RETRY_DELAYS_MS[Math.min(attempts - 1, RETRY_DELAYS_MS.length - 1)] ?? 30_000;
    await new Promise((r) => setTimeout(r, delay));
  }

  async #setState(
    file: OutboxFile,
    state: 'queued' | 'uploading' | 'verified' | 'failed',
    error?: string,
  ): Promise<void> {
    const handle = syncManager.open(encodeDocName({ kind: 'case', id: file.caseId }));
    try {
      await handle.ready;
      setEvidenceState(handle.doc, file.evidenceId, state, error);
    } finally {
      syncManager.release(handle);
    }
  }
}

type PutResult = { ok: true } | { ok: false; permanent: boolean; message: string };

/** XMLHttpRequest rather than fetch: only it reports upload progress. */
function putBlob(
  file: OutboxFile,
  token: string,
  onProgress: (done: number) => void,
): Promise<PutResult> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/api/blobs/${file.sha256}?case=${encodeURIComponent(file.caseId)}`);
    xhr.setRequestHeader('Content-Type', file.type);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status === 200 || xhr.status === 201) {
        resolve({ ok: true });
        return;
      }
      const message = serverMessage(xhr.responseText) ?? `the server answered ${xhr.status}`;
      // 401: the sign-in ran out mid-queue; the next attempt gets a renewed token.
      const permanent = xhr.status >= 400 && xhr.status < 500 && xhr.status !== 401;
      resolve({ ok: false, permanent, message });
    };
    xhr.onerror = () =>
      resolve({
        ok: false,
        permanent: false,
        message: 'The server could not be reached; will retry.',
      });
    xhr.send(file.blob);
  });
}

function serverMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

export const uploadManager = new UploadManager();
