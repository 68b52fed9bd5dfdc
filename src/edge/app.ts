/**
 * MRT edge: serve .mrt prefixes from R2 on Cloudflare Workers (Hono).
 *
 *   import { createMrtApp } from './src/edge/app.ts';
 *   app.route('/', createMrtApp());          // serves /i/<key>.mrt
 *   app.use(mrtMiddleware());                // or as middleware in front of other routes
 *
 * See src/edge/README.md for the HTTP contract (selection order, headers, caching rules).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { chunksWithin, prefixLength, readHeader, MrtParser, MrtFormatError, LIMITS, type MrtHeaderInfo } from '../format/index.ts';
import { budgetFor, budgetRung, hintsFromHeaders, HINT_HEADERS } from '../format/budget.ts';
import {
  CORS_HEADERS,
  CORS_PREFLIGHT,
  MRT_CONTENT_TYPE,
  ifRangeMatches,
  isContentAddressed,
  isProblem,
  jsonProblem,
  noneMatch,
  parseCount,
  parseKey,
  parseRange,
  problem,
  STORED_OBJECT_HEADERS,
  type ByteRange,
  type Problem,
} from './http.ts';
import { CorruptObject, MrtStore, corruptProblem, type CacheLike, type ObjectEntry, type StoreOptions } from './store.ts';
import { servePart } from './parts.ts';
import { MRT_PARTS, isPart, type MrtPart } from '../format/parts.ts';
import { hasBody, type ExecutionContextLike, type MrtEnv, type R2BucketLike } from './types.ts';

// for a page rendered on the server: its largest image's placeholder inline (src/format/parts.ts)
export { placeholderBackground, readFirstPaint } from '../format/index.ts';

export interface MrtAppOptions<E extends object = MrtEnv> {
  /** R2 bucket: a binding name in env (default 'IMAGES') or a function of env */
  bucket?: string | ((env: E) => R2BucketLike);
  /** bearer token for PUT/DELETE (default env.MRT_UPLOAD_TOKEN); uploads are off when unset */
  uploadToken?: (env: E) => string | undefined;
  /** path prefix of the image routes inside this app (default '/i') */
  prefix?: string;
  /**
   * How requests without ?bytes/?q are answered when client hints pick a shorter prefix:
   * 'inline' (default): 200 with the prefix, `Vary` on the hint headers, `Cache-Control:
   * private`, `Content-Location: ?bytes=N`. 'redirect': 307 to `?bytes=N` (private,
   * no-cache, Vary), so that only URL-keyed responses carry bodies.
   */
  hintMode?: 'inline' | 'redirect';
  /** content-addressed key rule (default: isContentAddressed in http.ts) */
  contentAddressed?: (key: string) => boolean;
  /** max-age for mutable keys (default 60 s; responses carry strong ETags for revalidation) */
  mutableMaxAge?: number;
  /** store / caching options, or a shared MrtStore */
  store?: Partial<StoreOptions> | MrtStore;
  /** enable `?plain` raw R2 range reads (default: env.MRT_PLAIN_READ === '1'); bench only */
  plainRead?: (env: E) => boolean;
  /**
   * largest PUT body (default 64 MiB, never above LIMITS.MAX_TOTAL_BYTES): the body is held
   * in memory for validation and a Worker isolate has 128 MB
   */
  maxUploadBytes?: number;
}

const YEAR = 31536000;
const VARY_HINTS = HINT_HEADERS.join(', ');
export const ACCEPT_CH = 'Sec-CH-Width, Sec-CH-DPR, Sec-CH-Viewport-Width, ECT, Downlink, RTT, Width, DPR, Viewport-Width';
export const CRITICAL_CH = 'ECT, Sec-CH-DPR';

type Resolved<E extends object> = {
  bucket: (env: E) => R2BucketLike;
  uploadToken: (env: E) => string | undefined;
  prefix: string;
  hintMode: 'inline' | 'redirect';
  contentAddressed: (key: string) => boolean;
  mutableMaxAge: number;
  store: MrtStore;
  plainRead: (env: E) => boolean;
  maxUploadBytes: number;
};

