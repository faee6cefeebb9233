// Tile requests that wait when the server asks them to. A tile the server is still
// drawing is answered 503 with Retry-After: the map asks again after that many
// seconds (a few times) rather than leaving a hole. A tile answered with the previous
// figures while the new ones are drawn (Tensionmap-Stale) is reported, so that the
// map can fetch it again shortly.

export const PROTOCOL = 'tm-tile';

// MAX_TRIES bounds the requests for one tile; MAX_WAIT (seconds) one wait.
const MAX_TRIES = 5;
const MAX_WAIT = 30;

// viaRetry returns a tile URL template that loads through the retrying protocol.
export function viaRetry(url) {
  return `${PROTOCOL}://${url}`;
}

// retryAfter returns the seconds a Retry-After header asks to wait (delay-seconds
// or an HTTP date), within 0.5 s and MAX_WAIT; 2 when absent or unreadable.
export function retryAfter(value, now = Date.now()) {
  if (value === null || value === undefined || String(value).trim() === '') return 2;
  const v = String(value).trim();
  let s = /^\d+$/.test(v) ? Number(v) : (Date.parse(v) - now) / 1000;
  if (!Number.isFinite(s)) s = 2;
  return Math.min(MAX_WAIT, Math.max(0.5, s));
}

function sleep(seconds, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason || new DOMException('aborted', 'AbortError'));
    const t = setTimeout(resolve, seconds * 1000);
    signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason || new DOMException('aborted', 'AbortError')); }, { once: true });
  });
}

// tileLoader returns MapLibre's addProtocol handler. makeError(status, statusText,
// url) builds the error MapLibre reports for a failed tile; onStale(url) is told of
// a tile given with its previous figures.
export function tileLoader({ makeError, onStale, fetchFn = (...a) => fetch(...a) }) {
  return async (params, abortController) => {
    const url = params.url.slice(PROTOCOL.length + 3);
    const signal = abortController.signal;
    for (let attempt = 1; ; attempt++) {
      const r = await fetchFn(url, { headers: params.headers, credentials: 'same-origin', signal });
      if (r.status === 503 && attempt < MAX_TRIES) {
        await sleep(retryAfter(r.headers.get('Retry-After')), signal);
        continue;
      }
      if (!r.ok) throw makeError(r.status, r.statusText, url);
      if (r.headers.get('Tensionmap-Stale') && onStale) onStale(url);
      return { data: await r.arrayBuffer(), cacheControl: r.headers.get('Cache-Control'), expires: r.headers.get('Expires') };
    }
  };
}
