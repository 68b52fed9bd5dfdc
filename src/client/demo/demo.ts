// Demo page: sample photos as <mrt-img>, next to the best thumbnail that fits the bytes MRT
// has received and a progressive JPEG cut at the same number of bytes. The network setting
// throttles the whole page, runtime and model included (throttle-sw.ts), like the visitor
// benchmark (bench/visitor.ts) does with DevTools.
// The element comes from /mrt-img.js (the shipped module), loaded by index.html.
import type { MrtImg } from '../mrt-img.ts';
import type { MrtProgressDetail } from '../types.ts';
import { NETWORKS } from './networks.ts';

interface DemoThumb {
  /** file size: shown once MRT has received at least this many bytes */
  bytes: number;
  src: string;
  /** what it is, e.g. 'avif 192 px q40' */
  label: string;
}

interface DemoImage {
  name: string;
  src: string;
  jpeg?: string;
  /** best thumbnails (by PSNR) for a ladder of byte budgets, smallest first */
  thumbs?: DemoThumb[];
  width?: number;
  height?: number;
}

const SW_URL = '/demo-throttle-sw.js';

/**
 * Makes the service worker match the chosen network: registered with its rate and RTT (and
 * controlling this page) or gone. Returns false when the page must reload to be throttled
 * (or unthrottled) from its first request on.
 */
async function applyNetwork(name: string): Promise<boolean> {
  if (!('serviceWorker' in navigator)) return true;
  const preset = NETWORKS.find((n) => n.name === name);
  const regs = await navigator.serviceWorker.getRegistrations();
  const want = preset ? new URL(`${SW_URL}?bps=${preset.bps}&rtt=${preset.rttMs}`, location.href).href : null;
  const current = navigator.serviceWorker.controller?.scriptURL ?? null;
  if (!want) {
    await Promise.all(regs.map((r) => r.unregister()));
    return current === null;
  }
  if (current === want) return true;
  await navigator.serviceWorker.register(want, { scope: '/' });
  await navigator.serviceWorker.ready;
  return false;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function imageList(): Promise<DemoImage[]> {
  try {
    const res = await fetch('/demo/images.json');
    if (res.ok) {
      const list = (await res.json()) as (DemoImage | string)[];
      return list.map((e) => (typeof e === 'string' ? { name: e, src: `/i/${e}.mrt`, jpeg: `/demo/jpeg/${e}.jpg` } : e));
    }
  } catch {
    /* fall through to the fixed list */
  }
  return Array.from({ length: 24 }, (_, i) => {
    const name = `kodim${String(i + 1).padStart(2, '0')}`;
    return { name, src: `/i/${name}.mrt`, jpeg: `/demo/jpeg/${name}.jpg` };
  });
}

/** Paints `jpeg` cut after `n` bytes (plus an EOI marker) into `canvas`: what a progressive JPEG shows at that point. */
async function paintJpegPrefix(canvas: HTMLCanvasElement, jpeg: Uint8Array, n: number): Promise<boolean> {
  const cut = Math.min(n, jpeg.length);
  const bytes = new Uint8Array(cut + 2);
  bytes.set(jpeg.subarray(0, cut));
  bytes[cut] = 0xff;
  bytes[cut + 1] = 0xd9;
  try {
    const bm = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bm, 0, 0, canvas.width, canvas.height);
    bm.close();
    return true;
  } catch {
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#888';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    return false;
  }
}

function fmt(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

/** Draws the largest thumbnail that fits `bytes` (upscaled by the browser), or clears to grey. */
async function paintThumb(canvas: HTMLCanvasElement, thumbs: DemoThumb[], bytes: number, cache: Map<string, Promise<ImageBitmap | null>>): Promise<DemoThumb | null> {
  const fit = thumbs.filter((t) => t.bytes <= bytes).pop() ?? null;
  const ctx = canvas.getContext('2d')!;
  const bm = fit ? await getBitmap(fit.src, cache) : null;
  if (!bm) {
    ctx.fillStyle = '#888';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    return null;
  }
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bm, 0, 0, canvas.width, canvas.height);
  return fit;
}