function resolve<E extends object>(o: MrtAppOptions<E>): Resolved<E> {
  const b = o.bucket ?? 'IMAGES';
  const prefix = (o.prefix ?? '/i').replace(/\/+$/, '');
  return {
    bucket: typeof b === 'function' ? b : (env: E) => (env as Record<string, unknown> | undefined)?.[b] as R2BucketLike,
    uploadToken: o.uploadToken ?? ((env: E) => (env as { MRT_UPLOAD_TOKEN?: string } | undefined)?.MRT_UPLOAD_TOKEN),
    prefix,
    hintMode: o.hintMode ?? 'inline',
    contentAddressed: o.contentAddressed ?? isContentAddressed,
    mutableMaxAge: o.mutableMaxAge ?? 60,
    store: o.store instanceof MrtStore ? o.store : new MrtStore(o.store ?? {}),
    plainRead: o.plainRead ?? ((env: E) => (env as { MRT_PLAIN_READ?: string } | undefined)?.MRT_PLAIN_READ === '1'),
    maxUploadBytes: Math.min(o.maxUploadBytes ?? 64 << 20, LIMITS.MAX_TOTAL_BYTES),
  };
}

function ctxOf(c: Context): ExecutionContextLike | undefined {
  try {
    return c.executionCtx as unknown as ExecutionContextLike;
  } catch {
    return undefined;
  }
}

function fail(p: Problem): Response {
  return jsonProblem(p);
}

/** Chunks held by a prefix of `length` bytes, and whether it holds the final layer. */
export function chunksIn(entry: ObjectEntry, length: number): { chunks: number; final: boolean } {
  return { chunks: chunksWithin(entry.info, length), final: entry.info.finalEnd !== undefined && length >= entry.info.finalEnd };
}

/** Core request handler for `<prefix>/<rawKey>`; `rawKey` is still percent-encoded. */
async function handle<E extends object>(c: Context<{ Bindings: E }>, rawKey: string, r: Resolved<E>): Promise<Response> {
  const method = c.req.method;
  if (method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS_PREFLIGHT });
  const k = parseKey(rawKey);
  if (isProblem(k)) return fail(k);
  const key = k.key;
  const env = c.env as E;
  const bucket = r.bucket(env);
  if (!bucket) return fail(problem(500, 'misconfigured', 'no R2 bucket binding'));
  if (method === 'GET' || method === 'HEAD') return get(c, key, bucket, r);
  if (method === 'PUT') return put(c, key, bucket, r);
  if (method === 'DELETE') return del(c, key, bucket, r);
  return fail(problem(405, 'method-not-allowed', `${method} is not supported`, { Allow: 'GET, HEAD, PUT, DELETE, OPTIONS' }));
}

