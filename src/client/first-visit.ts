// A first visit without the decode worker. When the learned decoder would have to be
// downloaded before it could paint (directWanted: its files are not in the HTTP cache), an image
// with a final layer needs two parts of its stream, which the MRT edge serves as plain images
// (`?part=`, src/format/parts.ts): the placeholder, painted at once, and the final layer, shown
// as an <img> by its URL (so a page can preload it, and the browser caches it and counts it for
// LCP). Neither waits for the worker's script or the runtime: a cold visitor pays the
// placeholder over the plain image. The worker starts once the page's first-visit images are
// shown, to load the learned decoder for later images and the next visit.
import { PART_HEADERS, parseSize, partUrl, placeholderCrop } from '../format/parts.ts';
import { isCached, sameOrigin } from './http-cache.ts';
import { DIRECT_HEAD_BYTES, type HeaderInfo, type StreamHead } from './protocol.ts';

let scriptCached: Promise<boolean | null> | null = null;
/** Origins found not to serve parts: their streams go to the worker at once. */
const noParts = new Set<string>();

/**
 * Whether the decode worker's script is in the HTTP cache: false on a first visit (the learned
 * decoder, which the worker loads, is not either); null when it cannot be asked (another origin).
 * Asked once per page, without touching the network. When it is cached the worker decides
 * with its own probe of the decoder's files (decode/gate.ts).
 */
export function workerScriptCached(url: string): Promise<boolean | null> {
  scriptCached ??= sameOrigin(url) ? isCached(url) : Promise.resolve(null);
  return scriptCached;
}

export interface PlaceholderPart {
  info: HeaderInfo;
  bitmap: ImageBitmap;
  /** the part of the bitmap over the image (it covers the padded learned layer) */
  crop: [number, number];
  /** the final layer's media type, null when the stream has none */
  finalType: string | null;
  /** bytes of the response body */
  bytes: number;
}

/**
 * The placeholder part, decoded; or, from a server that does not serve parts (a static host
 * sends the stream itself, whatever the query), that response (`head`: the worker reads on
 * from it, so no byte comes twice); or neither (an error of the edge's, such as a
 * missing stream: the worker meets it and reports it). Throws when the part cannot be decoded.
 */
export async function fetchPlaceholder(
  src: string,
  signal: AbortSignal,
  priority: RequestPriority,
  /** called with the final layer's media type as soon as the part's headers say it, before its image is decoded */
  onFinalType?: (mime: string) => void,
): Promise<{ part: PlaceholderPart } | { head: StreamHead | null }> {
  const origin = new URL(src).origin;
  if (noParts.has(origin)) return { head: null };
  // The Range bounds what a server without parts sends: the stream's start, what the worker's
  // first request would ask for, which the worker takes over. The edge answers a part whole.
  const res = await fetch(partUrl(src, 'placeholder'), { signal, priority, headers: { Range: `bytes=0-${DIRECT_HEAD_BYTES - 1}` } } as RequestInit);
  if (res.headers.get(PART_HEADERS.part) !== 'placeholder') {
    const stream = res.ok && res.body && res.headers.get('content-type') !== 'application/json';
    if (!stream) {
      void res.body?.cancel().catch(() => undefined);
      return { head: null };
    }
    noParts.add(origin);
    return { head: await streamHead(res) };
  }
  const size = parseSize(res.headers.get(PART_HEADERS.size));
  const image = parseSize(res.headers.get(PART_HEADERS.imageSize));
  const padded = parseSize(res.headers.get(PART_HEADERS.paddedSize));
  if (!size || !image || !padded) throw new Error(`the placeholder part has no valid ${PART_HEADERS.size}, ${PART_HEADERS.imageSize} or ${PART_HEADERS.paddedSize}`);
  const finalType = res.headers.get(PART_HEADERS.finalType);
  if (finalType && finalType !== 'none') onFinalType?.(finalType);
  const blob = await res.blob();
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const total = Number(res.headers.get('X-MRT-Total-Length'));
  const [width, height] = size;
  return {
    part: {
      info: { width, height, imageWidth: image[0], imageHeight: image[1], totalBytes: total > 0 ? total : null, totalTokens: 0, chunkCount: 0 },
      bitmap,
      crop: placeholderCrop({ width, height, paddedWidth: padded[0], paddedHeight: padded[1] }, bitmap.width, bitmap.height),
      finalType: finalType && finalType !== 'none' ? finalType : null,
      bytes: blob.size,
    },
  };
}

/**
 * The stream response for the worker to read on: its body where a stream can be transferred to
 * a worker, else the first DIRECT_HEAD_BYTES of it (the rest aborted: the worker asks for it by Range).
 */
async function streamHead(res: Response): Promise<StreamHead> {
  const head = { status: res.status, contentRange: res.headers.get('content-range'), contentLength: res.headers.get('content-length') };
  if (streamsTransfer()) return { ...head, body: res.body! };
  const reader = res.body!.getReader();
  const buf = new Uint8Array(DIRECT_HEAD_BYTES);
  let n = 0;
  let broken = false;
  try {
    while (n < buf.length) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, buf.length - n);
      buf.set(value.subarray(0, take), n);
      n += take;
    }
  } catch {
    broken = true;
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const bytes = buf.slice(0, n);
  // what was read stands for a 206 of those bytes (a 200 that ignored the Range: of the first ones)
  const total = /\/(\d+)$/.exec(head.contentRange ?? '')?.[1] ?? (res.status === 200 ? head.contentLength : null) ?? '*';
  const asked = broken ? head.contentRange ?? `bytes 0-${DIRECT_HEAD_BYTES - 1}/${total}` : `bytes 0-${bytes.length - 1}/${total}`;
  return { status: 206, contentRange: asked, contentLength: null, bytes: bytes.buffer, broken };
}

let transfers: boolean | undefined;
/** Whether this browser transfers a ReadableStream to a worker (not every one does). */
function streamsTransfer(): boolean {
  if (transfers === undefined) {
    try {
      const s = new ReadableStream();
      structuredClone(s, { transfer: [s as unknown as Transferable] });
      transfers = true;
    } catch {
      transfers = false;
    }
  }
  return transfers;
}

/** Whether the page preloads `url` (`<link rel="preload" href>`): then it is fetched already, as the page's LCP image should be. */
export function preloaded(url: string): boolean {
  for (const l of document.querySelectorAll<HTMLLinkElement>('link[rel~="preload" i]')) if (l.href === url) return true;
  return false;
}

/** Bytes of a response body the page loaded (Resource Timing; 0 when the browser does not say). */
export function bodyBytes(url: string): number {
  const e = performance.getEntriesByName(url, 'resource').at(-1) as PerformanceResourceTiming | undefined;
  return e?.encodedBodySize ?? 0;
}
