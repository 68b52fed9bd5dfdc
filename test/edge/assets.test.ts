// The client's content-hashed files (src/edge/assets.ts): which variant answers which
// Accept-Encoding, with what headers, and what is not served.
import { describe, expect, it } from 'vitest';
import { acceptedEncodings, serveHashedAsset, serveModelFile } from '../../src/edge/assets.ts';

const NAME = '/assets/rcm.0123456789abcdef.json';

/** A static-asset fetcher holding `files` (path → body). */
function assets(files: Record<string, string>) {
  const asked: string[] = [];
  return {
    asked,
    fetch: async (input: Request | string) => {
      const path = new URL(typeof input === 'string' ? input : input.url).pathname;
      asked.push(path);
      const body = files[path];
      return body === undefined ? new Response('nope', { status: 404 }) : new Response(body, { headers: { 'Content-Length': String(body.length) } });
    },
  };
}

const get = (path: string, accept?: string, method = 'GET') => new Request(`http://x${path}`, { method, headers: accept === undefined ? {} : { 'Accept-Encoding': accept } });

describe('acceptedEncodings', () => {
  const cases: [string | null, string[]][] = [
    [null, []],
    ['', []],
    ['identity', []],
    ['gzip', ['gzip']],
    ['br, gzip', ['br', 'gzip']],
    ['gzip, deflate, br, zstd', ['br', 'gzip']],
    ['br;q=0, gzip;q=0.5', ['gzip']],
    ['BR;Q=1.0', ['br']],
    ['*', ['br', 'gzip']],
    ['*, br;q=0', ['gzip']],
  ];
  for (const [h, want] of cases) it(`${JSON.stringify(h)} → ${want.join(', ') || 'identity'}`, () => expect(acceptedEncodings(h)).toEqual(want));
});

describe('serveHashedAsset', () => {
  const files = { [NAME]: 'plain bytes', [`${NAME}.br`]: 'br', [`${NAME}.gz`]: 'gz!' };

  it('brotli when accepted, gzip next, else the file; immutable, Vary, the type of the name', async () => {
    for (const [accept, enc, body] of [['br, gzip', 'br', 'br'], ['gzip', 'gzip', 'gz!'], ['identity', null, 'plain bytes']] as const) {
      const res = (await serveHashedAsset(get(NAME, accept), { ASSETS: assets(files), IMAGES: undefined as never }))!;
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Encoding')).toBe(enc);
      expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('Vary')).toBe('Accept-Encoding');
      expect(res.headers.get('Content-Type')).toBe('application/json');
      expect(res.headers.get('Content-Length')).toBe(String(body.length));
      // onnxruntime-web starts its thread workers from the hashed .mjs: on a cross-origin
      // isolated page a worker script needs COEP of its own
      expect(res.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp');
      expect(res.headers.get('Cross-Origin-Resource-Policy')).toBe('cross-origin');
      expect(await res.text()).toBe(body);
    }
  });

  it('a variant the build did not write (not smaller, or not precompressed): the next one', async () => {
    const a = assets({ [NAME]: 'plain bytes', [`${NAME}.gz`]: 'gz!' });
    const res = (await serveHashedAsset(get(NAME, 'br, gzip'), { ASSETS: a, IMAGES: undefined as never }))!;
    expect(res.headers.get('Content-Encoding')).toBe('gzip');
    expect(a.asked).toEqual([`${NAME}.br`, `${NAME}.gz`]);
  });

  it('a file over the asset limit: its bytes from R2 _assets/', async () => {
    const big = '/assets/ort-wasm-simd-threaded.asyncify.0123456789abcdef.wasm';
    const images = {
      get: async (key: string) => (key === `_assets${big}` ? { key, size: 3, etag: 'e', httpEtag: '"e"', body: new Response('wsm').body!, arrayBuffer: async () => new ArrayBuffer(3) } : null),
    };
    const res = (await serveHashedAsset(get(big, 'identity'), { ASSETS: assets({}), IMAGES: images as never }))!;
    expect(res.headers.get('Content-Type')).toBe('application/wasm');
    expect(res.headers.get('Content-Encoding')).toBeNull();
    expect(await res.text()).toBe('wsm');
  });

  it('HEAD: the headers without a body', async () => {
    const res = (await serveHashedAsset(get(NAME, 'gzip', 'HEAD'), { ASSETS: assets(files), IMAGES: undefined as never }))!;
    expect(res.headers.get('Content-Encoding')).toBe('gzip');
    expect(res.body).toBeNull();
  });

  it('not a hashed name, a variant asked for by its own name, or a missing file: null (404)', async () => {
    for (const p of ['/assets/rcm.json', `${NAME}.br`, '/assets/rcm.0123456789ABCDEF.json', '/assets/x.0123456789abcdef.exe', '/assets/../models/rcm.0123456789abcdef.json', '/assets/tail.0123456789abcdef.bin']) {
      expect(await serveHashedAsset(get(p, 'br'), { ASSETS: assets(files), IMAGES: undefined as never }), p).toBeNull();
    }
  });
});

describe('serveModelFile', () => {
  // the default model in models/ (hash 0123abcd…), an earlier one in models/89abcdef/
  const def = JSON.stringify({ id: 'now', modelHash: '0123abcd' + '0'.repeat(56) });
  const old = JSON.stringify({ id: 'before', modelHash: '89abcdef' + '1'.repeat(56) });
  const files = { '/models/manifest.json': def, '/models/rcm.json': 'rcm now', '/models/89abcdef/manifest.json': old, '/models/89abcdef/rcm.json': 'rcm before' };

  it('every shipped model at /models/<hash prefix>/FILE: an earlier one from its folder, the default from models/; immutable', async () => {
    for (const [path, body] of [['/models/89abcdef/manifest.json', old], ['/models/89abcdef/rcm.json', 'rcm before'], ['/models/0123abcd/manifest.json', def], ['/models/0123abcd/rcm.json', 'rcm now']] as const) {
      const res = (await serveModelFile(get(path), { ASSETS: assets(files) }))!;
      expect(res.status, path).toBe(200);
      expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(res.headers.get('Cross-Origin-Resource-Policy')).toBe('cross-origin');
      expect(res.headers.get('Content-Type')).toBe('application/json');
      expect(await res.text()).toBe(body);
    }
    const head = (await serveModelFile(get('/models/0123abcd/manifest.json', undefined, 'HEAD'), { ASSETS: assets(files) }))!;
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it('no shipped model with that prefix, a missing file, or not a versioned path: null (404)', async () => {
    for (const p of ['/models/fedcba98/manifest.json', '/models/89abcdef/preview.bin', '/models/0123abcd/preview.bin', '/models/manifest.json', '/models/0123ABCD/manifest.json', '/models/0123abc/manifest.json', '/models/0123abcd/../manifest.json', '/models/0123abcd/x.exe']) {
      expect(await serveModelFile(get(p), { ASSETS: assets(files) }), p).toBeNull();
    }
  });
});
