// The demo's whole-page network throttle: a service worker that delays every same-origin
// request of the page and of its workers (the decoder's runtime and model included) by one
// round trip and delivers all bodies through one shared pipe of the chosen rate, so the
// demo shows what a visitor on that connection would see. Registered by demo.ts as
// /demo-throttle-sw.js?bps=N&rtt=MS. The side-by-side comparison files under /demo/ are
// not throttled: a real page would not load them, and they must not slow the MRT images.
/// <reference lib="webworker" />
export {};
declare const self: ServiceWorkerGlobalScope;

const params = new URL(self.location.href).searchParams;
const BPS = Math.max(1, Number(params.get('bps')) || 0);
const RTT_MS = Math.max(0, Number(params.get('rtt')) || 0);
/** bytes per delivery step: small enough for a smooth byte rate on slow links */
const SLICE = 2048;

/** When the shared pipe is free again (performance.now() ms). */
let pipeFreeAt = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deliver(n: number): Promise<void> {
  const start = Math.max(performance.now(), pipeFreeAt);
  pipeFreeAt = start + (n * 8 * 1000) / BPS;
  await sleep(pipeFreeAt - performance.now());
}

function paced(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const { done, value } = await reader.read();
      if (done) return ctl.close();
      for (let o = 0; o < value.length; o += SLICE) {
        const part = value.subarray(o, Math.min(value.length, o + SLICE));
        await deliver(part.length);
        ctl.enqueue(part);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

async function throttled(req: Request): Promise<Response> {
  await sleep(RTT_MS);
  const res = await fetch(req);
  if (!res.body || res.type === 'opaque') return res;
  return new Response(paced(res.body), { status: res.status, statusText: res.statusText, headers: res.headers });
}

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/demo/') || url.pathname === '/demo-throttle-sw.js') return;
  e.respondWith(throttled(e.request));
});