async function get<E extends object>(c: Context<{ Bindings: E }>, key: string, bucket: R2BucketLike, r: Resolved<E>, retry = false): Promise<Response> {
  const req = c.req.raw;
  const url = new URL(req.url);
  const head = req.method === 'HEAD';
  const ctx = ctxOf(c);

  if (url.searchParams.has('plain') && r.plainRead(c.env as E)) return plain(key, bucket, req);

  const bytesQ = parseCount(url.searchParams.get('bytes') ?? undefined, 'bytes');
  if (isProblem(bytesQ)) return fail(bytesQ);
  const qQ = parseCount(url.searchParams.get('q') ?? undefined, 'q');
  if (isProblem(qQ)) return fail(qQ);
  if (bytesQ !== undefined && qQ !== undefined) return fail(problem(400, 'bad-query', 'use either bytes or q, not both'));
  const part = url.searchParams.get('part');
  if (part !== null) {
    if (!isPart(part)) return fail(problem(400, 'bad-query', `part must be one of ${MRT_PARTS.join(', ')}, got '${part.slice(0, 32)}'`));
    if (bytesQ !== undefined || qQ !== undefined) return fail(problem(400, 'bad-query', 'a part is whole: no bytes or q with it'));
  }

  const immutable = r.contentAddressed(key);
  const ttl = immutable ? r.store.opts.immutableTtl : r.store.opts.mutableTtl;
  let entry: ObjectEntry | null;
  try {
    entry = await r.store.entry(bucket, url.origin, key, ttl, ctx);
  } catch (e) {
    if (e instanceof CorruptObject) {
      console.error(`[mrt-edge] 409 ${e.message}`);
      return fail(corruptProblem(e));
    }
    throw e;
  }
  if (!entry) return fail(problem(404, 'not-found', `no object '${key}'`));
  const info = entry.info;
  const total = entry.size;
  const sharedCc = immutable ? `public, max-age=${YEAR}, immutable, no-transform` : `public, max-age=${r.mutableMaxAge}, no-transform`;
  if (part !== null) {
    const res = await servePart(part as MrtPart, entry, bucket, req, sharedCc);
    if (res === 'changed') return changed(c, key, bucket, r, url.origin, retry);
    return isProblem(res) ? fail(res) : res;
  }

  // 1. explicit ?bytes / ?q, 2. client hints, 3. default (whole stream); Range → whole stream.
  // Byte budgets (explicit or from hints) are rounded up to the ladder (budgetRung): a few
  // fixed sizes, so that CDN cache keys do not multiply.
  let length: number;
  let selection: string;
  let byHints = false;
  let served: number | undefined;
  if (bytesQ !== undefined) {
    served = budgetRung(bytesQ);
    length = prefixLength(info, { bytes: served });
    selection = 'bytes';
  } else if (qQ !== undefined) {
    length = prefixLength(info, { chunks: qQ });
    selection = 'q';
  } else if (req.headers.has('range')) {
    // A Range on the bare URL addresses the whole stream, never a hint-cut prefix: after a
    // hinted prefix of N bytes, `Range: bytes=N-` fetches the rest ("refine on demand").
    byHints = true; // same URL as the hinted responses: same cache rules
    length = total;
    selection = 'range';
  } else {
    byHints = true;
    const hints = hintsFromHeaders((n) => req.headers.get(n));
    const budget = budgetFor(hints, {
      width: info.header.width,
      height: info.header.height,
      totalBytes: total,
      minBytes: info.chunkEnds[0] ?? info.headerEnd,
    });
    if (Number.isFinite(budget.bytes)) served = budgetRung(budget.bytes);
    length = served !== undefined ? prefixLength(info, { bytes: served }) : total;
    selection = budget.reasons.length ? `hints; ${budget.reasons.join(', ')}` : 'default';
  }
  const { chunks, final } = chunksIn(entry, length);
  const etag = length === total ? `"${entry.contentId}"` : `"${entry.contentId}.p${length}"`;

  const h = new Headers(CORS_HEADERS);
  h.set('Content-Type', MRT_CONTENT_TYPE);
  h.set('ETag', etag);
  h.set('Accept-Ranges', 'bytes');
  h.set('Accept-CH', ACCEPT_CH);
  h.set('Critical-CH', CRITICAL_CH);
  h.set('X-MRT-Total-Length', String(total));
  h.set('X-MRT-Bytes', String(length));
  h.set('X-MRT-Chunks', String(chunks));
  h.set('X-MRT-Total-Chunks', String(info.chunkEnds.length));
  h.set('X-MRT-Final', final ? '1' : '0');
  h.set('X-MRT-Selection', selection);
  if (served !== undefined) h.set('X-MRT-Budget', String(served));
  for (const [n, v] of Object.entries(STORED_OBJECT_HEADERS)) h.set(n, v);
  if (byHints) {
    // The body depends on request headers: keep it out of shared caches, name the
    // URL-keyed equivalent, and Vary on every hint the rule reads.
    h.set('Vary', VARY_HINTS);
    h.set('Cache-Control', immutable ? `private, max-age=${YEAR}, immutable, no-transform` : `private, max-age=${r.mutableMaxAge}, no-transform`);
    if (length !== total) {
      const loc = `${url.pathname}?bytes=${served ?? length}`;
      h.set('Content-Location', loc);
      if (r.hintMode === 'redirect' && !req.headers.has('range')) {
        h.set('Location', loc);
        h.set('Cache-Control', 'private, no-cache');
        for (const n of ['Content-Type', 'ETag', 'Accept-Ranges', 'Content-Location']) h.delete(n);
        return new Response(null, { status: 307, headers: h });
      }
    }
  } else {
    h.set('Cache-Control', sharedCc);
  }

  if (noneMatch(req.headers.get('if-none-match'), etag)) {
    for (const n of ['Content-Type', 'Accept-Ranges']) h.delete(n);
    return new Response(null, { status: 304, headers: h });
  }

  let range: ByteRange | null = null;
  if (ifRangeMatches(req.headers.get('if-range'), etag)) {
    const pr = parseRange(req.headers.get('range'), length);
    if (isProblem(pr)) return jsonProblem(pr, { 'X-MRT-Total-Length': String(total), 'X-MRT-Bytes': String(length) });
    range = pr;
  }

  // bench mode only (MRT_PLAIN_READ=1): `X-MRT-No-Cache` measures the R2 path alone
  const cache = r.plainRead(c.env as E) && req.headers.has('x-mrt-no-cache') ? null : r.store.cache;
  const bodyUrl = r.store.bodyCacheUrl(url.origin, entry, length);
  if (range) {
    const n = range.end - range.start + 1;
    h.set('Content-Range', `bytes ${range.start}-${range.end}/${length}`);
    h.set('Content-Length', String(n));
    if (head) return new Response(null, { status: 206, headers: h });
    if (cache) {
      const hit = await cache
        .match(new Request(bodyUrl, { headers: { Range: `bytes=${range.start}-${range.end}` } }))
        .catch(() => undefined);
      if (hit && hit.status === 206 && hit.body) {
        h.set('X-MRT-Cache', 'hit');
        return new Response(hit.body, { status: 206, headers: h });
      }
    }
    const obj = await bucket.get(key, { range: { offset: range.start, length: n }, onlyIf: { etagMatches: entry.r2etag } });
    if (!hasBody(obj)) return changed(c, key, bucket, r, url.origin, retry);
    if (cache && length <= r.store.opts.cacheMaxBytes) {
      // fill the whole representation in the background; later ranges come from the cache
      const fill = fillCache(cache, bucket, key, entry, length, bodyUrl, etag);
      if (ctx) ctx.waitUntil(fill);
    }
    h.set('X-MRT-Cache', 'miss');
    return new Response(obj.body, { status: 206, headers: h });
  }

  h.set('Content-Length', String(length));
  if (head) return new Response(null, { status: 200, headers: h });
  if (cache) {
    const hit = await cache.match(bodyUrl).catch(() => undefined);
    if (hit && hit.status === 200 && hit.body) {
      h.set('X-MRT-Cache', 'hit');
      return new Response(hit.body, { status: 200, headers: h });
    }
  }
  const obj = await bucket.get(key, {
    ...(length === total ? {} : { range: { offset: 0, length } }),
    onlyIf: { etagMatches: entry.r2etag },
  });
  if (!hasBody(obj)) return changed(c, key, bucket, r, url.origin, retry);
  h.set('X-MRT-Cache', 'miss');
  if (cache && length <= r.store.opts.cacheMaxBytes && ctx) {
    const [a, b] = obj.body.tee();
    ctx.waitUntil(cache.put(bodyUrl, cacheable(b, length, etag)).catch(() => undefined));
    return new Response(a, { status: 200, headers: h });
  }
  return new Response(obj.body, { status: 200, headers: h });
}

