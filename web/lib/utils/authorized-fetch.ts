import { sessionManager } from '$lib/managers/session-manager.svelte';
import { asSentence } from '$lib/utils/format';

/** The request got no answer: offline, or the server is down. */
export class ServerUnreachable extends Error {
  override readonly name = 'ServerUnreachable';
  constructor() {
    super('The server cannot be reached. Check the connection and try again.');
  }
}

/** The server answered with an error; `message` is its reason, written for people. */
export class RequestRefused extends Error {
  override readonly name = 'RequestRefused';
  constructor(
    message: string,
    readonly status: number,
    /** The server's machine-readable `error` code, when it sent one. */
    readonly code?: string,
    /** The whole answer, for refusals that carry more than a message. */
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface ApiRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
}

const SIGNED_OUT = 'Your sign-in has ended. Sign in again.';

/**
 * Calls the API as the signed-in user and returns its JSON answer. An access token the server
 * refuses is renewed once and the request repeated (it may have just run out); when renewal is
 * refused too, the session manager ends the session and the app shows the sign-in screen.
 */
export async function authorizedFetch<T>(path: string, request: ApiRequest = {}): Promise<T> {
  let response = await send(path, request);
  if (response.status === 401) {
    const renewal = await sessionManager.renew();
    if (renewal === 'unauthenticated') throw new RequestRefused(SIGNED_OUT, 401);
    if (renewal === 'unreachable') throw new ServerUnreachable();
    response = await send(path, request);
  }
  const payload: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw refusal(response.status, payload);
  return payload as T;
}

function refusal(status: number, payload: unknown): RequestRefused {
  const body = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
    string,
    unknown
  >;
  const { message, error } = body;
  return new RequestRefused(
    typeof message === 'string' && message.trim()
      ? asSentence(message)
      : `The server answered ${status}.`,
    status,
    typeof error === 'string' ? error : undefined,
    body,
  );
}

async function send(path: string, request: ApiRequest): Promise<Response> {
  const token = await sessionManager.token();
  if (!token) {
    if (sessionManager.status === 'signed-out') throw new RequestRefused(SIGNED_OUT, 401);
    throw new ServerUnreachable();
  }
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(path, {
      method: request.method ?? 'GET',
      headers,
      body: request.body === undefined ? null : JSON.stringify(request.body),
      signal: request.signal ?? null,
      credentials: 'same-origin',
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ServerUnreachable();
  }
}
