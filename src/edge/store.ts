/**
 * Object access for the edge: the .mrt header (chunk table) read once per object version
 * and cached (in-memory LRU per isolate + Cloudflare Cache API per colo), byte reads from
 * R2 guarded by the object's etag, and the Cache API for whole 200 bodies (from which
 * 206s are served). Payloads are never parsed: only `readHeader` from src/format is used.
 */
import { readHeader, MrtFormatError, LIMITS } from '../format/index.ts';
import { problem, type Problem } from './http.ts';
import { hasBody, type ExecutionContextLike, type R2BucketLike, type R2ObjectLike } from './types.ts';

export type HeaderInfo = ReturnType<typeof readHeader>;

/**
 * The part of the Cache API (Workers' `caches.default`) the edge uses, declared here so that
 * the edge type-checks without the DOM or Workers types (a Node-only consumer has neither).
 */
export interface CacheLike {
  match(request: Request | string): Promise<Response | undefined>;
  put(request: Request | string, response: Response): Promise<void>;
  delete(request: Request | string): Promise<boolean>;
}

export interface ObjectEntry {
  key: string;
  /** R2 etag (unquoted), used for onlyIf on reads */
  r2etag: string;
  /** content identity used in ETags: customMetadata.sha256 if present, else the R2 etag */
  contentId: string;
  size: number;
  info: HeaderInfo;
  /** bytes [0, headerEnd): enough to re-run readHeader */
  headerBytes: Uint8Array;
  /** ms since epoch when this entry must be re-validated against R2 */
  expires: number;
}

export interface StoreOptions {
  /** seconds a header entry is trusted without touching R2 (mutable keys) */
  mutableTtl: number;
  /** seconds for content-addressed keys */
  immutableTtl: number;
  /** use the Cache API (caches.default) when available */
  cacheApi: boolean;
  /** largest representation stored in the Cache API */
  cacheMaxBytes: number;
  /** first read size for the header */
  headerProbeBytes: number;
  /** max in-memory entries per isolate */
  memoryEntries: number;
}

export const DEFAULT_STORE_OPTIONS: StoreOptions = {
  mutableTtl: 60,
  immutableTtl: 86400,
  cacheApi: true,
  cacheMaxBytes: 32 << 20,
  headerProbeBytes: 4096,
  memoryEntries: 2048,
};

/**
 * Safety cap on the prefix read for the header (readHeader itself rejects hostile
 * lengths with a 'limit' error before we would read that far).
 */
const MAX_HEADER_PREFIX = Math.max(8 << 20, LIMITS.MAX_HEADER_BYTES + 16);

function defaultCache(): CacheLike | null {
  const c = (globalThis as { caches?: { default?: CacheLike } }).caches;
  return c?.default ?? null;
}

export class CorruptObject extends Error {
  constructor(readonly key: string, readonly detail: string) {
    super(`corrupt .mrt object '${key}': ${detail}`);
  }
}

export function headerEndOf(info: HeaderInfo): number {
  return info.headerEnd;
}

export class MrtStore {
  private mem = new Map<string, ObjectEntry>();
  readonly opts: StoreOptions;
  constructor(opts: Partial<StoreOptions> = {}) {
    this.opts = { ...DEFAULT_STORE_OPTIONS, ...opts };
  }

  get cache(): CacheLike | null {
    return this.opts.cacheApi ? defaultCache() : null;
  }

  private headerCacheUrl(origin: string, key: string): string {
    return `${origin}/__mrt-cache/h/${encodeURIComponent(key)}`;
  }

  bodyCacheUrl(origin: string, entry: ObjectEntry, length: number): string {
    return `${origin}/__mrt-cache/b/${encodeURIComponent(entry.r2etag)}/${length}/${encodeURIComponent(entry.key)}`;
  }

  private remember(entry: ObjectEntry): void {
    this.mem.delete(entry.key);
    this.mem.set(entry.key, entry);
    while (this.mem.size > this.opts.memoryEntries) {
      const oldest = this.mem.keys().next().value as string;
      this.mem.delete(oldest);
    }
  }

  /** Forget a key (after PUT/DELETE or when R2 says the object changed). */
  async forget(origin: string, key: string): Promise<void> {
    this.mem.delete(key);
    const cache = this.cache;
    if (cache) await cache.delete(this.headerCacheUrl(origin, key)).catch(() => false);
  }

