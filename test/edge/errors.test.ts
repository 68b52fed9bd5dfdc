// Bad input: keys, methods, corrupt objects, uploads. All errors are JSON {error, detail}.
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Hono } from 'hono';
import { createMrtApp } from '../../src/edge/app.ts';
import { claimStream } from '../format/hostile.ts';
import { makeMrt } from './fixtures.ts';
import { TOKEN, bytesOf, errorBody, fetchEdge, same, seed } from './helpers.ts';

const fx = makeMrt({ chunks: 4 });

beforeAll(async () => {
  await seed('err/ok.mrt', fx);
});
afterEach(() => vi.restoreAllMocks());

describe('keys', () => {
  it('unknown key → 404 JSON', async () => {
    const res = await fetchEdge('/i/err/nope.mrt');
    expect(res.status).toBe(404);
    expect((await errorBody(res)).error).toBe('not-found');
  });

  it('non-.mrt paths under /i and unknown routes → 404 JSON', async () => {
    for (const p of ['/i/err/ok.png', '/i/.mrt', '/nowhere']) {
      const res = await fetchEdge(p);
      expect(res.status, p).toBe(404);
      await errorBody(res);
    }
  });

  it('malformed keys → 400 JSON', async () => {
    const long = 'a'.repeat(1100);
    for (const p of [
      '/i/..%2Fsecret.mrt', // encoded slash (and ..)
      '/i/a%2fb.mrt',
      '/i/a%5Cb.mrt', // encoded backslash
      '/i/a%01b.mrt', // control character
      '/i/a%7Fb.mrt',
      '/i/a%0Ab.mrt',
      '/i/a//b.mrt', // empty segment
      `/i/${long}.mrt`, // > 1 KiB
      `/i/${'%C3%A9'.repeat(520)}.mrt`, // > 1 KiB of UTF-8
      '/i/bad%ZZ.mrt', // invalid percent-encoding
      '/i/bad%C3.mrt', // invalid UTF-8
    ]) {
      const res = await fetchEdge(p);
      expect(res.status, p).toBe(400);
      expect((await errorBody(res)).error, p).toBe('bad-key');
    }
  });

  it('dot segments never reach R2 (URL normalisation or 400)', async () => {
    const res = await fetchEdge('/i/err/%2e%2e/ok.mrt');
    expect([400, 404]).toContain(res.status);
    await errorBody(res);
  });

  it('a 1 KiB key is still fine (404, not 400)', async () => {
    const res = await fetchEdge(`/i/${'k'.repeat(1020)}.mrt`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });

  it('unsupported methods → 405 JSON with Allow', async () => {
    const res = await fetchEdge('/i/err/ok.mrt', { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('GET');
    await errorBody(res);
  });
});

describe('corrupt objects (never a 5xx: the request is fine, the stored object is not)', () => {
  const corrupt = async (key: string, bytes: Uint8Array) => {
    await env.IMAGES.put(key, bytes);
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const [path, method] of [[`/i/${key}?q=2`, 'GET'], [`/i/${key}`, 'GET'], [`/i/${key}`, 'HEAD']] as const) {
      const res = await fetchEdge(path, { method, headers: path.includes('?') ? {} : { Range: 'bytes=0-9' } });
      expect(res.status, `${method} ${path}`).toBe(409);
      if (method === 'HEAD') continue;
      expect(res.headers.get('cache-control')).toBe('no-store');
      const j = await errorBody(res);
      expect(j.error).toBe('corrupt-object');
      expect(j.detail).toContain(key);
    }
    expect(spy.mock.calls.some((c) => String(c[0]).includes(key))).toBe(true);
    const res = await fetchEdge(`/i/${key}?q=2`);
    return errorBody(res);
  };

  it('not an .mrt at all → 409 with the reason and a log line', async () => {
    const j = await corrupt('err/garbage.mrt', new TextEncoder().encode('<html>hello</html>'));
    expect(j.detail).toContain('magic');
  });

  it('a zero-byte object → 409, not a 500 with an internal message', async () => {
    const j = await corrupt('err/empty.mrt', new Uint8Array(0));
    expect(j.detail).toMatch(/empty \(0 bytes\)/);
  });

  it('one byte, or a bare preamble → 409', async () => {
    await corrupt('err/one.mrt', Uint8Array.of(0x4d));
    await corrupt('err/preamble.mrt', fx.bytes.subarray(0, 5));
  });

  it('truncated object (header promises more bytes) → 409, never a short 200', async () => {
    const j = await corrupt('err/trunc.mrt', fx.bytes.subarray(0, fx.info.chunkEnds[1]! + 3));
    expect(j.detail).toMatch(/announces \d+ bytes/);
  });

  it('object ending inside the header → 409', async () => {
    await corrupt('err/trunc-header.mrt', fx.bytes.subarray(0, 20));
  });

  it('trailing garbage after the stream → 409', async () => {
    const padded = new Uint8Array(fx.bytes.length + 10);
    padded.set(fx.bytes);
    await corrupt('err/padded.mrt', padded);
  });

  it('a bit-flipped header → 409', async () => {
    const b = fx.bytes.slice();
    b[3] = 9; // major version
    const j = await corrupt('err/version.mrt', b);
    expect(j.detail).toContain('version');
  });

  it('an object past the size rule (stored behind the edge) → 409 naming the limit', async () => {
    const j = await corrupt('err/huge.mrt', claimStream(5792, 5792));
    expect(j.detail).toMatch(/5792x5792 .* exceeds the size limit/);
  });

  it('random bytes of many lengths never give a 5xx', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let seedv = 7;
    const rnd = () => (seedv = (seedv * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const n of [2, 3, 4, 6, 9, 17, 64, 300, 5000]) {
      const b = Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
      if (n > 5 && rnd() < 0.5) b.set([0x4d, 0x52, 0x54, 2, 10]);
      await env.IMAGES.put(`err/rnd${n}.mrt`, b);
      const res = await fetchEdge(`/i/err/rnd${n}.mrt`);
      expect(res.status, `${n} bytes`).toBeLessThan(500);
      await res.arrayBuffer();
    }
    spy.mockRestore();
  });
});

describe('uploads (PUT / DELETE)', () => {
  const put = (key: string, body: BodyInit | Uint8Array | null, token: string | null = TOKEN, headers: Record<string, string> = {}) =>
    fetchEdge(`/i/${key}`, {
      method: 'PUT',
      body: body as BodyInit | null,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    });

  it('no token or a wrong token → 401 with WWW-Authenticate', async () => {
    for (const t of [null, 'wrong', `${TOKEN}x`]) {
      const res = await put('up/a.mrt', fx.bytes, t);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect((await errorBody(res)).error).toBe('unauthorized');
    }
    expect(await env.IMAGES.head('up/a.mrt')).toBeNull();
  });

  it('a valid .mrt → 201, then served; again → 200 (overwrite)', async () => {
    const res = await put('up/a.mrt', fx.bytes);
    expect(res.status).toBe(201);
    const j = (await res.json()) as { bytes: number; chunks: number; sha256: string };
    expect(j.bytes).toBe(fx.bytes.length);
    expect(j.chunks).toBe(4);
    const got = await fetchEdge('/i/up/a.mrt');
    expect(same(await bytesOf(got), fx.bytes)).toBe(true);
    // uploaded objects carry a sha256 used as the content ETag
    expect(got.headers.get('etag')).toBe(`"sha256-${j.sha256.slice(0, 32)}"`);
    const again = await put('up/a.mrt', fx.bytes);
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  });

  it('broken bodies → 422 and the stored object is unchanged', async () => {
    await put('up/keep.mrt', fx.bytes).then((r) => r.arrayBuffer());
    const flipped = fx.bytes.slice();
    flipped[fx.info.chunkEnds[1]! - 2]! ^= 0x40; // inside chunk 1: CRC must catch it
    const bad = [
      new TextEncoder().encode('not an mrt'),
      fx.bytes.subarray(0, fx.info.chunkEnds[2]! - 1), // truncated inside a chunk
      flipped,
      (() => {
        const p = new Uint8Array(fx.bytes.length + 1);
        p.set(fx.bytes);
        return p;
      })(),
    ];
    for (const b of bad) {
      const res = await put('up/keep.mrt', b);
      expect(res.status).toBe(422);
      expect((await errorBody(res)).error).toBe('invalid-mrt');
    }
    const still = await fetchEdge('/i/up/keep.mrt');
    expect(same(await bytesOf(still), fx.bytes)).toBe(true);
  });

  it('empty body → 400; declared length over the upload limit → 413 before the body is read', async () => {
    const e = await put('up/e.mrt', new Uint8Array(0));
    expect(e.status).toBe(400);
    await errorBody(e);
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulls++;
        c.enqueue(fx.bytes.slice());
      },
    });
    const app = new Hono<{ Bindings: typeof env }>();
    app.route('/', createMrtApp());
    const res = await app.request('http://x/i/up/big.mrt', {
      method: 'PUT', body, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Length': String(2 ** 29) }, duplex: 'half',
    } as RequestInit, env);
    expect(res.status).toBe(413);
    expect((await errorBody(res)).error).toBe('too-large');
    expect(pulls).toBeLessThanOrEqual(1);
    expect(await env.IMAGES.head('up/big.mrt')).toBeNull();
  });

  it('a stream past the size rule → 413 naming the limit, nothing stored', async () => {
    for (const [key, bytes, why] of [
      ['up/claim.mrt', claimStream(5792, 5792), /5792x5792 .* exceeds the size limit/],
      ['up/tokens.mrt', claimStream(1024, 1024, { tokens: 4096 }), /more than MAX_TOKENS/],
    ] as const) {
      const res = await put(key, bytes);
      expect(res.status, key).toBe(413);
      const j = await errorBody(res);
      expect(j.error).toBe('too-large');
      expect(j.detail).toMatch(why);
      expect(await env.IMAGES.head(key)).toBeNull();
    }
  });

  it('a header announcing more than the upload limit → 413 after reading only the header', async () => {
    const app = new Hono<{ Bindings: typeof env }>();
    app.route('/', createMrtApp({ maxUploadBytes: fx.bytes.length - 1 }));
    const parts = [fx.bytes.subarray(0, fx.info.headerEnd), ...Array.from({ length: 20 }, (_, k) => fx.bytes.subarray(fx.info.headerEnd).subarray(k * 40, k * 40 + 40))];
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const p = parts[pulls++];
        if (p) c.enqueue(p.slice());
        else c.close();
      },
    });
    const res = await app.request('http://x/i/up/announce.mrt', { method: 'PUT', body, headers: { Authorization: `Bearer ${TOKEN}` }, duplex: 'half' } as RequestInit, env);
    expect(res.status).toBe(413);
    expect((await errorBody(res)).detail).toMatch(new RegExp(`header announces ${fx.bytes.length} bytes`));
    expect(pulls).toBeLessThanOrEqual(2);
  });

  it('a body longer or shorter than its header announces → 422, nothing stored', async () => {
    const longer = new Uint8Array(fx.bytes.length + 3);
    longer.set(fx.bytes);
    const shorter = fx.bytes.subarray(0, fx.bytes.length - 1);
    // with a Content-Length: refused before the rest is read
    for (const b of [longer, shorter]) {
      const res = await put('up/len.mrt', b);
      expect(res.status).toBe(422);
      expect((await errorBody(res)).detail).toMatch(/body of \d+ bytes, the header announces \d+/);
    }
    // streamed without one: found while reading
    const app = new Hono<{ Bindings: typeof env }>();
    app.route('/', createMrtApp());
    for (const [b, why] of [[longer, /bytes after the end of the stream/], [shorter, /body ends after \d+ bytes, the header announces \d+/]] as const) {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < b.length; i += 100) c.enqueue(b.slice(i, i + 100));
          c.close();
        },
      });
      const res = await app.request('http://x/i/up/len.mrt', { method: 'PUT', body, headers: { Authorization: `Bearer ${TOKEN}` }, duplex: 'half' } as RequestInit, env);
      expect(res.status).toBe(422);
      expect((await errorBody(res)).detail).toMatch(why);
    }
    expect(await env.IMAGES.head('up/len.mrt')).toBeNull();
  });

  it('uploads disabled (no token configured) → 403 for PUT and DELETE, nothing stored or deleted', async () => {
    const app = new Hono<{ Bindings: typeof env }>();
    app.route('/', createMrtApp({ uploadToken: () => undefined }));
    const res = await app.request('http://x/i/up/off.mrt', { method: 'PUT', body: fx.bytes as BodyInit, headers: { Authorization: `Bearer ${TOKEN}` } }, env);
    expect(res.status).toBe(403);
    expect((await errorBody(res)).error).toBe('uploads-disabled');
    expect(await env.IMAGES.head('up/off.mrt')).toBeNull();
    await env.IMAGES.put('up/keep-off.mrt', fx.bytes);
    const del = await app.request('http://x/i/up/keep-off.mrt', { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } }, env);
    expect(del.status).toBe(403);
    expect((await errorBody(del)).error).toBe('uploads-disabled');
    expect(await env.IMAGES.head('up/keep-off.mrt')).not.toBeNull();
  });

  it('PUT to a malformed key → 400 before auth is even considered', async () => {
    const res = await put('up/a%2Fb.mrt', fx.bytes);
    expect(res.status).toBe(400);
    await errorBody(res);
  });

  it('DELETE needs the token; then the key is gone (404), deleting again → 404', async () => {
    await put('up/del.mrt', fx.bytes).then((r) => r.arrayBuffer());
    await fetchEdge('/i/up/del.mrt').then((r) => r.arrayBuffer()); // warm the header cache
    const noauth = await fetchEdge('/i/up/del.mrt', { method: 'DELETE' });
    expect(noauth.status).toBe(401);
    await noauth.arrayBuffer();
    const res = await fetchEdge('/i/up/del.mrt', { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(204);
    const gone = await fetchEdge('/i/up/del.mrt');
    expect(gone.status).toBe(404);
    await errorBody(gone);
    const again = await fetchEdge('/i/up/del.mrt', { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(again.status).toBe(404);
    await again.arrayBuffer();
  });

  it('an overwrite through PUT is visible at once (header cache invalidated)', async () => {
    const other = makeMrt({ chunks: 3, sizes: [50, 60, 70] });
    await put('up/swap.mrt', fx.bytes).then((r) => r.arrayBuffer());
    await fetchEdge('/i/up/swap.mrt?q=1').then((r) => r.arrayBuffer());
    await put('up/swap.mrt', other.bytes).then((r) => r.arrayBuffer());
    const res = await fetchEdge('/i/up/swap.mrt');
    expect(same(await bytesOf(res), other.bytes)).toBe(true);
    expect(res.headers.get('x-mrt-total-chunks')).toBe('3');
  });

  it('an object replaced behind our back is detected by its etag, not served stale-mixed', async () => {
    const other = makeMrt({ chunks: 5, sizes: [40, 41, 42, 43, 44] });
    await env.IMAGES.put('up/behind.mrt', fx.bytes);
    await fetchEdge('/i/up/behind.mrt?q=1', { method: 'HEAD' }); // header cached
    await env.IMAGES.put('up/behind.mrt', other.bytes);
    const res = await fetchEdge('/i/up/behind.mrt?q=9');
    const body = await bytesOf(res);
    expect(res.status).toBe(200);
    expect(same(body, other.bytes)).toBe(true);
  });
});
