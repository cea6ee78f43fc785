import {
  fetchTransport,
  ownBuffer,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './tus-client.ts';

/** A chunk that makes no progress for this long is given up, and its upload tried again. */
const STALL_MS = 60_000;

/**
 * The transport the PWA uses: XMLHttpRequest for requests whose upload progress someone watches
 * (only it reports progress within a request body), fetch for the rest. A request in flight when
 * the browser goes offline fails at once rather than hanging until it times out.
 */
export function browserTransport(): Transport {
  const viaFetch = fetchTransport(STALL_MS);
  return async (request) => {
    const offline = new AbortController();
    const onOffline = () => offline.abort(new Error('the device went offline'));
    window.addEventListener('offline', onOffline, { once: true });
    const signal = request.signal
      ? AbortSignal.any([request.signal, offline.signal])
      : offline.signal;
    try {
      return await (request.onProgress ? viaXhr : viaFetch)({ ...request, signal });
    } finally {
      window.removeEventListener('offline', onOffline);
    }
  };
}

function viaXhr(request: TransportRequest): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let settled = false;
    let stall: ReturnType<typeof setTimeout> | undefined;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(stall);
      request.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const watch = () => {
      clearTimeout(stall);
      stall = setTimeout(() => {
        xhr.abort();
        finish(() => reject(new Error(`no progress for ${STALL_MS / 1000} s`)));
      }, STALL_MS);
    };
    function onAbort() {
      xhr.abort();
      finish(() => reject(request.signal?.reason ?? new DOMException('aborted', 'AbortError')));
    }
    if (request.signal?.aborted) {
      onAbort();
      return;
    }
    request.signal?.addEventListener('abort', onAbort, { once: true });
    xhr.open(request.method, request.url);
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      watch();
      request.onProgress?.(e.loaded);
    };
    xhr.onload = () =>
      finish(() =>
        resolve({
          status: xhr.status,
          header: (name) => xhr.getResponseHeader(name) ?? undefined,
          body: xhr.responseText,
        }),
      );
    xhr.onerror = () => finish(() => reject(new Error('the connection failed')));
    watch();
    // The bytes themselves, not a Blob of them: the browser sends them as they are, and tools that
    // inspect requests (DevTools, test interception) always see the body.
    xhr.send(request.body ? ownBuffer(request.body) : null);
  });
}
