// Source stage: fetches the stream (or, on refine, the rest of it) and hands its bytes on,
// paced by the page's throttle, until the sink says stop.
//
// A budget is enforced on the wire, whatever the server: every request that has an end
// carries `Range: bytes=a-b`, so that a plain static host (which ignores `?bytes=`) sends
// only the budget. The edge honours `?bytes=` and says so (`X-MRT-Bytes`); a host that
// honours neither sends 200 with the whole file, and the client stops reading at the budget
// and aborts the response. A response that ends before the bytes the image needs (a budget
// smaller than the header; a budget the header's chunk table moves past the window) is
// followed by a Range request from the first byte not held.
import { budgetFor, budgetRung, type BudgetHints } from '../../format/budget.ts';
import { prefixLength, type MrtHeaderInfo } from '../../format/index.ts';
import type { StartOptions, StreamHead } from '../protocol.ts';
import { ClientError } from '../runtime.ts';
import { cfg } from './env.ts';

export interface Sink {
  /** Takes bytes; false when reading should stop (budget reached or stream error). */
  feed(bytes: Uint8Array): Promise<boolean>;
  dead(): boolean;
  /** Bytes taken so far. */
  received(): number;
  /**
   * The absolute offset the image wants bytes up to, now: the budget's cut once the header
   * is known (Infinity: the whole stream), else where the header ends (or a guess at it).
   */
  want(): number;
}

/**
 * How a budgeted read was bounded: 'server' (the server cut the prefix: `?bytes=`/`?q=` or
 * client hints, `X-MRT-Bytes`), 'range' (the server honoured Range: nothing past the
 * budget was sent), 'client' (the server ignored both: the client stopped reading at the
 * budget and aborted the response; what the network had in flight moved anyway).
 */
export type Bound = 'server' | 'range' | 'client';

export interface SourceEnd {
  /** The sink stopped the read. */
  stopped: boolean;
  /** The server served a prefix on purpose and the response reached its announced end. */
  budgeted: boolean;
  /** How the read was bounded (null: it was not: the whole stream, or it ended early). */
  bound: Bound | null;
  /** HTTP requests made. */
  requests: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests one read may make (the header, then the budget): a guard against a server that sends nothing. */
const MAX_REQUESTS = 6;

/** The URL of a request from byte `from` (0: the first request; the budget goes in the query). */
export function requestUrl(opts: StartOptions, totalLength: number | null, from: number): string {
  const b = opts.budget;
  const param = cfg().budgetParam ?? 'bytes';
  if (!param) return opts.url;
  const u = new URL(opts.url);
  if (from > 0) {
    // Refine: ask for the whole stream explicitly, so that a server applying client
    // hints does not cut the Range again.
    if (totalLength === null) return opts.url;
    u.searchParams.set(param, String(totalLength));
    return u.href;
  }
  if (!b || 'hints' in b) return opts.url;
  // the ladder's rung (a URL many budgets share: one CDN cache key); the first request's
  // Range cuts it to the budget itself
  if ('bytes' in b) u.searchParams.set(param, String(budgetRung(b.bytes)));
  else u.searchParams.set('q', String(b.chunks));
  return u.href;
}

/**
 * The end (exclusive) of the first request's Range, before the header is known: a byte
 * budget itself; for hints, the shared rule's cap on an image the size of the element's box
 * (the cap the header will give when the image has the box's aspect; the length of the
 * stream is not known yet, so a cap by the display scale alone is not); Infinity (no
 * Range) for a chunk budget, whose cut needs the chunk table, and for the whole stream.
 */
export function firstWindow(opts: StartOptions): number {
  const b = opts.budget;
  if (!b) return Infinity;
  if ('bytes' in b) return Math.max(1, Math.floor(b.bytes));
  if ('chunks' in b) return Infinity;
  const hints = b.hints as BudgetHints;
  const box = opts.box;
  if (!box || !(box.width > 0 && box.height > 0)) return Infinity;
  const dpr = hints.dpr && hints.dpr > 0 ? hints.dpr : 1;
  const width = Math.max(1, Math.round(hints.widthPx && hints.widthPx > 0 ? hints.widthPx : box.width * dpr));
  const height = Math.max(1, Math.round((width * box.height) / box.width));
  const bytes = budgetFor(hints, { width, height, totalBytes: Infinity }).bytes;
  return Number.isFinite(bytes) ? Math.max(1, Math.floor(bytes)) : Infinity;
}

interface Response1 {
  /** The response ended where the server said it would (or the sink stopped it). */
  whole: boolean;
  stopped: boolean;
  /** 206 */
  ranged: boolean;
  /** The representation's length (Content-Range's total, or a 200's Content-Length), when given. */
  length: number | null;
  /** X-MRT-Bytes / X-MRT-Total-Length of the edge. */
  served: number;
  total: number;
}

/** The page's response for the stream's start (StreamHead) as the Response it was. */
function headResponse(h: StreamHead): Response {
  const headers: Record<string, string> = {};
  if (h.contentRange) headers['Content-Range'] = h.contentRange;
  if (h.contentLength) headers['Content-Length'] = h.contentLength;
  let body = h.body;
  if (!body) {
    // the bytes the page read; then the end, or the break it met
    let given = false;
    body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (!given) {
          given = true;
          c.enqueue(new Uint8Array(h.bytes!));
        } else if (h.broken) c.error(new TypeError('the connection broke off'));
        else c.close();
      },
    });
  }
  return new Response(body, { status: h.status, headers });
}

