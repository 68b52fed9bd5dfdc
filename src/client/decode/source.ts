// Source stage: fetches the stream (or, on refine, the rest of it with a Range request) and
// hands its bytes on, paced by the page's throttle, until the sink says stop.
import { budgetFor, type BudgetHints } from '../../format/budget.ts';
import { prefixLength, type MrtHeaderInfo } from '../../format/index.ts';
import type { StartOptions } from '../protocol.ts';
import { ClientError } from '../runtime.ts';
import { cfg } from './env.ts';

export interface Sink {
  /** Takes bytes; false when reading should stop (budget reached or stream error). */
  feed(bytes: Uint8Array): Promise<boolean>;
  dead(): boolean;
  /** Bytes taken so far. */
  received(): number;
}

export interface SourceEnd {
  /** The sink stopped the read. */
  stopped: boolean;
  /** The server served a prefix on purpose and the response reached its announced end. */
  budgeted: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  if ('bytes' in b) u.searchParams.set(param, String(b.bytes));
  else u.searchParams.set('q', String(b.chunks));
  return u.href;
}

/** Reads the response from byte `from` into `sink`; null when the sink died meanwhile. */
export async function readStream(opts: StartOptions, totalLength: number | null, from: number, signal: AbortSignal, sink: Sink): Promise<SourceEnd | null> {
  const url = requestUrl(opts, totalLength, from);
  const init: RequestInit & { priority?: string } = { signal };
  if (opts.priority !== 'auto') init.priority = opts.priority;
  if (from > 0) init.headers = { Range: `bytes=${from}-` };
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ClientError('network', `fetch ${url} failed: ${(e as Error).message}`);
  }
  if (!res.ok || !res.body) throw new ClientError('http', `fetch ${url}: HTTP ${res.status}`);
  // A server that ignores Range sends everything again: skip what we have.
  let skip = from > 0 && res.status === 200 ? from : 0;
  // The edge says when it served a prefix on purpose (explicit budget or client hints).
  const served = Number(res.headers.get('x-mrt-bytes'));
  const total = Number(res.headers.get('x-mrt-total-length'));
  const budgeted = (from === 0 && url !== opts.url) || (served > 0 && total > 0 && served < total);
  const reader = res.body.getReader();
  const throttle = opts.throttle > 0 ? opts.throttle : 0;
  let stopped = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || sink.dead()) break;
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
    if (stopped || sink.dead()) reader.cancel().catch(() => undefined);
  }
  if (sink.dead()) return null;
  // a response that stops short of the prefix the edge announced was truncated on the way
  return { stopped, budgeted: budgeted && !(served > 0 && sink.received() < served) };
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
