// Range, HEAD, conditional requests, caching headers, CORS.
// Shared by the Workers project (test/edge/http.test.ts: workerd, local R2, Cache API) and
// Node (test/node/edge-fs.test.ts: @hono/node-server, the filesystem store).
import { beforeAll, describe, expect, it } from 'vitest';
import { makeMrt } from './fixtures.ts';
import { bytesOf, errorBody, same, type EdgeHarness } from './harness.ts';

export function httpTests(harness: EdgeHarness): void {
  const { fetchEdge, seed } = harness;

  const fx = makeMrt({ chunks: 6, final: 1000 });
  const total = fx.bytes.length;
  const ends = fx.info.chunkEnds;
  const HASHED = 'http/kodim01.3f2a9c1d.mrt';

  const noFinal = makeMrt({ chunks: 3 });
  const wrong = makeMrt({ chunks: 3, final: 600, wrongSizes: true });

  beforeAll(async () => {
    await seed('http/a.mrt', fx);
    await seed(HASHED, fx);
    await seed('http/no-final.mrt', noFinal);
    await seed('http/wrong-sizes.mrt', wrong);
  });

  const range = (r: string, path = '/i/http/a.mrt', extra: Record<string, string> = {}) =>
    fetchEdge(path, { headers: { Range: r, ...extra } });

  describe('Range requests', () => {
    it('bytes=a-b → 206 with Content-Range', async () => {
      const res = await range('bytes=10-109');
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes 10-109/${total}`);
      expect(res.headers.get('content-length')).toBe('100');
      expect(same(await bytesOf(res), fx.bytes.subarray(10, 110))).toBe(true);
    });

    it('bytes=a- → the rest of the stream ("refine on demand")', async () => {
      const res = await range(`bytes=${ends[2]}-`);
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${ends[2]}-${total - 1}/${total}`);
      expect(same(await bytesOf(res), fx.bytes.subarray(ends[2]!))).toBe(true);
    });

    it('bytes=-n → the last n bytes', async () => {
      const res = await range('bytes=-300');
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${total - 300}-${total - 1}/${total}`);
      expect(same(await bytesOf(res), fx.bytes.subarray(total - 300))).toBe(true);
    });

    it('end past the length is clamped; suffix longer than the length gives everything', async () => {
      const a = await range(`bytes=5-${total + 1000}`);
      expect(a.status).toBe(206);
      expect(a.headers.get('content-range')).toBe(`bytes 5-${total - 1}/${total}`);
      await a.arrayBuffer();
      const b = await range(`bytes=-${total * 2}`);
      expect(b.status).toBe(206);
      expect(same(await bytesOf(b), fx.bytes)).toBe(true);
    });

    it('a Range on a prefix URL addresses the prefix representation', async () => {
      const res = await range('bytes=0-', `/i/http/a.mrt?q=2`);
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes 0-${ends[1]! - 1}/${ends[1]}`);
      expect(res.headers.get('x-mrt-total-length')).toBe(String(total));
      expect((await bytesOf(res)).length).toBe(ends[1]);
    });

    it('an end of 17 or more digits is the end of the object (as 16 digits)', async () => {
      for (const digits of [16, 17, 40]) {
        const res = await range(`bytes=5-${'9'.repeat(digits)}`);
        expect(res.status, `${digits} digits`).toBe(206);
        expect(res.headers.get('content-range')).toBe(`bytes 5-${total - 1}/${total}`);
        expect(same(await bytesOf(res), fx.bytes.subarray(5))).toBe(true);
      }
    });

    it('several ranges, one satisfiable → 200 with the whole representation (Range ignored, RFC 9110 §14.2)', async () => {
      for (const r of ['bytes=1-2,5-6', `bytes=0-0,${total + 5}-`, 'bytes=-10, 0-3']) {
        const res = await range(r);
        expect(res.status, r).toBe(200);
        expect(res.headers.get('content-range')).toBeNull();
        expect(same(await bytesOf(res), fx.bytes)).toBe(true);
      }
      const q = await range('bytes=0-1,5-6', '/i/http/a.mrt?q=2');
      expect(q.status).toBe(200);
      expect((await bytesOf(q)).length).toBe(ends[1]);
    });

    it('unsatisfiable / malformed ranges → 416 JSON with Content-Range: bytes */len', async () => {
      for (const r of [`bytes=${total}-`, `bytes=${total + 5}-${total + 9}`, `bytes=${total}-,${total + 1}-`, 'bytes=-0', 'bytes=9-3', 'bytes=abc', 'bytes=1-2,x', 'bytes=', 'bytes', 'bytes=--1', `bytes=${'9'.repeat(17)}-`]) {
        const res = await range(r);
        expect(res.status, r).toBe(416);
        expect(res.headers.get('content-range'), r).toBe(`bytes */${total}`);
        expect((await errorBody(res)).error).toBe('range-not-satisfiable');
      }
    });

    it('a non-bytes unit is ignored → 200', async () => {
      const res = await range('items=0-5');
      expect(res.status).toBe(200);
      expect((await bytesOf(res)).length).toBe(total);
    });

    it('If-Range with the current ETag → 206; with another ETag → 200 full', async () => {
      const etag = (await fetchEdge('/i/http/a.mrt', { method: 'HEAD' })).headers.get('etag')!;
      const a = await range('bytes=0-9', '/i/http/a.mrt', { 'If-Range': etag });
      expect(a.status).toBe(206);
      await a.arrayBuffer();
      const b = await range('bytes=0-9', '/i/http/a.mrt', { 'If-Range': '"other"' });
      expect(b.status).toBe(200);
      expect((await bytesOf(b)).length).toBe(total);
    });

    // the Cache API exists on Workers only: these two are not part of the Node run at all
    if (harness.cacheApi) it('206s are served from the cached full 200 once it is in the Cache API', async () => {
      await seed('http/cached.mrt', fx);
      const first = await range('bytes=100-199', '/i/http/cached.mrt?q=9');
      expect(first.status).toBe(206);
      expect(first.headers.get('x-mrt-cache')).toBe('miss');
      await first.arrayBuffer();
      let hit = '';
      for (let i = 0; i < 20 && hit !== 'hit'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const again = await range('bytes=200-299', '/i/http/cached.mrt?q=9');
        expect(again.status).toBe(206);
        expect(again.headers.get('content-range')).toBe(`bytes 200-299/${total}`);
        expect(same(await bytesOf(again), fx.bytes.subarray(200, 300))).toBe(true);
        hit = again.headers.get('x-mrt-cache') ?? '';
      }
      expect(hit).toBe('hit');
    });

    if (harness.cacheApi) it('full 200s are cached too and served identically', async () => {
      await seed('http/cached200.mrt', fx);
      const a = await fetchEdge('/i/http/cached200.mrt?q=3');
      expect(a.headers.get('x-mrt-cache')).toBe('miss');
      const abody = await bytesOf(a);
      let hit = '';
      for (let i = 0; i < 20 && hit !== 'hit'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const b = await fetchEdge('/i/http/cached200.mrt?q=3');
        expect(same(await bytesOf(b), abody)).toBe(true);
        hit = b.headers.get('x-mrt-cache') ?? '';
      }
      expect(hit).toBe('hit');
    });
  });

  describe('HEAD', () => {
    it('HEAD has the GET headers and no body', async () => {
      const res = await fetchEdge('/i/http/a.mrt?q=3', { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(ends[2]));
      expect(res.headers.get('x-mrt-chunks')).toBe('3');
      expect(res.headers.get('etag')).toBeTruthy();
      expect((await bytesOf(res)).length).toBe(0);
    });

    it('HEAD with Range → 206 headers', async () => {
      const res = await fetchEdge('/i/http/a.mrt', { method: 'HEAD', headers: { Range: 'bytes=0-99' } });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes 0-99/${total}`);
    });
  });

  describe('ETag and 304', () => {
    it('strong, stable, content-derived ETags; prefixes get their own', async () => {
      const a = await fetchEdge('/i/http/a.mrt', { method: 'HEAD' });
      const b = await fetchEdge('/i/http/a.mrt', { method: 'HEAD' });
      const p = await fetchEdge('/i/http/a.mrt?q=2', { method: 'HEAD' });
      const h = await fetchEdge(`/i/${HASHED}`, { method: 'HEAD' });
      const e = a.headers.get('etag')!;
      expect(e).toMatch(/^"[0-9a-f]{32}"$/); // R2's md5 of the bytes; the filesystem store's hash of the file version
      expect(b.headers.get('etag')).toBe(e);
      if (harness.contentEtags) expect(h.headers.get('etag')).toBe(e); // same bytes, same ETag, whatever the key
      else expect(h.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
      expect(p.headers.get('etag')).toBe(`"${e.slice(1, -1)}.p${ends[1]}"`);
    });

    it('If-None-Match → 304 (exact, W/, list, *) with ETag and cache headers; mismatch → 200', async () => {
      const etag = (await fetchEdge('/i/http/a.mrt?q=4', { method: 'HEAD' })).headers.get('etag')!;
      for (const inm of [etag, `W/${etag}`, `"x", ${etag}`, '*']) {
        const res = await fetchEdge('/i/http/a.mrt?q=4', { headers: { 'If-None-Match': inm } });
        expect(res.status, inm).toBe(304);
        expect(res.headers.get('etag')).toBe(etag);
        expect(res.headers.get('cache-control')).toMatch(/^public/);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect((await bytesOf(res)).length).toBe(0);
      }
      const miss = await fetchEdge('/i/http/a.mrt?q=4', { headers: { 'If-None-Match': '"nope"' } });
      expect(miss.status).toBe(200);
      await miss.arrayBuffer();
      // the full-object ETag does not validate a prefix
      const full = (await fetchEdge('/i/http/a.mrt', { method: 'HEAD' })).headers.get('etag')!;
      const other = await fetchEdge('/i/http/a.mrt?q=4', { headers: { 'If-None-Match': full } });
      expect(other.status).toBe(200);
      await other.arrayBuffer();
    });
  });

  describe('Cache-Control rule', () => {
    it('content-addressed keys are immutable for a year; others revalidate after 60 s', async () => {
      const imm = await fetchEdge(`/i/${HASHED}?q=2`, { method: 'HEAD' });
      expect(imm.headers.get('cache-control')).toBe('public, max-age=31536000, immutable, no-transform');
      const mut = await fetchEdge('/i/http/a.mrt?q=2', { method: 'HEAD' });
      expect(mut.headers.get('cache-control')).toBe('public, max-age=60, no-transform');
    });

    it('stored bytes are never sniffed or run as a document: nosniff and CSP sandbox on 200, 206, HEAD, 304 and ?plain', async () => {
      const etag = (await fetchEdge('/i/http/a.mrt', { method: 'HEAD' })).headers.get('etag')!;
      const answers = [
        await fetchEdge('/i/http/a.mrt'),
        await fetchEdge('/i/http/a.mrt?q=1'),
        await range('bytes=0-9'),
        await fetchEdge('/i/http/a.mrt', { method: 'HEAD' }),
        await fetchEdge('/i/http/a.mrt', { headers: { 'If-None-Match': etag } }),
        await fetchEdge('/i/http/a.mrt?plain', { headers: { Range: 'bytes=0-9' } }),
      ];
      expect(answers.map((r) => r.status)).toEqual([200, 200, 206, 200, 304, 206]);
      for (const r of answers) {
        expect(r.headers.get('x-content-type-options'), String(r.status)).toBe('nosniff');
        expect(r.headers.get('content-security-policy'), String(r.status)).toBe('sandbox');
        await r.arrayBuffer();
      }
    });

    it('never a Content-Encoding on .mrt, even when the client accepts gzip', async () => {
      const res = await fetchEdge('/i/http/a.mrt', { headers: { 'Accept-Encoding': 'gzip, br' } });
      expect(res.headers.get('content-encoding')).toBeNull();
      expect((await bytesOf(res)).length).toBe(total);
    });
  });

  describe('CORS', () => {
    it('GET exposes the length headers to any origin', async () => {
      const res = await fetchEdge('/i/http/a.mrt?q=1', { headers: { Origin: 'https://example.com' } });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const exp = res.headers.get('access-control-expose-headers')!;
      for (const h of ['Content-Range', 'ETag', 'X-MRT-Total-Length', 'X-MRT-Bytes', 'X-MRT-Chunks', 'X-MRT-Total-Chunks']) {
        expect(exp).toContain(h);
      }
      expect(res.headers.get('vary') ?? '').not.toContain('Origin');
      await res.arrayBuffer();
    });

    it('preflight OPTIONS → 204 allowing Range and the hint headers', async () => {
      const res = await fetchEdge('/i/http/a.mrt', {
        method: 'OPTIONS',
        headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-headers')).toContain('Range');
      expect(res.headers.get('access-control-allow-methods')).toContain('GET');
    });

    it('errors carry CORS headers too', async () => {
      const res = await fetchEdge('/i/http/missing.mrt');
      expect(res.status).toBe(404);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      await res.arrayBuffer();
    });
  });

  describe('parts (?part=placeholder|final)', () => {
    const finalStart = ends.at(-1)!;

    it('the placeholder: its image bytes, type and the geometry to show it, cacheable by URL', async () => {
      const res = await fetchEdge('/i/http/a.mrt?part=placeholder', { headers: { Origin: 'https://example.com' } });
      expect(res.status).toBe(200);
      const ph = fx.info.header.placeholder!;
      expect(res.headers.get('content-type')).toBe(ph.mime);
      expect(same(await bytesOf(res), ph.bytes)).toBe(true);
      expect(res.headers.get('x-mrt-part')).toBe('placeholder');
      expect(res.headers.get('x-mrt-size')).toBe('256x192');
      expect(res.headers.get('x-mrt-image-size')).toBe('256x192');
      expect(res.headers.get('x-mrt-padded-size')).toBe('256x192');
      expect(res.headers.get('x-mrt-final-type')).toBe('image/webp');
      expect(res.headers.get('etag')).toMatch(/\.placeholder"$/);
      expect(res.headers.get('cache-control')).toMatch(/^public/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const exp = res.headers.get('access-control-expose-headers')!;
      for (const h of ['X-MRT-Part', 'X-MRT-Size', 'X-MRT-Image-Size', 'X-MRT-Padded-Size', 'X-MRT-Final-Type']) expect(exp).toContain(h);
    });

    it('the final layer: the image bytes alone, checked, as the stream stores them', async () => {
      const res = await fetchEdge('/i/http/a.mrt?part=final');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/webp');
      const body = await bytesOf(res);
      expect(body.length).toBe(1000);
      expect(body.length).toBeLessThan(total - finalStart);
      expect(res.headers.get('content-length')).toBe('1000');
      expect([...body.subarray(0, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('RIFF');
      const etag = res.headers.get('etag')!;
      expect(etag).toMatch(/\.final"$/);
      const again = await fetchEdge('/i/http/a.mrt?part=final', { headers: { 'If-None-Match': etag } });
      expect(again.status).toBe(304);
      const head = await fetchEdge('/i/http/a.mrt?part=final', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe('1000');
    });

    it('a part the stream lacks → 404; an unknown part or a part with a budget → 400', async () => {
      const none = await fetchEdge('/i/http/no-final.mrt?part=final');
      expect(none.status).toBe(404);
      expect((await errorBody(none)).error).toBe('no-part');
      const ph = await fetchEdge('/i/http/no-final.mrt?part=placeholder');
      expect(ph.status).toBe(200);
      expect(ph.headers.get('x-mrt-final-type')).toBe('none');
      await ph.arrayBuffer();
      for (const q of ['part=tokens', 'part=final&bytes=100', 'part=placeholder&q=1']) {
        const res = await fetchEdge(`/i/http/a.mrt?${q}`);
        expect(res.status, q).toBe(400);
        expect((await errorBody(res)).error).toBe('bad-query');
      }
    });

    it('a part whose image header claims another size than the stream gives it → 409, never sent', async () => {
      for (const part of ['placeholder', 'final']) {
        const res = await fetchEdge(`/i/http/wrong-sizes.mrt?part=${part}`);
        expect(res.status, part).toBe(409);
        const e = await errorBody(res);
        expect(e.error).toBe('corrupt-object');
        expect(e.detail).toContain('the header says');
      }
    });
  });
}
