import http from 'node:http';

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body as UTF-8 text (error answers are JSON). */
  text: string;
}

/**
 * One HTTP request exactly as given (no fetch niceties, no connection reuse: a pooled socket to
 * a server a test has killed would only reset), so tests can send what a misbehaving client would.
 */
export function rawRequest(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: Buffer; timeoutMs?: number },
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: init.method, headers: init.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(init.timeoutMs ?? 60_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.end(init.body);
  });
}

/** A JSON API call as a signed-in caller; the answer's JSON body, or {} when it has none. */
export async function apiCall(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