/**
 * One request for bytes [at, end) (end Infinity: to the end); feeds the sink from `at`. Null when
 * the sink died. `prefetched`: the response the page read already (its first bytes) instead.
 */
async function readOne(url: string, opts: StartOptions, at: number, end: number, signal: AbortSignal, sink: Sink, prefetched?: Response): Promise<Response1 | null> {
  const init: RequestInit & { priority?: string } = { signal };
  if (opts.priority !== 'auto') init.priority = opts.priority;
  if (Number.isFinite(end)) init.headers = { Range: `bytes=${at}-${end - 1}` };
  else if (at > 0) init.headers = { Range: `bytes=${at}-` };
  let res: Response;
  try {
    res = prefetched ?? (await fetch(url, init));
  } catch (e) {
    throw new ClientError('network', `fetch ${url} failed: ${(e as Error).message}`);
  }
  if (!res.ok || !res.body) throw new ClientError('http', `fetch ${url}: HTTP ${res.status}`);
  let skip = 0;
  let expectEnd = Infinity;
  let length: number | null = null;
  const ranged = res.status === 206;
  if (ranged) {
    // (a cross-origin host that does not expose Content-Range: the range asked for)
    const cr = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(res.headers.get('content-range') ?? '');
    const start = cr ? Number(cr[1]) : at;
    expectEnd = cr ? Number(cr[2]) + 1 : end;
    if (cr && cr[3] !== '*') length = Number(cr[3]);
    if (start > at) {
      res.body.cancel().catch(() => undefined);
      throw new ClientError('http', `fetch ${url}: asked for bytes from ${at}, got ${start}-`);
    }
    skip = at - start;
  } else {
    // 200: the whole representation, whatever Range said: skip what we have, and stop at
    // the budget (the sink says when).
    skip = at;
    const cl = Number(res.headers.get('content-length'));
    if (res.headers.get('content-length') !== null && Number.isFinite(cl)) expectEnd = length = cl;
  }
  const served = Number(res.headers.get('x-mrt-bytes')) || 0;
  const total = Number(res.headers.get('x-mrt-total-length')) || 0;
  const reader = res.body.getReader();
  const throttle = opts.throttle > 0 ? opts.throttle : 0;
  let stopped = false;
  let pos = at - skip; // absolute offset of the next body byte
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (signal.aborted) throw e;
        if (pos === at - skip) throw new ClientError('network', `fetch ${url}: ${(e as Error).message}`);
        // the connection broke off: what arrived is a prefix (the stream ends there, truncated)
        break;
      }
      const { done, value } = chunk;
      if (done || sink.dead()) break;
      pos += value.length;
      let v = value;
      if (skip > 0) {
        const n = Math.min(skip, v.length);
        skip -= n;
        v = v.subarray(n);
      }
      // Throttle: slices of 1/20 s worth of bytes, paced.
      const slice = throttle ? Math.max(64, Math.floor(throttle / 20)) : v.length;
      for (let o = 0; o < v.length && !sink.dead(); o += slice) {
        const part = v.subarray(o, Math.min(v.length, o + slice));
        if (throttle) await sleep((part.length / throttle) * 1000);
        if (!(await sink.feed(part))) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
    }
  } finally {
    // stopping early aborts the response: a host that ignored Range sends no more than
    // what is already in flight
    if (stopped || sink.dead()) reader.cancel().catch(() => undefined);
  }
  if (sink.dead()) return null;
  return { whole: stopped || !Number.isFinite(expectEnd) || pos >= expectEnd, stopped, ranged, length, served, total };
}