function cacheable(body: ReadableStream, length: number, etag: string): Response {
  return new Response(body, {
    headers: {
      'Content-Type': MRT_CONTENT_TYPE,
      'Content-Length': String(length),
      'Cache-Control': `public, max-age=${YEAR}, immutable`,
      ETag: etag,
    },
  });
}

async function fillCache(
  cache: CacheLike,
  bucket: R2BucketLike,
  key: string,
  entry: ObjectEntry,
  length: number,
  bodyUrl: string,
  etag: string,
): Promise<void> {
  try {
    const obj = await bucket.get(key, {
      ...(length === entry.size ? {} : { range: { offset: 0, length } }),
      onlyIf: { etagMatches: entry.r2etag },
    });
    if (!hasBody(obj)) return;
    await cache.put(bodyUrl, cacheable(obj.body, length, etag));
  } catch {
    /* best effort */
  }
}

/** R2 says the object changed (etag mismatch) or vanished after we read its header. */
async function changed<E extends object>(
  c: Context<{ Bindings: E }>,
  key: string,
  bucket: R2BucketLike,
  r: Resolved<E>,
  origin: string,
  retried: boolean,
): Promise<Response> {
  await r.store.forget(origin, key);
  if (retried) return fail(problem(503, 'object-changing', `object '${key}' changed during the request; retry`, { 'Retry-After': '1' }));
  return get(c, key, bucket, r, true);
}

/** `?plain`: a raw R2 range read, no header, no cache (baseline for bench/edge-load.ts). */
async function plain(key: string, bucket: R2BucketLike, req: Request): Promise<Response> {
  const obj = await bucket.get(key, { range: req.headers });
  if (!obj) return fail(problem(404, 'not-found', `no object '${key}'`));
  if (!hasBody(obj)) return fail(problem(412, 'precondition-failed', 'precondition failed'));
  const h = new Headers({ ...CORS_HEADERS, ...STORED_OBJECT_HEADERS });
  h.set('Content-Type', MRT_CONTENT_TYPE);
  h.set('ETag', obj.httpEtag);
  const rg = obj.range as { offset?: number; length?: number } | undefined;
  if (req.headers.has('range') && rg && rg.offset !== undefined && rg.length !== undefined) {
    h.set('Content-Range', `bytes ${rg.offset}-${rg.offset + rg.length - 1}/${obj.size}`);
    return new Response(obj.body, { status: 206, headers: h });
  }
  return new Response(obj.body, { status: 200, headers: h });
}

