// No 5xx for any client input: random keys, queries, ranges, hints and methods.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { rng } from '../codec/fixtures.ts';
import { mutate, type Base } from '../format/fuzz-core.ts';
import { makeMrt } from './fixtures.ts';
import { fetchEdge, seed } from './helpers.ts';

const fx = makeMrt({ chunks: 5, final: 500 });
beforeAll(async () => {
  await seed('fz/a.mrt', fx);
  await env.IMAGES.put('_assets/big.wasm', new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
});

let s = 0x9e3779b9;
const rnd = (n: number) => {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return (s >>> 0) % n;
};
const pick = <T,>(xs: readonly T[]): T => xs[rnd(xs.length)]!;

// the valid key four times: enough requests reach it to see its successes and range errors
const KEYS = ['fz/a.mrt', 'fz/a.mrt', 'fz/a.mrt', 'fz/a.mrt', 'fz/none.mrt', '%2e%2e/x.mrt', 'a%2Fb.mrt', '%00.mrt', 'a%ZZ.mrt', 'fz//a.mrt', '.mrt', 'fz/a.MRT', '%F0%9F%98%80.mrt', 'fz/a.mrt/', 'x'.repeat(1030) + '.mrt', 'fz/%E2%80%AE.mrt'];
const QUERIES = ['', '?q=0', '?q=3', '?q=99999', '?q=-1', '?q=1.5', '?bytes=0', '?bytes=123', '?bytes=1e9', '?bytes=%00', '?bytes=18446744073709551616', '?q=1&bytes=1', '?plain', '?bytes=', '?q=abc&x=%ZZ'];
const RANGES = [null, 'bytes=0-0', 'bytes=0-', 'bytes=-1', 'bytes=-0', 'bytes=5-2', 'bytes=999999-', 'bytes=0-1,2-3', 'bytes=a-b', 'bytes=--', 'bytes 0-5', 'lines=1-2', 'bytes=00000000000000000001-2', 'bytes=0-99999999999999999999', 'bytes=99999999999999999999-', 'bytes=0-1,x'];
const HINTS: Record<string, string>[] = [{}, { 'Save-Data': 'on' }, { ECT: '2g' }, { ECT: '"4g"' }, { Downlink: '0' }, { Downlink: '1e309' }, { RTT: '99999999' }, { DPR: '0' }, { 'Sec-CH-Width': '-5' }, { 'Viewport-Width': '0.0001', DPR: '1000000' }, { 'If-None-Match': '*' }, { 'If-None-Match': 'garbage' }, { 'If-Range': 'Wed, 21 Oct 2015 07:28:00 GMT' }];
const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PATCH', 'PUT', 'DELETE'];

describe('random client input', () => {
  it('400 random requests: never a 5xx, errors are JSON', async () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const headers: Record<string, string> = { ...pick(HINTS) };
      const r = pick(RANGES);
      if (r) headers.Range = r;
      const method = pick(METHODS);
      if ((method === 'PUT' || method === 'DELETE') && rnd(2)) headers.Authorization = pick(['Bearer x', 'Basic abc', 'Bearer test-upload-token']);
      const body = method === 'PUT' || method === 'POST' ? pick([new Uint8Array([1, 2, 3]), fx.bytes.subarray(0, rnd(fx.bytes.length))]) : undefined;
      const path = `/i/${pick(KEYS)}${pick(QUERIES)}`;
      const res = await fetchEdge(path, { method, headers, body: body as BodyInit | undefined });
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      // a DELETE with the token removes the one valid object: put it back so later requests still reach it
      if (res.status === 204 && method === 'DELETE') await seed('fz/a.mrt', fx);
      expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBeLessThan(500);
      if (res.status >= 400 && method !== 'HEAD') {
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        const j = (await res.json()) as { error: string; detail: string };
        expect(j.error && j.detail).toBeTruthy();
      } else {
        await res.arrayBuffer();
      }
    }
    // the mix really exercised successes and several error classes
    for (const code of [200, 206, 400, 404, 416]) expect(seen.has(code), `status ${code}`).toBe(true);
  });
});

describe('stored objects, whatever their bytes', () => {
  it('60 mutated .mrt objects written to R2 behind the edge: never a 5xx, errors are JSON', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const info = fx.info;
    const messages: [number, number][] = [[0, 5], [5, info.firstPaintEnd], [info.firstPaintEnd, info.headerEnd]];
    let prev = info.headerEnd;
    for (const e of [...info.chunkEnds, ...(info.finalEnd ? [info.finalEnd] : [])]) {
      messages.push([prev, e]);
      prev = e;
    }
    const base: Base = { name: 'fixture', bytes: fx.bytes, tokens: new Uint8Array(0), rcm: null, messages };
    const r = rng(20261206);
    const seen = new Map<number, number>();
    for (let i = 0; i < 60; i++) {
      let b = fx.bytes;
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) b = mutate(b, base, base, r);
      const key = `fz/stored-${i}.mrt`;
      await env.IMAGES.put(key, b);
      const headers: Record<string, string> = {};
      const rg = pick(RANGES);
      if (rg) headers.Range = rg;
      const method = pick(['GET', 'GET', 'HEAD']);
      const res = await fetchEdge(`/i/${key}${pick(['', '?q=1', '?bytes=300', '?q=99'])}`, { method, headers });
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      expect(res.status, `${key} (${b.length} B) ${JSON.stringify(headers)}`).toBeLessThan(500);
      if (res.status >= 400 && method !== 'HEAD') expect(((await res.json()) as { error: string }).error).toBeTruthy();
      else await res.arrayBuffer();
    }
    spy.mockRestore();
    // both valid and corrupt objects were among them
    expect(seen.has(409) && [...seen.keys()].some((c) => c < 300)).toBe(true);
  });
});

describe('oversized client assets from R2', () => {
  it('GET /big.wasm is served from R2 _assets/ with its MIME type', async () => {
    const res = await fetchEdge('/big.wasm');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await res.arrayBuffer()).length).toBe(8);
  });
  it('only plain file names; traversal and other extensions → 404', async () => {
    for (const p of ['/..%2F_assets/big.wasm', '/a%2Fbig.wasm', '/big.wasm.txt', '/.big.wasm', '/_assets/big.wasm']) {
      const res = await fetchEdge(p);
      expect(res.status, p).toBe(404);
      await res.arrayBuffer();
    }
  });
});