/**
 * Reads the stream from byte `from` into `sink`, with as many Range requests as the bytes
 * the sink wants take (one, unless the budget is smaller than the header or the first
 * window falls short of the cut); null when the sink died meanwhile.
 */
export async function readStream(opts: StartOptions, totalLength: number | null, from: number, signal: AbortSignal, sink: Sink, firstEnd = Infinity): Promise<SourceEnd | null> {
  const url = requestUrl(opts, totalLength, from);
  let end = from === 0 ? Math.min(firstWindow(opts), firstEnd) : Infinity;
  let at = from;
  let requests = 0;
  let anyRanged = false;
  let rangeIgnored = false;
  let serverCut = false;
  let budgeted = false;
  let stopped = false;
  // the page's first bytes (first-visit.ts) stand for the first request's start
  let head = from === 0 && opts.head ? headResponse(opts.head) : undefined;
  for (;;) {
    const r = await readOne(url, opts, at, end, signal, sink, head);
    head = undefined;
    requests++;
    if (!r) return null;
    anyRanged ||= r.ranged;
    if (!r.ranged && (Number.isFinite(end) || at > 0)) rangeIgnored = true;
    // The edge says when it served a prefix on purpose (explicit budget or client hints);
    // a response that stops short of the prefix it announced was truncated on the way.
    const edgeCut = r.served > 0 && r.total > 0 && r.served < r.total;
    serverCut ||= edgeCut;
    budgeted = ((from === 0 && url !== opts.url) || edgeCut) && r.whole && !(r.served > 0 && !r.ranged && sink.received() < r.served);
    if (r.stopped) {
      stopped = true;
      break;
    }
    if (!r.whole || !r.ranged) break; // truncated on the way, or a 200: all it would send
    const got = sink.received();
    const repr = r.length ?? Infinity;
    const want = Math.min(sink.want(), repr);
    if (got >= want || got <= at || requests >= MAX_REQUESTS) break;
    if (cfg().debug) console.log(`[mrt] ${url}: bytes ${at}-${got - 1} held, the image wants up to ${want}: another Range request`);
    at = got;
    end = want;
  }
  const limited = stopped || budgeted;
  const bound: Bound | null = !limited ? null : serverCut ? 'server' : anyRanged && !rangeIgnored ? 'range' : stopped ? 'client' : null;
  if (cfg().debug && bound) console.log(`[mrt] ${url}: budget held by the ${bound === 'server' ? 'server (?bytes=)' : bound === 'range' ? 'server (Range)' : 'client (the server ignored ?bytes= and Range: response aborted at the budget)'}; ${requests} request(s)`);
  return { stopped, budgeted, bound, requests };
}

/** Bytes [from, end) of the stream in one Range request (a server that ignores Range: read through to them). */
export async function readBytes(opts: StartOptions, totalLength: number, from: number, end: number, signal: AbortSignal): Promise<Uint8Array> {
  const out = new Uint8Array(end - from);
  let n = 0;
  const r = await readOne(requestUrl(opts, totalLength, from), opts, from, end, signal, {
    feed: async (b) => {
      const take = Math.min(b.length, out.length - n);
      out.set(b.subarray(0, take), n);
      n += take;
      return n < out.length;
    },
    dead: () => signal.aborted,
    received: () => from + n,
    want: () => end,
  });
  if (!r) throw new ClientError('network', `fetch ${opts.url}: aborted`);
  if (n < out.length) throw new ClientError('truncated', `fetch ${opts.url}: bytes ${from}-${end - 1} asked, the response ended after ${n}`);
  return out;
}

/** The byte limit a budget sets on a stream with header `info` (a chunk boundary, or anywhere in a raw chunk). */
export function budgetLimit(budget: StartOptions['budget'], info: MrtHeaderInfo): number {
  if (!budget) return Infinity;
  if ('hints' in budget) {
    const minBytes = info.chunkEnds[0] ?? info.headerEnd;
    const bytes = budgetFor(budget.hints as BudgetHints, { width: info.header.width, height: info.header.height, totalBytes: info.totalLength, minBytes }).bytes;
    if (!Number.isFinite(bytes)) return Infinity;
    return prefixLength(info, { bytes });
  }
  if ('chunks' in budget) return prefixLength(info, { chunks: budget.chunks });
  return prefixLength(info, { bytes: budget.bytes });
}