// ---------------------------------------------------------------- uploads

async function authorize<E extends object>(c: Context<{ Bindings: E }>, r: Resolved<E>): Promise<Problem | null> {
  const token = r.uploadToken(c.env as E);
  if (!token) return problem(403, 'uploads-disabled', 'set the MRT_UPLOAD_TOKEN secret to enable PUT/DELETE');
  const auth = c.req.header('authorization') ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
  const unauth = problem(401, 'unauthorized', 'a valid bearer token is required', { 'WWW-Authenticate': 'Bearer realm="mrt"' });
  if (!m) return unauth;
  // compare digests so the comparison time does not depend on where the strings differ
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(m[1]!.trim())),
    crypto.subtle.digest('SHA-256', enc.encode(token)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0 ? null : unauth;
}

/** A header-stage format error: past a limit (the size rule, message sizes) → 413, else 422. */
function uploadProblem(e: { code: string; message: string }): Problem {
  if (e.code === 'limit') return problem(413, 'too-large', `not stored: ${e.message}`);
  return problem(422, 'invalid-mrt', `not stored (the existing object, if any, is unchanged): ${e.code}: ${e.message}`);
}

/** The most bytes a header (preamble, Header and Index messages with their lengths) can take. */
const MAX_HEAD_BYTES = 5 + 2 * 5 + LIMITS.MAX_HEADER_BYTES + LIMITS.MAX_INDEX_BYTES;

/**
 * The PUT body, held once. A declared Content-Length over the limit is refused before
 * reading; then bytes are read until the header is complete, what it announces (the size
 * rule, the total length against the upload limit and the Content-Length) is checked, and
 * the rest is read into one buffer of exactly the announced length.
 */
async function readUpload(req: Request, max: number): Promise<Uint8Array | Problem> {
  const header = req.headers.get('content-length');
  const declared = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  if (declared !== null && declared > max) return problem(413, 'too-large', `body of ${declared} bytes exceeds the upload limit (${max} bytes)`);
  if (declared === 0 || !req.body) return problem(400, 'empty-body', 'PUT needs an .mrt body');
  const reader = req.body.getReader();
  const refuse = async (p: Problem) => {
    await reader.cancel().catch(() => undefined);
    return p;
  };
  // 1. the header
  let head = new Uint8Array(0);
  let info: MrtHeaderInfo | null = null;
  while (!info) {
    const { done, value } = await reader.read();
    if (done) {
      if (head.length === 0) return problem(400, 'empty-body', 'PUT needs an .mrt body');
      return uploadProblem({ code: 'truncated', message: `body of ${head.length} bytes ends inside the header` });
    }
    if (head.length === 0) {
      head = value;
    } else {
      const grown = new Uint8Array(head.length + value.byteLength);
      grown.set(head);
      grown.set(value, head.length);
      head = grown;
    }
    try {
      info = readHeader(head);
    } catch (e) {
      if (!(e instanceof MrtFormatError)) throw e;
      if (e.code !== 'need-more' || head.length > MAX_HEAD_BYTES) return refuse(uploadProblem(e));
    }
  }
  // 2. what it announces
  const total = info.totalLength;
  if (total > max) return refuse(problem(413, 'too-large', `the header announces ${total} bytes, more than the upload limit (${max} bytes)`));
  if (declared !== null && declared !== total) return refuse(uploadProblem({ code: 'table', message: `body of ${declared} bytes, the header announces ${total}` }));
  // 3. the rest, into one buffer (the first read itself when it held the whole body)
  const trailing = () => refuse(uploadProblem({ code: 'trailing', message: `bytes after the end of the stream (the header announces ${total} bytes)` }));
  if (head.length > total) return trailing();
  if (head.length === total) return (await reader.read()).done ? head : trailing();
  const bytes = new Uint8Array(total);
  bytes.set(head);
  let filled = head.length;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (filled + value.byteLength > total) return trailing();
    bytes.set(value, filled);
    filled += value.byteLength;
  }
  if (filled < total) return uploadProblem({ code: 'truncated', message: `body ends after ${filled} bytes, the header announces ${total}` });
  return bytes;
}