function getBitmap(src: string, cache: Map<string, Promise<ImageBitmap | null>>): Promise<ImageBitmap | null> {
  let p = cache.get(src);
  if (!p) {
    p = fetch(src).then(async (r) => (r.ok ? createImageBitmap(await r.blob()) : null)).catch(() => null);
    cache.set(src, p);
  }
  return p;
}

async function render(): Promise<void> {
  const grid = $('grid');
  grid.replaceChildren();
  const budget = ($('budget') as HTMLSelectElement).value;
  const regen = ($('regen') as HTMLSelectElement).value;
  const count = parseInt(($('count') as HTMLSelectElement).value, 10);
  const list = (await imageList()).slice(0, count);
  for (const [i, im] of list.entries()) {
    const fig = document.createElement('figure');
    const pair = document.createElement('div');
    pair.className = 'pair';
    const left = document.createElement('div');
    const right = document.createElement('div');
    const el = document.createElement('mrt-img') as MrtImg;
    const w = im.width ?? 768;
    const h = im.height ?? 512;
    el.setAttribute('src', im.src);
    el.setAttribute('alt', `Kodak ${im.name}`);
    el.setAttribute('width', String(w));
    el.setAttribute('height', String(h));
    el.setAttribute('loading', i < 4 ? 'eager' : 'lazy');
    el.setAttribute('budget', budget);
    el.setAttribute('regenerate', regen);
    const fb = document.createElement('img');
    fb.alt = `Kodak ${im.name}`;
    fb.loading = 'lazy';
    fb.width = w;
    fb.height = h;
    if (im.jpeg) fb.src = im.jpeg;
    el.append(fb);
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const middle = document.createElement('div');
    const thumbCanvas = document.createElement('canvas');
    thumbCanvas.width = w;
    thumbCanvas.height = h;
    const thumbTag = Object.assign(document.createElement('span'), { className: 'tag', textContent: 'best thumbnail' });
    left.append(el, Object.assign(document.createElement('span'), { className: 'tag', textContent: 'MRT' }));
    middle.append(thumbCanvas, thumbTag);
    right.append(canvas, Object.assign(document.createElement('span'), { className: 'tag', textContent: 'progressive JPEG' }));
    pair.append(left, middle, right);
    const bitmaps = new Map<string, Promise<ImageBitmap | null>>();
    const cap = document.createElement('figcaption');
    cap.textContent = `${im.name}: waiting`;
    fig.append(pair, cap);
    grid.append(fig);

    let jpeg: Uint8Array | null = null;
    const jpegP = im.jpeg
      ? fetch(im.jpeg).then(async (r) => (r.ok ? (jpeg = new Uint8Array(await r.arrayBuffer())) : null)).catch(() => null)
      : Promise.resolve(null);
    let lastKind = '';
    let lastRun = '';
    const update = async (p: MrtProgressDetail | null, state: string) => {
      const bytes = p?.bytes ?? 0;
      await jpegP;
      if (jpeg) await paintJpegPrefix(canvas, jpeg, bytes);
      if (im.thumbs?.length) {
        const t = await paintThumb(thumbCanvas, im.thumbs, bytes, bitmaps);
        thumbTag.textContent = t ? `best thumbnail: ${t.label}, ${fmt(t.bytes)}` : 'best thumbnail: none fits yet';
      }
      const total = p?.totalBytes ? ` of ${fmt(p.totalBytes)}` : '';
      const jt = jpeg ? `; full JPEG ${fmt(jpeg.length)}` : '';
      cap.textContent = `${im.name}: ${fmt(bytes)}${total}, ${p?.chunks ?? 0} chunks, ${p?.tokens ?? 0}/${p?.totalTokens ?? '?'} tokens; ${state}${lastRun}${jt}`;
    };
    el.addEventListener('progress', (e) => void update((e as unknown as CustomEvent<MrtProgressDetail>).detail, lastKind || 'decoding'));
    el.addEventListener('paint', (e) => {
      const d = (e as CustomEvent).detail;
      // images.json may not know the size (e.g. portrait Kodak images): follow the stream's header.
      if (el.naturalWidth && (el.naturalWidth !== w || el.naturalHeight !== h) && el.getAttribute('width') !== String(el.naturalWidth)) {
        el.setAttribute('width', String(el.naturalWidth));
        el.setAttribute('height', String(el.naturalHeight));
        canvas.width = thumbCanvas.width = el.naturalWidth;
        canvas.height = thumbCanvas.height = el.naturalHeight;
        fb.width = el.naturalWidth;
        fb.height = el.naturalHeight;
      }
      lastKind = d.kind === 'placeholder' ? 'placeholder' : d.kind === 'final' ? 'final layer' : d.kind === 'preview' ? 'token preview (decoder still loading)' : `ML paint (${d.backend})`;
      lastRun = d.runMs ? `, ${d.runMs.toFixed(0)} ms` : '';
      void update(el.progress, lastKind);
    });
    el.addEventListener('load', (e) => {
      const d = (e as CustomEvent).detail;
      void update(el.progress, d.complete ? 'complete' : 'partial (click to refine)');
    });
    el.addEventListener('error', (e) => {
      const d = (e as unknown as CustomEvent).detail;
      cap.textContent = `${im.name}: error ${d.code}: ${d.message}${d.fatal ? ' (showing the <img> fallback)' : ''}`;
    });
  }
}