  /**
   * The object's header entry, or null when the key does not exist.
   * Throws CorruptObject when the object is not a well-formed .mrt.
   */
  async entry(
    bucket: R2BucketLike,
    origin: string,
    key: string,
    ttlSeconds: number,
    ctx?: ExecutionContextLike,
  ): Promise<ObjectEntry | null> {
    const now = Date.now();
    const m = this.mem.get(key);
    if (m && m.expires > now) return m;

    const cache = this.cache;
    const hurl = this.headerCacheUrl(origin, key);
    if (cache && !m) {
      const hit = await cache.match(hurl).catch(() => undefined);
      if (hit) {
        const r2etag = hit.headers.get('x-mrt-r2etag') ?? '';
        const contentId = hit.headers.get('x-mrt-content-id') ?? r2etag;
        const size = Number(hit.headers.get('x-mrt-size'));
        const expires = Number(hit.headers.get('x-mrt-expires'));
        const bytes = new Uint8Array(await hit.arrayBuffer());
        if (r2etag && Number.isSafeInteger(size) && expires > now) {
          try {
            const info = readHeader(bytes);
            const e: ObjectEntry = { key, r2etag, contentId, size, info, headerBytes: bytes, expires };
            this.remember(e);
            return e;
          } catch {
            /* fall through to R2 */
          }
        }
      }
    }

    const fresh = await this.loadFromR2(bucket, key, now + ttlSeconds * 1000);
    if (!fresh) {
      this.mem.delete(key);
      return null;
    }
    this.remember(fresh);
    if (cache) {
      const put = cache
        .put(
          hurl,
          new Response(fresh.headerBytes as Uint8Array<ArrayBuffer>, {
            headers: {
              'Cache-Control': `public, max-age=${Math.max(1, ttlSeconds)}`,
              'x-mrt-r2etag': fresh.r2etag,
              'x-mrt-content-id': fresh.contentId,
              'x-mrt-size': String(fresh.size),
              'x-mrt-expires': String(fresh.expires),
            },
          }),
        )
        .catch(() => undefined);
      if (ctx) ctx.waitUntil(put);
      else await put;
    }
    return fresh;
  }

  private async loadFromR2(bucket: R2BucketLike, key: string, expires: number): Promise<ObjectEntry | null> {
    let want = this.opts.headerProbeBytes;
    let etag: string | undefined;
    for (;;) {
      let obj: Awaited<ReturnType<R2BucketLike['get']>>;
      try {
        obj = await bucket.get(key, {
          range: { offset: 0, length: want },
          ...(etag ? { onlyIf: { etagMatches: etag } } : {}),
        });
      } catch (e) {
        // R2 refuses any range of an empty object: that is the object's fault, not ours
        const h = await bucket.head(key);
        if (h && h.size === 0) throw new CorruptObject(key, 'object is empty (0 bytes)');
        throw e;
      }
      if (obj === null) return null;
      if (!hasBody(obj)) {
        // changed between our reads: start over
        etag = undefined;
        want = this.opts.headerProbeBytes;
        continue;
      }
      etag = obj.etag;
      const bytes = new Uint8Array(await obj.arrayBuffer());
      let info: HeaderInfo;
      try {
        info = readHeader(bytes);
      } catch (e) {
        if (e instanceof MrtFormatError && e.code === 'need-more') {
          if (bytes.length >= obj.size) {
            throw new CorruptObject(key, `object of ${obj.size} bytes ends inside the header`);
          }
          if (want >= MAX_HEADER_PREFIX) throw new CorruptObject(key, `header larger than ${MAX_HEADER_PREFIX} bytes`);
          want = Math.min(MAX_HEADER_PREFIX, obj.size, want * 4);
          continue;
        }
        if (e instanceof MrtFormatError) {
          throw new CorruptObject(key, `${e.code}: ${e.message}`);
        }
        throw e;
      }
      const total = info.totalLength;
      if (total !== obj.size) {
        throw new CorruptObject(
          key,
          `header announces ${total} bytes but the object has ${obj.size} (truncated or padded upload)`,
        );
      }
      const hend = headerEndOf(info);
      return {
        key,
        r2etag: obj.etag,
        contentId: contentIdOf(obj),
        size: obj.size,
        info,
        headerBytes: bytes.slice(0, hend),
        expires,
      };
    }
  }
}

export function contentIdOf(obj: R2ObjectLike): string {
  const sha = obj.customMetadata?.sha256;
  if (sha && /^[0-9a-f]{64}$/.test(sha)) return `sha256-${sha.slice(0, 32)}`;
  return obj.etag.replace(/"/g, '');
}

/**
 * 409: the request is fine and the key exists, but the stored object is not a valid .mrt
 * (a state a PUT of a valid one resolves); never a 5xx, whatever the object's bytes.
 */
export function corruptProblem(e: CorruptObject): Problem {
  return problem(409, 'corrupt-object', `stored object '${e.key}' is not a valid .mrt: ${e.detail}`);
}
