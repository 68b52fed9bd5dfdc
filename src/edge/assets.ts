/**
 * The client build's content-hashed files (dist/client/assets/STEM.HASH.EXT: the runtime
 * and model files, scripts/build-client.ts) with their precompressed variants: brotli or
 * gzip as the request accepts them, else the file itself, always with a one-year immutable
 * Cache-Control (the name changes with the bytes). Workers static assets cannot pick a
 * precompressed variant by Accept-Encoding, so /assets/* reaches the Worker first
 * (wrangler.toml run_worker_first). A file over the 25 MiB asset limit has its identity
 * bytes in R2 under `_assets/assets/NAME` (npm run seed:edge).
 */
import type { FetcherLike, MrtEnv } from './types.ts';
import { hasBody } from './types.ts';

export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Headers every client file carries (dist/client/_headers for the static ones, written by
 * scripts/build-client.ts): the demo page is cross-origin isolated so that the decoder may
 * use WASM threads (SharedArrayBuffer), a worker script of such a page needs COEP itself
 * (onnxruntime-web's thread workers load its .mjs), and every file stays loadable by other
 * origins' isolated pages (CORP).
 */
export const CLIENT_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};
/** Hex digits of sha256 in a hashed name (scripts/build-client.ts writes them). */
export const HASH_CHARS = 16;

const TYPES: Record<string, string> = {
  wasm: 'application/wasm',
  mjs: 'text/javascript; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json',
  onnx: 'application/octet-stream',
  bin: 'application/octet-stream',
};

/** A hashed name: STEM.HASH.EXT with 16 hex digits (not a variant: those are chosen here). */
const NAME = new RegExp(`^/assets/([A-Za-z0-9_-][A-Za-z0-9._-]*\\.[0-9a-f]{${HASH_CHARS}}\\.(wasm|mjs|js|json|onnx|bin))$`);

/** Encodings the request accepts, best first (q=0 refuses one; no header: identity only). */
export function acceptedEncodings(header: string | null): ('br' | 'gzip')[] {
  const q = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name, qp ? Number(qp.slice(2)) || 0 : 1);
  }
  const ok = (e: string) => (q.get(e) ?? q.get('*') ?? 0) > 0;
  return (['br', 'gzip'] as const).filter(ok);
}

/** Answers GET/HEAD /assets/NAME; null when the path is not a hashed file name (the caller 404s). */
export async function serveHashedAsset(req: Request, env: Pick<MrtEnv, 'ASSETS' | 'IMAGES'>): Promise<Response | null> {
  const url = new URL(req.url);
  const m = NAME.exec(url.pathname);
  if (!m || !env.ASSETS) return null;
  const assets: FetcherLike = env.ASSETS;
  const variant = async (suffix: string): Promise<Response | null> => {
    const res = await assets.fetch(new Request(new URL(url.pathname + suffix, url.origin), { method: 'GET' }));
    if (res.ok) return res;
    await res.body?.cancel();
    return null;
  };
  let body: ReadableStream<Uint8Array> | null = null;
  let length: string | null = null;
  let encoding = '';
  for (const enc of acceptedEncodings(req.headers.get('Accept-Encoding'))) {
    const res = await variant(enc === 'br' ? '.br' : '.gz');
    if (res) {
      body = res.body;
      length = res.headers.get('Content-Length');
      encoding = enc;
      break;
    }
  }
  if (!body) {
    const res = await variant('');
    if (res) {
      body = res.body;
      length = res.headers.get('Content-Length');
    } else if (env.IMAGES) {
      const obj = await env.IMAGES.get(`_assets${url.pathname}`);
      if (!hasBody(obj)) return null;
      body = obj.body;
      length = String(obj.size);
    } else {
      return null;
    }
  }
  const headers = new Headers({
    ...CLIENT_HEADERS,
    'Content-Type': TYPES[m[2]!]!,
    'Cache-Control': IMMUTABLE,
    Vary: 'Accept-Encoding',
    'Access-Control-Allow-Origin': '*',
  });
  if (encoding) headers.set('Content-Encoding', encoding);
  if (length) headers.set('Content-Length', length);
  if (req.method === 'HEAD') {
    await body?.cancel();
    body = null;
  }
  // 'manual': the body is already encoded; the runtime must not compress it again
  return new Response(body, { status: 200, headers, encodeBody: 'manual' } as ResponseInit);
}

/** A shipped model's versioned path: /models/<first 8 hex digits of its modelHash>/FILE. */
const MODEL_FILE = /^\/models\/([0-9a-f]{8})\/([A-Za-z0-9_-][A-Za-z0-9._-]*\.(json|bin|onnx))$/;

/**
 * Answers GET/HEAD /models/<prefix>/FILE: every shipped model at a path named by its hash, so
 * that a stream encoded before the default model changed finds its model (docs/design.md,
 * "Model versions"). An earlier model is the client build's models/<prefix>/ folder
 * (scripts/build-client.ts); the default model, in models/, is served here too when its
 * manifest's modelHash starts with <prefix>. Immutable: the path names the content. Null when
 * the path is not such a path or no shipped model has that prefix (the caller 404s).
 */
export async function serveModelFile(req: Request, env: Pick<MrtEnv, 'ASSETS'>): Promise<Response | null> {
  const url = new URL(req.url);
  const m = MODEL_FILE.exec(url.pathname);
  if (!m || !env.ASSETS) return null;
  const assets: FetcherLike = env.ASSETS;
  const get = async (path: string): Promise<Response | null> => {
    const res = await assets.fetch(new Request(new URL(path, url.origin), { method: 'GET' }));
    if (res.ok) return res;
    await res.body?.cancel();
    return null;
  };
  const [, prefix, file, ext] = m;
  let res = await get(`/models/${prefix}/${file}`);
  if (!res) {
    const manifest = await get('/models/manifest.json');
    let hash = '';
    try {
      hash = manifest ? String(((await manifest.json()) as { modelHash?: unknown }).modelHash ?? '').toLowerCase() : '';
    } catch {
      hash = ''; // not a manifest: no default model to serve
    }
    if (hash.startsWith(prefix!)) res = await get(`/models/${file}`);
  }
  if (!res) return null;
  const headers = new Headers({ ...CLIENT_HEADERS, 'Content-Type': TYPES[ext!]!, 'Cache-Control': IMMUTABLE, 'Access-Control-Allow-Origin': '*' });
  const length = res.headers.get('Content-Length');
  if (length) headers.set('Content-Length', length);
  const etag = res.headers.get('ETag');
  if (etag) headers.set('ETag', etag);
  if (req.method === 'HEAD') {
    await res.body?.cancel();
    return new Response(null, { status: 200, headers });
  }
  return new Response(res.body, { status: 200, headers });
}
