import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';
import { freePort } from './net.ts';

export interface SeenRequest {
  method: string;
  path: string;
  offset?: number;
  bytes: number;
  status: number;
}

/** What a test may put in place of the server's answer to one request. */
export type Fault =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** The server handles the request but the answer never arrives. */
  | 'drop-answer';

export interface TusTestServer {
  /** The creation endpoint, e.g. `http://127.0.0.1:1234/api/uploads`. */
  endpoint: string;
  /** Every request in order, with the status it got. */
  requests: SeenRequest[];
  /** The bytes the server holds for an upload address. */
  stored(url: string): Promise<Buffer>;
  /** Overwrites stored bytes, as damaged storage would. */
  damage(url: string, offset: number): Promise<void>;
  /** tus metadata the server decoded for an upload. */
  metadata(url: string): Promise<Record<string, string | null>>;
  close(): Promise<void>;
}

export interface TusTestServerOptions {
  /**
   * Adds what Exhibit's server adds to tus: `Exhibit-Chunk-Size` on creation, `Upload-Checksum`
   * verification (460 on a damaged chunk) and `Exhibit-Sha256` (the server's digest of the
   * stored object, compared with the client's on the completing chunk). Without it this is a
   * plain standard tus server.
   */
  exhibit?: { chunkSize: number };
  /** The bearer token the server accepts; any when unset. */
  token?: string;
  /** Called for every request before it is handled; a fault replaces the answer. */
  fault?: (request: { method: string; path: string; offset?: number }) => Fault | undefined;
}

/**
 * A real tus 1.0.0 server (@tus/server with its file store) on a loopback port, for testing the
 * upload client against the standard implementation rather than against our own reading of it.
 */
export async function startTusServer(options: TusTestServerOptions = {}): Promise<TusTestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'exhibit-tus-'));
  const datastore = new FileStore({ directory });
  const tus = new Server({ path: '/api/uploads', datastore });
  const requests: SeenRequest[] = [];
  const idOf = (url: string) => new URL(url).pathname.split('/').pop() as string;

  const digestOf = async (id: string) =>
    createHash('sha256')
      .update(await readFile(join(directory, id)))
      .digest('hex');

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const offsetHeader = req.headers['upload-offset'];
    const offset = offsetHeader === undefined ? undefined : Number(offsetHeader);
    const seen: SeenRequest = {
      method,
      path,
      ...(offset !== undefined ? { offset } : {}),
      bytes: body.length,
      status: 0,
    };
    requests.push(seen);
    const send = (status: number, headers: Record<string, string>, text = '') => {
      seen.status = status;
      res.writeHead(status, { 'Tus-Resumable': '1.0.0', ...headers });
      res.end(text);
    };
    const refuse = (status: number, error: string, message: string) =>
      send(status, { 'Content-Type': 'application/json' }, JSON.stringify({ error, message }));

    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      refuse(401, 'unauthenticated', 'the access token is missing or has expired');
      return;
    }
    const fault = options.fault?.({ method, path, ...(offset !== undefined ? { offset } : {}) });
    if (fault && fault !== 'drop-answer') {
      send(
        fault.status,
        { 'Content-Type': 'application/json', ...fault.headers },
        fault.body === undefined ? '' : JSON.stringify(fault.body),
      );
      return;
    }
    const exhibit = options.exhibit;
    const claimed = req.headers['exhibit-sha256'];
    if (exhibit && method === 'PATCH') {
      const checksum = String(req.headers['upload-checksum'] ?? '');
      const actual = createHash('sha256').update(body).digest('base64');
      if (checksum && checksum !== `sha256 ${actual}`) {
        refuse(460, 'checksum-mismatch', 'the chunk was damaged on its way; send it again');
        return;
      }
    }

    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const url = `http://${req.headers.host}${req.url}`;
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const answer = await tus.handleWeb(
      new Request(url, { method, headers, ...(hasBody ? { body } : {}) }),
    );
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => (out[name] = value));
    const text = method === 'HEAD' ? '' : await answer.text();

    if (exhibit) {
      const id = method === 'POST' ? idOf(out['location'] ?? 'http://x/') : path.split('/').pop();
      if (method === 'POST' && answer.status === 201) {
        out['exhibit-chunk-size'] = String(exhibit.chunkSize);
      }
      if ((method === 'PATCH' || method === 'HEAD') && answer.status < 300 && id) {
        const upload = await datastore.getUpload(id);
        if (upload.size !== undefined && upload.offset === upload.size) {
          const digest = await digestOf(id);
          if (method === 'PATCH' && claimed !== undefined && claimed !== digest) {
            await datastore.remove(id);
            refuse(
              460,
              'file-mismatch',
              `the whole file did not match: the server computed SHA-256 ${digest}; the upload was discarded`,
            );
            return;
          }
          out['exhibit-sha256'] = digest;
        }
      }
    }
    if (fault === 'drop-answer') {
      seen.status = -1;
      res.socket?.destroy();
      return;
    }
    send(answer.status, out, text);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}/api/uploads`,
    requests,
    stored: (url) => readFile(join(directory, idOf(url))),
    async damage(url, offset) {
      const file = join(directory, idOf(url));
      const bytes = await readFile(file);
      bytes[offset] = (bytes[offset] ?? 0) ^ 0xff;
      await writeFile(file, bytes);
    },
    async metadata(url) {
      const upload = await datastore.getUpload(idOf(url));
      return { ...upload.metadata };
    },
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Runs `work` against a fresh server, and closes the server whatever happens. */
export async function withTusServer<T>(
  options: TusTestServerOptions,
  work: (server: TusTestServer) => Promise<T>,
): Promise<T> {
  const server = await startTusServer(options);
  try {
    return await work(server);
  } finally {
    await server.close();
  }
}
