// Prefix selection: ?bytes, ?q, client hints, default; headers that describe the response.
// Shared by the Workers project (test/edge/select.test.ts: workerd, local R2, Cache API) and
// Node (test/node/edge-fs.test.ts: @hono/node-server, the filesystem store).
import { beforeAll, describe, expect, it } from 'vitest';
import { budgetRung } from '../../src/format/budget.ts';
import { prefixLength } from '../../src/format/index.ts';
import { makeMrt } from './fixtures.ts';
import { bytesOf, errorBody, same, type EdgeHarness } from './harness.ts';

export function selectTests(harness: EdgeHarness): void {
  const { fetchEdge, seed } = harness;

  const fx = makeMrt({ chunks: 8, final: 3000 }); // ~9.5 KB incl. a 3 KB final layer
  const big = makeMrt({ width: 768, height: 512, chunks: 16, sizes: Array.from({ length: 16 }, () => 1500) });
  const msg = makeMrt({ chunks: 8, framing: 'message' }); // 2.0–2.3 chunk framing
  const total = fx.bytes.length;
  const ends = fx.info.chunkEnds;

  beforeAll(async () => {
    await seed('sel/a.mrt', fx);
    await seed('sel/big.mrt', big);
    await seed('sel/msg.mrt', msg);
  });

  describe('default and explicit selection', () => {
    it('default: no query, no hints → the whole stream', async () => {
      const res = await fetchEdge('/i/sel/a.mrt');
      expect(res.status).toBe(200);
      const body = await bytesOf(res);
      expect(same(body, fx.bytes)).toBe(true);
      expect(res.headers.get('content-length')).toBe(String(total));
      expect(res.headers.get('x-mrt-total-length')).toBe(String(total));
      expect(res.headers.get('x-mrt-bytes')).toBe(String(total));
      expect(res.headers.get('x-mrt-chunks')).toBe('8');
      expect(res.headers.get('x-mrt-total-chunks')).toBe('8');
      expect(res.headers.get('x-mrt-final')).toBe('1');
      expect(res.headers.get('x-mrt-selection')).toBe('default');
      expect(res.headers.get('content-type')).toBe('application/vnd.mrt');
      expect(res.headers.get('content-encoding')).toBeNull();
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(res.headers.get('accept-ch')).toContain('Sec-CH-Width');
      expect(res.headers.get('critical-ch')).toContain('ECT');
      // the bare URL's body depends on hints: private + Vary on every hint header read
      expect(res.headers.get('cache-control')).toMatch(/^private/);
      expect(res.headers.get('vary')).toContain('Save-Data');
      expect(res.headers.get('vary')).toContain('Sec-CH-Width');
    });

    it('?bytes=N (raw chunk framing) serves exactly the ladder\'s rung ≥ N (X-MRT-Budget); X-MRT-Chunks counts the whole chunks in them', async () => {
      const n = ends[3]! + 5; // 834: rounded up to 1024, inside chunk 5: a reader decodes its first tokens
      const res = await fetchEdge(`/i/sel/a.mrt?bytes=${n}`);
      expect(res.status).toBe(200);
      const body = await bytesOf(res);
      expect(body.length).toBe(1024);
      expect(same(body, fx.bytes.subarray(0, 1024))).toBe(true);
      expect(res.headers.get('x-mrt-bytes')).toBe('1024');
      expect(res.headers.get('x-mrt-budget')).toBe('1024');
      expect(res.headers.get('access-control-expose-headers')).toContain('X-MRT-Budget');
      expect(res.headers.get('x-mrt-chunks')).toBe('4');
      expect(res.headers.get('x-mrt-final')).toBe('0');
      expect(res.headers.get('x-mrt-selection')).toBe('bytes');
      // URL-keyed: shareable, no Vary
      expect(res.headers.get('vary')).toBeNull();
      expect(res.headers.get('cache-control')).toMatch(/^public, max-age=60/);
      expect(res.headers.get('etag')).toMatch(/^"[^"]+\.p\d+"$/);
    });

    it('?bytes=N (message framing, 2.0–2.3) cuts on the last chunk boundary ≤ its rung', async () => {
      const e = msg.info.chunkEnds;
      expect(budgetRung(e[3]! + 5)).toBeLessThan(e[4]!); // 837 → 1024, chunk 4 ends at 1090
      const res = await fetchEdge(`/i/sel/msg.mrt?bytes=${e[3]! + 5}`);
      expect(res.status).toBe(200);
      const body = await bytesOf(res);
      expect(body.length).toBe(e[3]);
      expect(same(body, msg.bytes.subarray(0, e[3]))).toBe(true);
      expect(res.headers.get('x-mrt-chunks')).toBe('4');
    });

    it('?bytes whose rung ends inside the final layer stops at the last chunk', async () => {
      const res = await fetchEdge(`/i/sel/a.mrt?bytes=3000`); // rung 4096; the final layer spans 2059–5069
      expect((await bytesOf(res)).length).toBe(ends.at(-1));
      expect(res.headers.get('x-mrt-final')).toBe('0');
    });

    it('?bytes on a chunk boundary keeps that chunk (and the rest of its rung)', async () => {
      const res = await fetchEdge(`/i/sel/a.mrt?bytes=${ends[1]}`); // 436 → 512
      expect(res.headers.get('x-mrt-chunks')).toBe('2');
      expect((await bytesOf(res)).length).toBe(512);
    });

    it('every ?bytes= within one rung is the same representation (length, ETag): few cache keys', async () => {
      const seen = new Set<string>();
      for (const b of [1025, 1500, 2000, 2048]) {
        const res = await fetchEdge(`/i/sel/a.mrt?bytes=${b}`, { method: 'HEAD' });
        expect(res.headers.get('x-mrt-budget')).toBe('2048');
        expect(res.headers.get('content-length')).toBe('2048');
        seen.add(res.headers.get('etag')!);
      }
      expect(seen.size).toBe(1);
      // a rung at or past the stream's length is the whole stream
      const whole = await fetchEdge(`/i/sel/a.mrt?bytes=${total - 10}`, { method: 'HEAD' });
      expect(whole.headers.get('content-length')).toBe(String(total));
      expect(whole.headers.get('x-mrt-budget')).toBe('8192');
    });

    it('?bytes below the first chunk → header (with placeholder) only', async () => {
      const res = await fetchEdge('/i/sel/a.mrt?bytes=0');
      expect(res.status).toBe(200);
      expect((await bytesOf(res)).length).toBe(fx.info.headerEnd);
      expect(res.headers.get('x-mrt-chunks')).toBe('0');
    });

    it('?bytes beyond the stream → the whole stream, same ETag as the full object', async () => {
      const full = await fetchEdge('/i/sel/a.mrt?bytes=999999999');
      expect((await bytesOf(full)).length).toBe(total);
      const plain = await fetchEdge('/i/sel/a.mrt');
      await plain.arrayBuffer();
      expect(full.headers.get('etag')).toBe(plain.headers.get('etag'));
      expect(full.headers.get('etag')).not.toContain('.p');
    });

    it('?q=k is the number of chunks; q = count+1 adds the final layer; q=0 is header only', async () => {
      for (const [q, len, chunks] of [
        [0, fx.info.headerEnd, 0],
        [1, ends[0], 1],
        [5, ends[4], 5],
        [8, ends[7], 8],
        [9, total, 8],
        [1000, total, 8],
      ] as const) {
        const res = await fetchEdge(`/i/sel/a.mrt?q=${q}`);
        expect(res.status).toBe(200);
        expect((await bytesOf(res)).length).toBe(len);
        expect(res.headers.get('x-mrt-chunks')).toBe(String(chunks));
        expect(res.headers.get('x-mrt-selection')).toBe('q');
        expect(res.headers.get('x-mrt-final')).toBe(q >= 9 ? '1' : '0');
      }
    });

    it('explicit ?q / ?bytes win over client hints', async () => {
      const res = await fetchEdge('/i/sel/a.mrt?q=6', { headers: { 'Save-Data': 'on', ECT: 'slow-2g' } });
      expect(res.headers.get('x-mrt-chunks')).toBe('6');
      expect(res.headers.get('vary')).toBeNull();
      await res.arrayBuffer();
    });

    it('bad ?bytes / ?q → 400 JSON', async () => {
      for (const qs of ['bytes=abc', 'bytes=-1', 'bytes=1.5', 'bytes=1e3', 'bytes=', 'q=x', 'q=-2', 'bytes=99999999999999999999', 'bytes=10&q=2']) {
        const res = await fetchEdge(`/i/sel/a.mrt?${qs}`);
        expect(res.status, qs).toBe(400);
        const j = await errorBody(res);
        expect(j.error).toBe('bad-query');
      }
    });
  });

  describe('client hints', () => {
    const hinted = async (headers: Record<string, string>, key = 'sel/big.mrt') => {
      const res = await fetchEdge(`/i/${key}`, { headers });
      expect(res.status).toBe(200);
      const body = await bytesOf(res);
      expect(Number(res.headers.get('x-mrt-bytes'))).toBe(body.length);
      return { res, n: body.length, chunks: Number(res.headers.get('x-mrt-chunks')) };
    };
    const bigTotal = big.bytes.length;

    it('Save-Data: on → a shorter prefix, with Content-Location', async () => {
      const { res, n } = await hinted({ 'Save-Data': 'on' });
      expect(n).toBeLessThan(bigTotal);
      expect(n).toBeGreaterThan(big.info.chunkEnds[0]!);
      expect(res.headers.get('x-mrt-selection')).toContain('save-data');
      // rounded up to the ladder; the URL-keyed equivalent names the rung
      const rung = Number(res.headers.get('x-mrt-budget'));
      expect(rung).toBe(budgetRung(rung));
      expect(n).toBe(prefixLength(big.info, { bytes: rung }));
      expect(res.headers.get('content-location')).toBe(`/i/sel/big.mrt?bytes=${rung}`);
      expect(res.headers.get('cache-control')).toMatch(/^private/);
    });

    it('ECT orders budgets: slow-2g ≤ 2g ≤ 3g < 4g = whole', async () => {
      const a = await hinted({ ECT: 'slow-2g' });
      const b = await hinted({ ECT: '2g' });
      const c = await hinted({ ECT: '3g' });
      const d = await hinted({ ECT: '4g' });
      expect(a.n).toBeLessThanOrEqual(b.n);
      expect(b.n).toBeLessThanOrEqual(c.n);
      expect(c.n).toBeLessThan(d.n);
      expect(d.n).toBe(bigTotal);
      expect(d.res.headers.get('x-mrt-selection')).toBe('default');
    });

    it('Downlink + RTT cap the bytes to about one second of transfer', async () => {
      const { n, res } = await hinted({ Downlink: '0.1', RTT: '300' }); // 12.5 KB/s * 0.7 s = 8750 B, rounded up to 16 Ki
      expect(res.headers.get('x-mrt-budget')).toBe('16384');
      expect(n).toBe(16384);
      expect(res.headers.get('x-mrt-selection')).toContain('downlink=0.1');
    });

    it('a high RTT alone counts as 3g', async () => {
      const rtt = await hinted({ RTT: '900' });
      const g3 = await hinted({ ECT: '3g' });
      expect(rtt.n).toBe(g3.n);
    });

    it('Sec-CH-Width / Width (device px) smaller than the image → fewer chunks', async () => {
      const half = await hinted({ 'Sec-CH-Width': '384' });
      const quarter = await hinted({ Width: '192' });
      const wide = await hinted({ 'Sec-CH-Width': '2000' });
      expect(half.n).toBeLessThan(bigTotal);
      expect(quarter.n).toBeLessThanOrEqual(half.n);
      expect(wide.n).toBe(bigTotal);
    });

    it('Viewport-Width × DPR is the fallback display width; DPR alone changes nothing', async () => {
      const vw = await hinted({ 'Viewport-Width': '200', DPR: '2' }); // 400 device px
      const w = await hinted({ 'Sec-CH-Width': '400' });
      expect(vw.n).toBe(w.n);
      const dpr = await hinted({ 'Sec-CH-DPR': '3' });
      expect(dpr.n).toBe(bigTotal);
    });

    it('hinted prefixes never drop below the first chunk', async () => {
      const { chunks } = await hinted({ 'Save-Data': 'on', ECT: 'slow-2g', Width: '8' });
      expect(chunks).toBeGreaterThanOrEqual(1);
    });

    it('malformed hints are ignored, never an error', async () => {
      const { n } = await hinted({ ECT: 'warp-9', Downlink: 'fast', RTT: '-5', Width: '1e9', DPR: 'x' });
      expect(n).toBe(bigTotal);
    });

    it('refine on demand: after a hinted prefix of N bytes, Range bytes=N- on the same URL gives the rest', async () => {
      const { n } = await hinted({ ECT: '2g' });
      expect(n).toBeLessThan(bigTotal);
      const rest = await fetchEdge('/i/sel/big.mrt', { headers: { ECT: '2g', Range: `bytes=${n}-` } });
      expect(rest.status).toBe(206);
      expect(rest.headers.get('content-range')).toBe(`bytes ${n}-${bigTotal - 1}/${bigTotal}`);
      expect(rest.headers.get('x-mrt-selection')).toBe('range');
      expect(same(await bytesOf(rest), big.bytes.subarray(n))).toBe(true);
    });

    it('the hinted response equals the URL-keyed prefix it names', async () => {
      const { res } = await hinted({ ECT: '3g' });
      const loc = res.headers.get('content-location')!;
      const keyed = await fetchEdge(loc);
      expect(keyed.headers.get('etag')).toBe(res.headers.get('etag'));
      expect(keyed.headers.get('cache-control')).toMatch(/^public/);
      await keyed.arrayBuffer();
    });
  });

  describe('prefixLength is the shared cut rule', () => {
    it('edge cuts equal prefixLength of the budget\'s rung for every byte budget', async () => {
      for (const b of [0, 1, 255, 256, 257, ends[0]! - 1, ends[0]!, ends[2]! + 1, ends[7]!, total - 1]) {
        const res = await fetchEdge(`/i/sel/a.mrt?bytes=${b}`, { method: 'HEAD' });
        expect(Number(res.headers.get('content-length'))).toBe(prefixLength(fx.info, { bytes: budgetRung(b) }));
      }
    });
  });
}