const netSelect = $('throttle') as HTMLSelectElement;
for (const n of [...NETWORKS, { name: 'none', label: 'unthrottled' }]) netSelect.append(new Option(n.label, n.name));
const chosenNet = new URLSearchParams(location.search).get('net') ?? NETWORKS[1]!.name;
netSelect.value = chosenNet;
netSelect.addEventListener('change', () => {
  const u = new URL(location.href);
  u.searchParams.set('net', netSelect.value);
  location.assign(u.href); // the next load applies it to every request from the first
});
for (const id of ['budget', 'regen', 'count']) $(id).addEventListener('change', () => void render());
const directSelect = $('direct') as HTMLSelectElement;
const chosenDirect = new URLSearchParams(location.search).get('direct') === 'auto' ? 'auto' : 'never';
directSelect.value = chosenDirect;
directSelect.addEventListener('change', () => {
  const u = new URL(location.href);
  u.searchParams.set('direct', directSelect.value);
  location.assign(u.href); // a page setting: applies from the first image
});
$('reload').addEventListener('click', () => void render());
const networkReady = applyNetwork(chosenNet).then(
  (ready) => {
    if (ready) {
      sessionStorage.removeItem('mrt-demo-reloaded');
      return true;
    }
    // one reload puts the page under the (new) service worker; never loop if it does not take
    if (sessionStorage.getItem('mrt-demo-reloaded') === chosenNet) {
      $('status').textContent += ' The network throttle did not take effect in this browser: unthrottled.';
      return true;
    }
    sessionStorage.setItem('mrt-demo-reloaded', chosenNet);
    location.reload();
    return false;
  },
  (e) => {
    $('status').textContent += ` Network throttle unavailable (${(e as Error).message}): unthrottled.`;
    return true;
  },
);
Promise.all([customElements.whenDefined('mrt-img'), networkReady]).then(([, ready]) => {
  if (!ready) return;
  const Mrt = customElements.get('mrt-img') as unknown as typeof MrtImg;
  // the page default reads a final layer alone on a first visit; the demo shows the learned layer first unless asked
  Mrt.configure({ directFinal: chosenDirect === 'auto' ? 'auto' : 'never' });
  void render();
  Mrt.backend().then((b) => {
    $('status').textContent += ` Backend: ${b ?? 'none (fallback images)'}.`;
  });
});