/** Full validation with the shared incremental parser (chunk CRCs included). */
export function validateMrt(bytes: Uint8Array): { ok: true; chunks: number; final: boolean } | { ok: false; code: string; detail: string } {
  try {
    const p = new MrtParser();
    const events = [...p.push(bytes), ...p.end()];
    for (const ev of events) {
      if (ev.type === 'error') return { ok: false, code: ev.error.code, detail: `${ev.error.code}: ${ev.error.message}` };
    }
    const end = events.find((e) => e.type === 'end');
    if (!end || end.type !== 'end' || !end.complete) return { ok: false, code: 'truncated', detail: 'stream is incomplete' };
    return { ok: true, chunks: end.chunks, final: end.final };
  } catch (e) {
    const code = e instanceof MrtFormatError ? e.code : 'corrupt';
    const detail = e instanceof MrtFormatError ? `${e.code}: ${e.message}` : String(e);
    return { ok: false, code, detail };
  }
}

async function put<E extends object>(c: Context<{ Bindings: E }>, key: string, bucket: R2BucketLike, r: Resolved<E>): Promise<Response> {
  const denied = await authorize(c, r);
  if (denied) return fail(denied);
  const body = await readUpload(c.req.raw, r.maxUploadBytes);
  if (isProblem(body)) return fail(body);
  // the parser delivers whole messages as views of `body`: the upload is held once
  const v = validateMrt(body);
  if (!v.ok) return fail(problem(v.code === 'limit' ? 413 : 422, v.code === 'limit' ? 'too-large' : 'invalid-mrt', `not stored (the existing object, if any, is unchanged): ${v.detail}`));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>));
  const sha256 = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
  const existed = (await bucket.head(key)) !== null;
  const obj = await bucket.put(key, body, {
    httpMetadata: { contentType: MRT_CONTENT_TYPE },
    customMetadata: { sha256 },
    sha256,
  });
  await r.store.forget(new URL(c.req.url).origin, key);
  return new Response(
    JSON.stringify({ key, bytes: body.length, chunks: v.chunks, final: v.final, sha256, etag: obj?.etag ?? null }),
    {
      status: existed ? 200 : 201,
      headers: { ...CORS_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    },
  );
}

async function del<E extends object>(c: Context<{ Bindings: E }>, key: string, bucket: R2BucketLike, r: Resolved<E>): Promise<Response> {
  const denied = await authorize(c, r);
  if (denied) return fail(denied);
  const existed = (await bucket.head(key)) !== null;
  if (!existed) return fail(problem(404, 'not-found', `no object '${key}'`));
  await bucket.delete(key);
  await r.store.forget(new URL(c.req.url).origin, key);
  return new Response(null, { status: 204, headers: CORS_HEADERS });
}

// ---------------------------------------------------------------- mounting

function errorResponse(err: unknown): Response {
  console.error('[mrt-edge] unhandled error', err);
  return jsonProblem(problem(500, 'internal', err instanceof Error ? err.message : String(err)));
}

/**
 * A Hono sub-app serving `<prefix>/<key>.mrt` (default prefix '/i'). Mount it with
 * `app.route('/', createMrtApp())` (or under any base path).
 */
export function createMrtApp<E extends object = MrtEnv>(options: MrtAppOptions<E> = {}): Hono<{ Bindings: E }> {
  const r = resolve(options);
  const app = new Hono<{ Bindings: E }>();
  app.all(`${r.prefix}/*`, (c) => {
    // raw (still percent-encoded) key: skip the segments of the matched route before '*'
    const routeSegs = c.req.routePath.split('/').length - 1;
    const pathname = new URL(c.req.url).pathname;
    const rawKey = pathname.split('/').slice(routeSegs).join('/');
    return handle(c, rawKey, r);
  });
  app.onError((err) => errorResponse(err));
  app.notFound(() => jsonProblem(problem(404, 'not-found', 'no such route')));
  return app;
}

/**
 * Middleware form: answers `<prefix>/*` (default '/i/*', matched on the full URL path)
 * and passes every other request on.
 */
export function mrtMiddleware<E extends object = MrtEnv>(options: MrtAppOptions<E> = {}): MiddlewareHandler<{ Bindings: E }> {
  const r = resolve(options);
  const start = `${r.prefix}/`;
  return async (c, next) => {
    const pathname = new URL(c.req.url).pathname;
    if (!pathname.startsWith(start)) return next();
    try {
      return await handle(c, pathname.slice(start.length), r);
    } catch (err) {
      return errorResponse(err);
    }
  };
}
